//! A create killed halfway leaves a VPC that no state knows, still marked as being
//! created. The next apply removes it and builds the network once; a finished network of
//! the same name is never duplicated. The staging root killed (Terraform and provider,
//! SIGKILL) at several points of its create converges on the next apply, leaving exactly
//! the objects its state names.

use atlas_acceptance::{Emulator, Workspace};
use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};

const ROOT: &str = "tests/acceptance/tests/fixtures/network_small";

fn tagged(resource: ResourceType, tags: &[(&str, &str)]) -> TagSpecification {
    let mut spec = TagSpecification::builder().resource_type(resource);
    for (k, v) in tags {
        spec = spec.tags(Tag::builder().key(*k).value(*v).build());
    }
    spec.build()
}

async fn vpcs_named(ec2: &aws_sdk_ec2::Client, name: &str) -> Vec<aws_sdk_ec2::types::Vpc> {
    ec2.describe_vpcs()
        .filters(
            Filter::builder()
                .name("tag:atlas:network")
                .values(name)
                .build(),
        )
        .send()
        .await
        .expect("DescribeVpcs")
        .vpcs()
        .to_vec()
}

/// What a killed create leaves: a marked VPC and a subnet in it.
async fn leave_interrupted_create(ec2: &aws_sdk_ec2::Client, marked: bool) -> (String, String) {
    let mut tags = vec![("atlas:network", "small"), ("Name", "small-vpc")];
    if marked {
        tags.push(("atlas:creating", "true"));
    }
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.30.0.0/20")
        .tag_specifications(tagged(ResourceType::Vpc, &tags))
        .send()
        .await
        .expect("CreateVpc");
    let vpc_id = vpc.vpc().and_then(|v| v.vpc_id()).unwrap().to_owned();
    let subnet = ec2
        .create_subnet()
        .vpc_id(&vpc_id)
        .cidr_block("10.30.0.0/24")
        .tag_specifications(tagged(ResourceType::Subnet, &[("atlas:network", "small")]))
        .send()
        .await
        .expect("CreateSubnet");
    let subnet_id = subnet
        .subnet()
        .and_then(|s| s.subnet_id())
        .unwrap()
        .to_owned();
    (vpc_id, subnet_id)
}

