"""Kafka ``UpdateConnectivity`` and ``GetBootstrapBrokers``.

AWS: ``UpdateConnectivity`` (``PUT /v1/clusters/{clusterArn}/connectivity``) takes the
cluster's ``currentVersion`` and ``connectivityInfo.publicAccess.type``
(``SERVICE_PROVIDED_EIPS`` or ``DISABLED``). It fails with ``BadRequestException`` when
the version is not the current one, when the cluster is not ``ACTIVE``, and, to turn
public access on, unless unauthenticated access is off, encryption in transit between
clients and brokers is TLS only, and IAM, SASL/SCRAM or TLS client authentication is on.
It answers ``clusterArn`` and ``clusterOperationArn``; the cluster is ``UPDATING`` until
the change is applied, with a new ``currentVersion``, and its
``brokerNodeGroupInfo.connectivityInfo.publicAccess.type`` shows the new setting.
``GetBootstrapBrokers`` (``GET /v1/clusters/{clusterArn}/bootstrap-brokers``) lists one
``host:port`` per broker for each enabled listener: plaintext 9092, TLS 9094, SASL/SCRAM
9096 and IAM 9098, and with public access on, public TLS 9194, SASL/SCRAM 9196 and IAM
9198.

moto 5.2.5 implements neither: both answer HTTP 500.

The patch implements both on moto's cluster records. The change is applied when the
``UPDATING`` transition completes (see ``kafka_cluster_lifecycle``). Not modelled: the
cluster operation itself (``DescribeClusterOperation``), and the check of the cluster
configuration's ``allow.everyone.if.no.acl.found``.
"""

import json
import uuid
from typing import Any
from urllib.parse import unquote

from moto.kafka.exceptions import BadRequestException
from moto.kafka.models import FakeKafkaCluster
from moto.kafka.responses import KafkaResponse

from .kafka_cluster_lifecycle import begin_transition, find_cluster

PUBLIC_ACCESS_TYPES = ("SERVICE_PROVIDED_EIPS", "DISABLED")


def _public_access_type(cluster: FakeKafkaCluster) -> str:
    info = cluster.broker_node_group_info or {}
    return info.get("connectivityInfo", {}).get("publicAccess", {}).get("type", "DISABLED")


def _enabled(section: Any, key: str) -> bool:
    return isinstance(section, dict) and bool(section.get(key, {}).get("enabled"))


def _public_access_forbidden_because(cluster: FakeKafkaCluster) -> str | None:
    auth = cluster.client_authentication or {}
    sasl = auth.get("sasl", {})
    if _enabled(auth, "unauthenticated"):
        return "unauthenticated access is enabled"
    in_transit = (cluster.encryption_info or {}).get("encryptionInTransit", {})
    if in_transit.get("clientBroker", "TLS") != "TLS":
        return "encryption in transit between clients and brokers is not TLS only"
    tls = bool((auth.get("tls") or {}).get("certificateAuthorityArnList")) or _enabled(
        auth, "tls"
    )
    if not (_enabled(sasl, "iam") or _enabled(sasl, "scram") or tls):
        return "no IAM, SASL/SCRAM or TLS client authentication is enabled"
    return None


def _cluster_arn(response: KafkaResponse, suffix: str) -> str:
    arn = response._get_param("clusterArn")
    if not arn:
        arn = response.parsed_url.path.split("/clusters/", 1)[-1].removesuffix(suffix)
    return unquote(arn)


def _broker_hosts(cluster: FakeKafkaCluster, public: bool) -> list[str]:
    label = cluster.cluster_id.split("-")[0][:6]
    suffix = "-public" if public else ""
    return [
        f"b-{n}{suffix}.{cluster.cluster_name}.{label}.c2.kafka.{cluster.region_name}"
        ".amazonaws.com"
        for n in range(1, (cluster.number_of_broker_nodes or 1) + 1)
    ]


