"""Requests an ACM certificate on the running emulator and prints its ARN.

    python tests/emulator/create_certificate_svc.py --endpoint http://127.0.0.1:PORT DOMAIN

An HTTPS listener needs a certificate that exists in ACM; the acceptance tests of
atlas_service make their ingress listener with it. Uses the emulator's dummy
credentials, never the caller's.
"""

import argparse
import sys

import boto3


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--endpoint", required=True, help="the emulator, http://127.0.0.1:PORT")
    parser.add_argument("--region", default="eu-west-1", help="region (default eu-west-1)")
    parser.add_argument("domain", help="the certificate's domain name, such as *.example.com")
    args = parser.parse_args(argv)

    acm = boto3.client(
        "acm",
        endpoint_url=args.endpoint,
        region_name=args.region,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    answer = acm.request_certificate(DomainName=args.domain, ValidationMethod="DNS")
    print(answer["CertificateArn"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
