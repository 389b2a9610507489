"""Creates and inspects MSK clusters on the running emulator, for acceptance tests.

    python tests/emulator/msk_cluster.py --endpoint URL create [--auth iam|unauthenticated]
        [--no-wait] NAME
    python tests/emulator/msk_cluster.py --endpoint URL describe ARN
    python tests/emulator/msk_cluster.py --endpoint URL delete ARN

``create`` makes a provisioned cluster of three brokers and prints its ARN. AWS takes
a while to make a new cluster ACTIVE; the emulator does it once the cluster has been
described twice (see ``extensions/kafka_cluster_lifecycle.py``), so ``create``
describes it until it is ACTIVE, unless ``--no-wait`` leaves it CREATING. With
``--auth iam`` (the default) clients authenticate with IAM over TLS, which allows
public access; ``--auth unauthenticated`` allows unauthenticated clients, which
forbids it.

``describe`` prints one JSON object: ``state``, ``currentVersion``,
``publicAccessType`` and the ``bootstrapBrokers`` answer. Uses the emulator's dummy
credentials, never the caller's. ``delete`` deletes the cluster, as someone outside
Terraform might.
"""

import argparse
import json
import sys
import time

import boto3
from botocore.exceptions import ClientError

WAIT_SECONDS = 30.0

AUTH = {
    "iam": {"Sasl": {"Iam": {"Enabled": True}}, "Unauthenticated": {"Enabled": False}},
    "unauthenticated": {"Unauthenticated": {"Enabled": True}},
}


def create(kafka, args: argparse.Namespace) -> int:
    answer = kafka.create_cluster(
        ClusterName=args.name,
        KafkaVersion="3.6.0",
        NumberOfBrokerNodes=3,
        BrokerNodeGroupInfo={
            "InstanceType": "kafka.m5.large",
            "ClientSubnets": ["subnet-0a", "subnet-0b", "subnet-0c"],
            "SecurityGroups": ["sg-0msk"],
        },
        ClientAuthentication=AUTH[args.auth],
        EncryptionInfo={"EncryptionInTransit": {"ClientBroker": "TLS", "InCluster": True}},
    )
    arn = answer["ClusterArn"]
    deadline = time.monotonic() + WAIT_SECONDS
    while not args.no_wait:
        state = kafka.describe_cluster_v2(ClusterArn=arn)["ClusterInfo"]["State"]
        if state == "ACTIVE":
            break
        if time.monotonic() > deadline:
            print(f"msk-cluster: {arn} still {state}", file=sys.stderr)
            return 1
        time.sleep(0.1)
    print(arn)
    return 0


def describe(kafka, args: argparse.Namespace) -> int:
    info = kafka.describe_cluster_v2(ClusterArn=args.arn)["ClusterInfo"]
    node_group = info.get("Provisioned", {}).get("BrokerNodeGroupInfo", {})
    public_access = node_group.get("ConnectivityInfo", {}).get("PublicAccess", {})
    brokers = kafka.get_bootstrap_brokers(ClusterArn=args.arn)
    brokers.pop("ResponseMetadata", None)
    print(
        json.dumps(
            {
                "state": info["State"],
                "currentVersion": info["CurrentVersion"],
                "publicAccessType": public_access.get("Type"),
                "bootstrapBrokers": brokers,
            }
        )
    )
    return 0


def delete(kafka, args: argparse.Namespace) -> int:
    kafka.delete_cluster(ClusterArn=args.arn)
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--endpoint", required=True, help="the emulator, http://127.0.0.1:PORT")
    parser.add_argument("--region", default="eu-west-1", help="region (default eu-west-1)")
    commands = parser.add_subparsers(dest="command", required=True)
    create_parser = commands.add_parser("create", help="create a cluster and print its ARN")
    create_parser.add_argument("--auth", choices=sorted(AUTH), default="iam")
    create_parser.add_argument("--no-wait", action="store_true", help="leave it CREATING")
    create_parser.add_argument("name", help="cluster name")
    describe_parser = commands.add_parser("describe", help="print a cluster's state as JSON")
    describe_parser.add_argument("arn", help="cluster ARN")
    delete_parser = commands.add_parser("delete", help="delete a cluster")
    delete_parser.add_argument("arn", help="cluster ARN")
    args = parser.parse_args(argv)

    kafka = boto3.client(
        "kafka",
        endpoint_url=args.endpoint,
        region_name=args.region,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    try:
        command = {"create": create, "describe": describe, "delete": delete}[args.command]
        return command(kafka, args)
    except ClientError as error:
        print(f"msk-cluster: {args.command}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
