//! The VPC's DNS settings change in place.

use atlas_acceptance::{Emulator, PlanOutcome, Workspace};
use aws_sdk_ec2::types::VpcAttributeName;

const ROOT: &str = "tests/acceptance/tests/fixtures/network_small";

async fn dns(ec2: &aws_sdk_ec2::Client, vpc_id: &str) -> (Option<bool>, Option<bool>) {
    let get = |attribute: VpcAttributeName| async move {
        ec2.describe_vpc_attribute()
            .vpc_id(vpc_id)
            .attribute(attribute)
            .send()
            .await
            .expect("DescribeVpcAttribute")
    };
    let support = get(VpcAttributeName::EnableDnsSupport).await;
    let hostnames = get(VpcAttributeName::EnableDnsHostnames).await;
    (
        support.enable_dns_support().and_then(|v| v.value()),
        hostnames.enable_dns_hostnames().and_then(|v| v.value()),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn dns_hostnames_turn_off_in_place() {
    let emulator = Emulator::start();
    let ec2 = aws_sdk_ec2::Client::new(&emulator.sdk_config().await);
    let workspace = Workspace::copy_root(&emulator, ROOT);
    workspace.init();
    workspace.apply();
    let vpc_id = workspace
        .output("vpc_id")
        .as_str()
        .expect("vpc_id")
        .to_owned();
    assert_eq!(
        dns(&ec2, &vpc_id).await,
        (Some(true), Some(true)),
        "both on by default"
    );

    workspace.write_file(
        "dns_override.tf",
        "resource \"atlas_network\" \"small\" {\n  enable_dns_hostnames = false\n}\n",
    );
    match workspace.plan_detailed_exitcode() {
        PlanOutcome::Changes(plan) => {
            assert!(plan.contains("updated in-place"), "{plan}");
            assert!(!plan.contains("must be replaced"), "{plan}");
        }
        PlanOutcome::NoChanges => panic!("turning DNS hostnames off plans no change"),
        other => panic!("unexpected plan outcome {other:?}"),
    }
    workspace.apply();
    assert_eq!(
        workspace.output("vpc_id").as_str(),
        Some(vpc_id.as_str()),
        "same VPC"
    );
    assert_eq!(dns(&ec2, &vpc_id).await, (Some(true), Some(false)));
    assert_eq!(workspace.plan_detailed_exitcode(), PlanOutcome::NoChanges);
    workspace.destroy();
}