def _listeners(hosts: list[str], ports: dict) -> dict[str, str]:
    return {name: ",".join(f"{host}:{port}" for host in hosts) for name, port in ports.items()}


def update_connectivity(self: KafkaResponse) -> str:
    cluster_arn = _cluster_arn(self, "/connectivity")
    current_version = self._get_param("currentVersion")
    connectivity = self._get_param("connectivityInfo") or {}
    wanted = (connectivity.get("publicAccess") or {}).get("type")

    cluster = find_cluster(self.kafka_backend, cluster_arn)
    if cluster.cluster_type != "PROVISIONED":
        raise BadRequestException("Connectivity can only be updated on provisioned clusters.")
    if current_version != cluster.current_version:
        raise BadRequestException(
            f"The current version {current_version} does not match the cluster's version "
            f"{cluster.current_version}."
        )
    if cluster.state != "ACTIVE":
        raise BadRequestException(
            f"The cluster is in {cluster.state} state; connectivity can only be updated "
            "while it is ACTIVE."
        )
    if wanted not in PUBLIC_ACCESS_TYPES:
        raise BadRequestException(
            f"connectivityInfo.publicAccess.type must be one of {', '.join(PUBLIC_ACCESS_TYPES)}."
        )
    if wanted == "SERVICE_PROVIDED_EIPS":
        reason = _public_access_forbidden_because(cluster)
        if reason:
            raise BadRequestException(
                f"Public access cannot be turned on for this cluster: {reason}."
            )

    def complete() -> None:
        info = cluster.broker_node_group_info
        if info is None:
            info = cluster.broker_node_group_info = {}
        info.setdefault("connectivityInfo", {})["publicAccess"] = {"type": wanted}

    operation_arn = (
        f"arn:aws:kafka:{cluster.region_name}:{cluster.account_id}:cluster-operation/"
        f"{cluster.cluster_name}/{cluster.cluster_id}/{uuid.uuid4()}"
    )
    cluster.current_version = "K" + uuid.uuid4().hex[:13].upper()
    cluster.active_operation_arn = operation_arn
    begin_transition(cluster, "UPDATING", complete)
    return json.dumps({"clusterArn": cluster.arn, "clusterOperationArn": operation_arn})


def get_bootstrap_brokers(self: KafkaResponse) -> str:
    cluster = find_cluster(self.kafka_backend, _cluster_arn(self, "/bootstrap-brokers"))
    auth = cluster.client_authentication or {}
    sasl = auth.get("sasl", {})
    in_transit = (cluster.encryption_info or {}).get("encryptionInTransit", {})
    client_broker = in_transit.get("clientBroker", "TLS")
    tls = client_broker in ("TLS", "TLS_PLAINTEXT")

    private: dict[str, int] = {}
    public: dict[str, int] = {}
    if client_broker in ("PLAINTEXT", "TLS_PLAINTEXT"):
        private["bootstrapBrokerString"] = 9092
    if tls:
        private["bootstrapBrokerStringTls"] = 9094
        public["bootstrapBrokerStringPublicTls"] = 9194
    if tls and _enabled(sasl, "scram"):
        private["bootstrapBrokerStringSaslScram"] = 9096
        public["bootstrapBrokerStringPublicSaslScram"] = 9196
    if tls and _enabled(sasl, "iam"):
        private["bootstrapBrokerStringSaslIam"] = 9098
        public["bootstrapBrokerStringPublicSaslIam"] = 9198

    answer = _listeners(_broker_hosts(cluster, public=False), private)
    if _public_access_type(cluster) == "SERVICE_PROVIDED_EIPS":
        answer.update(_listeners(_broker_hosts(cluster, public=True), public))
    return json.dumps(answer)


def apply() -> None:
    if getattr(KafkaResponse, "update_connectivity", None) is update_connectivity:
        return
    KafkaResponse.update_connectivity = update_connectivity
    KafkaResponse.get_bootstrap_brokers = get_bootstrap_brokers
