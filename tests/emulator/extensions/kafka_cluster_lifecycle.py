"""Kafka clusters leave CREATING and UPDATING, are not found when gone, and carry UTC times.

AWS: ``CreateCluster`` and ``CreateClusterV2`` answer ``CREATING``; the cluster turns
``ACTIVE`` once its brokers are provisioned. An update such as ``UpdateConnectivity``
turns it ``UPDATING`` until the change is applied, then ``ACTIVE`` again.
``DescribeCluster`` and ``DescribeClusterV2`` of an unknown ARN fail with
``NotFoundException`` (HTTP 404). Timestamps such as ``creationTime`` are ISO 8601 in
UTC with their offset (``2026-12-04T15:33:54.375Z``).

moto 5.2.5 leaves a new cluster ``CREATING`` for ever, answers HTTP 500 for an unknown
ARN, and writes ``creationTime`` in local time without an offset, which the AWS SDK for
Rust refuses to parse.

The patch completes a transition after it has been seen once: the first describe of a
``CREATING`` or ``UPDATING`` cluster shows that state, and the next one shows the
cluster ``ACTIVE``, with the update applied. A caller that polls, as clients of AWS
must, sees both states; a test that wants an ``ACTIVE`` cluster describes it until it
is. Unknown ARNs fail with ``NotFoundException``, and ``creationTime`` is written in UTC
with a ``Z``.
"""

from datetime import datetime, timezone
from typing import Any, Callable

from moto.kafka.exceptions import NotFoundException
from moto.kafka.models import FakeKafkaCluster, KafkaBackend

IN_PROGRESS = frozenset({"CREATING", "UPDATING"})

# Per-cluster attributes of this extension: whether the in-progress state has been
# shown once, and what completing the transition does besides turning it ACTIVE.
_SEEN = "_atlas_transition_seen"
_ON_COMPLETE = "_atlas_transition_on_complete"


class ClusterNotFound(NotFoundException):
    def __init__(self, cluster_arn: str) -> None:
        super().__init__(f"The cluster {cluster_arn} does not exist.")
        self.code = 404


def utc_now() -> str:
    """The current time as AWS writes Kafka timestamps: UTC, milliseconds, ``Z``."""
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def begin_transition(
    cluster: FakeKafkaCluster, state: str, on_complete: Callable[[], None] | None = None
) -> None:
    """Puts ``cluster`` in ``state`` until two describes have seen it (see module docs)."""
    cluster.state = state
    setattr(cluster, _SEEN, False)
    setattr(cluster, _ON_COMPLETE, on_complete)


def find_cluster(backend: KafkaBackend, cluster_arn: str) -> FakeKafkaCluster:
    """The cluster, after advancing its transition; ``NotFoundException`` if unknown."""
    cluster = backend.clusters.get(cluster_arn)
    if cluster is None:
        raise ClusterNotFound(cluster_arn)
    _advance(cluster)
    return cluster


def _advance(cluster: FakeKafkaCluster) -> None:
    if cluster.state not in IN_PROGRESS:
        return
    if not getattr(cluster, _SEEN, False):
        setattr(cluster, _SEEN, True)
        return
    on_complete = getattr(cluster, _ON_COMPLETE, None)
    if on_complete is not None:
        on_complete()
    cluster.state = "ACTIVE"
    setattr(cluster, _SEEN, False)
    setattr(cluster, _ON_COMPLETE, None)


def apply() -> None:
    if getattr(KafkaBackend.describe_cluster_v2, "_atlas_extension", False):
        return

    original_init = FakeKafkaCluster.__init__

    def __init__(self: FakeKafkaCluster, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self.creation_time = utc_now()

    FakeKafkaCluster.__init__ = __init__

    for name in ("describe_cluster", "describe_cluster_v2"):
        original = getattr(KafkaBackend, name)

        def describe(
            self: KafkaBackend, cluster_arn: str, _original: Callable = original
        ) -> dict[str, Any]:
            find_cluster(self, cluster_arn)
            return _original(self, cluster_arn)

        describe._atlas_extension = True
        setattr(KafkaBackend, name, describe)
