//! The harness's own emulator: it starts, serves the AWS SDK for Rust, logs each
//! request, and carries the project's extensions to moto.

use atlas_acceptance::Emulator;
use aws_sdk_ec2::types::DomainType;

#[tokio::test]
async fn serves_ec2_and_logs_each_request() {
    let emulator = Emulator::start();
    let ec2 = aws_sdk_ec2::Client::new(&emulator.sdk_config().await);

    let created = ec2
        .create_vpc()
        .cidr_block("10.99.0.0/16")
        .send()
        .await
        .expect("create a VPC on the emulator");
    let vpc_id = created
        .vpc()
        .and_then(|vpc| vpc.vpc_id())
        .expect("a VPC id")
        .to_owned();

    let described = ec2
        .describe_vpcs()
        .vpc_ids(&vpc_id)
        .send()
        .await
        .expect("describe the VPC");
    let vpcs = described.vpcs();
    assert_eq!(vpcs.len(), 1, "the VPC just created: {vpcs:?}");
    assert_eq!(vpcs[0].cidr_block(), Some("10.99.0.0/16"));
    assert_eq!(vpcs[0].is_default(), Some(false));

    assert_eq!(
        emulator.count("ec2", "CreateVpc"),
        1,
        "{:#?}",
        emulator.requests()
    );
    assert_eq!(
        emulator.count("ec2", "DescribeVpcs"),
        1,
        "{:#?}",
        emulator.requests()
    );
}

#[tokio::test]
async fn each_emulator_starts_empty() {
    let first = Emulator::start();
    let second = Emulator::start();
    assert_ne!(first.port(), second.port());

    let ec2 = aws_sdk_ec2::Client::new(&first.sdk_config().await);
    ec2.create_vpc()
        .cidr_block("10.98.0.0/16")
        .send()
        .await
        .expect("create a VPC on the first emulator");

    let ec2 = aws_sdk_ec2::Client::new(&second.sdk_config().await);
    let vpcs = ec2
        .describe_vpcs()
        .send()
        .await
        .expect("describe VPCs")
        .vpcs()
        .to_vec();
    let own: Vec<_> = vpcs
        .iter()
        .filter(|vpc| vpc.is_default() != Some(true))
        .collect();
    assert!(
        own.is_empty(),
        "the second emulator sees the first one's VPC: {own:?}"
    );
    assert_eq!(second.count("ec2", "CreateVpc"), 0);
}

/// Pins the extension in tests/emulator/extensions/nat_gateway_client_token.py: a
/// retried CreateNatGateway with the same client token returns the first gateway.
#[tokio::test]
async fn create_nat_gateway_honours_client_token() {
    let emulator = Emulator::start();
    let ec2 = aws_sdk_ec2::Client::new(&emulator.sdk_config().await);
    let vpc_id = ec2
        .create_vpc()
        .cidr_block("10.97.0.0/16")
        .send()
        .await
        .expect("create a VPC")
        .vpc()
        .and_then(|vpc| vpc.vpc_id())
        .expect("a VPC id")
        .to_owned();
    let subnet_id = ec2
        .create_subnet()
        .vpc_id(&vpc_id)
        .cidr_block("10.97.0.0/24")
        .send()
        .await
        .expect("create a subnet")
        .subnet()
        .and_then(|subnet| subnet.subnet_id())
        .expect("a subnet id")
        .to_owned();
    let allocate = || async {
        ec2.allocate_address()
            .domain(DomainType::Vpc)
            .send()
            .await
            .expect("allocate an Elastic IP")
            .allocation_id()
            .expect("an allocation id")
            .to_owned()
    };
    let allocation_id = allocate().await;
    let create = |allocation_id: String| {
        ec2.create_nat_gateway()
            .subnet_id(&subnet_id)
            .allocation_id(allocation_id)
            .client_token("atlas-acceptance-nat-1")
            .send()
    };

    let first = create(allocation_id.clone())
        .await
        .expect("create a NAT gateway");
    let retried = create(allocation_id)
        .await
        .expect("retry with the same client token");
    let first_id = first
        .nat_gateway()
        .and_then(|gateway| gateway.nat_gateway_id());
    assert!(first_id.is_some());
    assert_eq!(
        retried
            .nat_gateway()
            .and_then(|gateway| gateway.nat_gateway_id()),
        first_id
    );
    assert_eq!(retried.client_token(), Some("atlas-acceptance-nat-1"));

    let other_address = allocate().await;
    let error = create(other_address)
        .await
        .expect_err("same client token, different parameters");
    assert_eq!(
        error
            .as_service_error()
            .and_then(|error| error.meta().code()),
        Some("IdempotentParameterMismatch"),
        "{error:?}"
    );

    let gateways = ec2
        .describe_nat_gateways()
        .send()
        .await
        .expect("describe NAT gateways")
        .nat_gateways()
        .len();
    assert_eq!(gateways, 1, "only the first request created a gateway");
}