#[tokio::test(flavor = "multi_thread")]
async fn interrupted_create_is_removed_and_the_network_built_once() {
    let emulator = Emulator::start();
    let ec2 = aws_sdk_ec2::Client::new(&emulator.sdk_config().await);
    let (orphan_vpc, orphan_subnet) = leave_interrupted_create(&ec2, true).await;

    let workspace = Workspace::copy_root(&emulator, ROOT);
    workspace.init();
    workspace.apply();
    let vpc_id = workspace
        .output("vpc_id")
        .as_str()
        .expect("vpc_id")
        .to_owned();

    let vpcs = vpcs_named(&ec2, "small").await;
    assert_eq!(vpcs.len(), 1, "exactly one network named small: {vpcs:#?}");
    assert_eq!(vpcs[0].vpc_id(), Some(vpc_id.as_str()));
    assert_ne!(vpc_id, orphan_vpc, "the leftover was not adopted blindly");
    assert!(
        vpcs[0]
            .tags()
            .iter()
            .all(|t| t.key() != Some("atlas:creating")),
        "a finished network is no longer marked as being created"
    );
    let subnets = ec2
        .describe_subnets()
        .subnet_ids(&orphan_subnet)
        .send()
        .await;
    assert!(
        subnets.map(|s| s.subnets().is_empty()).unwrap_or(true),
        "the leftover subnet is gone"
    );
    workspace.destroy();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_finished_network_of_the_same_name_is_not_duplicated() {
    let emulator = Emulator::start();
    let ec2 = aws_sdk_ec2::Client::new(&emulator.sdk_config().await);
    let (existing, _) = leave_interrupted_create(&ec2, false).await;

    let workspace = Workspace::copy_root(&emulator, ROOT);
    workspace.init();
    let output = workspace.try_tf(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    assert!(
        !output.status.success(),
        "a second network of the same name was created"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("already exists") && stderr.contains(&existing),
        "{stderr}"
    );
    assert!(
        stderr.contains("terraform import"),
        "the error says how to import it: {stderr}"
    );
    assert_eq!(
        vpcs_named(&ec2, "small").await.len(),
        1,
        "nothing was duplicated"
    );
}

// ---------------------------------------------------------------------------------------
// The staging root killed halfway (Terraform and provider, SIGKILL), then applied again.

/// The services the provider calls; S3 is Terraform's state backend.
const PROVIDER_SERVICES: &[&str] = &["ec2", "iam", "logs", "sts"];

/// Slows every provider call so that a kill lands between two calls, not after the
/// whole create has finished.
const LATENCY_MS: u64 = 150;

/// Starts `terraform apply` of staging, kills it (with its provider) once the provider
/// has made `calls` AWS calls, applies again, and checks that the emulator then holds
/// exactly the objects the state names: nothing orphaned, nothing duplicated.
async fn killed_after(calls: usize) {
    use atlas_acceptance::inventory::Inventory;
    use atlas_acceptance::{FaultSettings, PlanOutcome};
    use std::time::Duration;

    let emulator = Emulator::start();
    let workspace = Workspace::copy_root(&emulator, "terraform/staging");
    workspace.init();
    emulator.set_faults(&FaultSettings::latency(LATENCY_MS).services(PROVIDER_SERVICES));

    let provider_calls = || {
        emulator
            .requests()
            .iter()
            .filter(|r| r.service.as_deref() != Some("s3"))
            .count()
    };
    workspace.apply_killed_when(&format!("making {calls} AWS calls"), || {
        provider_calls() >= calls
    });
    let killed_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_secs_f64();
    // Calls already sent still finish on the emulator's side, as they would on AWS's.
    std::thread::sleep(Duration::from_millis(2 * LATENCY_MS));
    emulator.set_faults(&FaultSettings::default());
    let at_kill = provider_calls();
    let late: Vec<_> = emulator
        .requests()
        .into_iter()
        .filter(|r| r.service.as_deref() != Some("s3") && r.started > killed_at)
        .collect();
    assert!(late.is_empty(), "AWS calls after the kill: {late:#?}");

    let operations: Vec<String> = emulator
        .requests()
        .iter()
        .filter_map(|r| r.operation.clone())
        .collect();
    let left = Inventory::read(&emulator.sdk_config().await).await;
    eprintln!(
        "killed after {at_kill} calls ({}), leaving {:?}",
        operations.join(" "),
        left.counts()
    );

    workspace.force_unlock_if_locked();
    workspace.apply();
    assert_eq!(workspace.plan_detailed_exitcode(), PlanOutcome::NoChanges);

    let held = Inventory::read(&emulator.sdk_config().await).await;
    let referenced = Inventory::referenced_by(&workspace.show_json());
    assert_eq!(
        held,
        referenced,
        "killed after {at_kill} calls: the emulator holds {:?}, the state names {:?}",
        held.counts(),
        referenced.counts()
    );
    workspace.destroy();
    let left = Inventory::read(&emulator.sdk_config().await).await;
    assert!(left.0.is_empty(), "the destroy left {:?}", left.0);
}

macro_rules! killed_case {
    ($name:ident, $calls:literal) => {
        #[tokio::test(flavor = "multi_thread")]
        async fn $name() {
            killed_after($calls).await;
        }
    };
}

// Before the VPC (with the flow log's role and group made), among the subnets and
// tables, around the NAT gateways, and after their wait: the points where a create holds
// the most half-made state. Calls run in parallel waves, so the count at the kill is
// higher than the count that triggers it; each case prints both.
killed_case!(staging_killed_before_the_vpc_converges, 2);
killed_case!(staging_killed_among_subnets_and_tables_converges, 10);
killed_case!(staging_killed_around_the_nat_gateways_converges, 24);
killed_case!(staging_killed_after_the_nat_gateway_wait_converges, 30);
