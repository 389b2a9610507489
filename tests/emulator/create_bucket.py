"""Creates an S3 bucket on the running emulator, such as the Terraform state bucket.

    python tests/emulator/create_bucket.py --endpoint http://127.0.0.1:PORT NAME

Creating a bucket that already exists (and is ours) succeeds, so callers can run
it every time. Uses the emulator's dummy credentials, never the caller's.
"""

import argparse
import sys

import boto3
from botocore.exceptions import ClientError


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--endpoint", required=True, help="the emulator, http://127.0.0.1:PORT")
    parser.add_argument("--region", default="eu-west-1", help="bucket region (default eu-west-1)")
    parser.add_argument("name", help="bucket name")
    args = parser.parse_args(argv)

    s3 = boto3.client(
        "s3",
        endpoint_url=args.endpoint,
        region_name=args.region,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    request = {"Bucket": args.name}
    # us-east-1 is the one region that takes no location constraint.
    if args.region != "us-east-1":
        request["CreateBucketConfiguration"] = {"LocationConstraint": args.region}
    try:
        s3.create_bucket(**request)
    except ClientError as error:
        if error.response["Error"]["Code"] != "BucketAlreadyOwnedByYou":
            print(f"create-bucket: {args.name}: {error}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
