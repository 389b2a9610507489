//! `atlas_network` on its own: the cost of a refresh, flow logs off and on, import by VPC
//! id, and a network deleted outside Terraform (`disappears`). Every check goes through
//! the AWS API or the emulator's request log, never through the provider's code.

use atlas_acceptance::{Emulator, PlanOutcome, Workspace};
use aws_sdk_ec2::types::Filter;
use serde_json::Value;

const FIXTURE: &str = "tests/acceptance/tests/fixtures/network_basic";

fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

fn network(workspace: &Workspace<'_>) -> Value {
    workspace.output("network")
}

fn text(network: &Value, name: &str) -> String {
    network[name]
        .as_str()
        .unwrap_or_else(|| panic!("{name} is not a string: {network}"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn refresh_of_an_unchanged_network_makes_at_most_eight_aws_calls() {
    let emulator = Emulator::start();
    let workspace = Workspace::copy_root(&emulator, FIXTURE);
    workspace.init();
    workspace.apply();

    let before = emulator.requests().len();
    let out = workspace.tf(&["plan", "-refresh-only", "-input=false", "-no-color"]);
    assert!(
        out.stdout.contains("No changes"),
        "a refresh of an unchanged network found changes:\n{}",
        out.stdout
    );
    let calls: Vec<String> = emulator.requests()[before..]
        .iter()
        .filter(|r| r.service.as_deref() != Some("s3"))
        .map(|r| {
            format!(
                "{}:{}",
                r.service.as_deref().unwrap_or("?"),
                r.operation.as_deref().unwrap_or("?")
            )
        })
        .collect();
    eprintln!("refresh made {} AWS calls: {calls:?}", calls.len());
    assert!(
        calls.len() <= 8,
        "a refresh made {} AWS calls: {calls:?}",
        calls.len()
    );
    assert!(
        !calls.iter().any(|c| c.starts_with("iam:")),
        "a refresh called IAM: {calls:?}"
    );

    assert_eq!(workspace.plan_detailed_exitcode(), PlanOutcome::NoChanges);
}

#[tokio::test(flavor = "multi_thread")]
async fn flow_logs_off_then_on_in_place() {
    let emulator = Emulator::start();
    let workspace = Workspace::copy_root(&emulator, FIXTURE);
    workspace.init();
    workspace.apply();
    let first = network(&workspace);
    let vpc_id = text(&first, "vpc_id");
    let group = text(&first, "flow_log_group_name");
    let role_arn = text(&first, "flow_log_role_arn");
    let role = role_arn.rsplit('/').next().unwrap().to_owned();

    let config = emulator.sdk_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&config);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
    let iam = aws_sdk_iam::Client::new(&config);
    let flow_logs = || async {
        ec2.describe_flow_logs()
            .filter(filter("resource-id", &vpc_id))
            .send()
            .await
            .unwrap()
            .flow_logs()
            .to_vec()
    };
    let group_exists = || async {
        logs.describe_log_groups()
            .log_group_name_prefix(&group)
            .send()
            .await
            .unwrap()
            .log_groups()
            .iter()
            .any(|g| g.log_group_name() == Some(group.as_str()))
    };
    assert_eq!(flow_logs().await.len(), 1);
    assert!(group_exists().await);

    // Off: the flow log, its group and its role go; the VPC stays.
    workspace.write_file("terraform.tfvars", "flow_logs = false\n");
    let PlanOutcome::Changes(plan) = workspace.plan_detailed_exitcode() else {
        panic!("turning flow logs off planned nothing");
    };
    assert!(plan.contains("updated in-place"), "{plan}");
    assert!(!plan.contains("must be replaced"), "{plan}");
    workspace.apply();
    let off = network(&workspace);
    assert_eq!(text(&off, "vpc_id"), vpc_id, "the VPC was replaced");
    assert!(off["flow_log_id"].is_null(), "{off}");
    assert!(flow_logs().await.is_empty(), "a flow log is left");
    assert!(!group_exists().await, "the log group is left");
    assert!(
        iam.get_role().role_name(&role).send().await.is_err(),
        "the role is left"
    );
    assert_eq!(workspace.plan_detailed_exitcode(), PlanOutcome::NoChanges);

    // On again: all three come back, REJECT only, into the group.
    workspace.write_file("terraform.tfvars", "flow_logs = true\n");
    workspace.apply();
    let on = network(&workspace);
    let found = flow_logs().await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].traffic_type().map(|t| t.as_str()), Some("REJECT"));
    assert_eq!(found[0].log_group_name(), Some(group.as_str()));
    assert_eq!(found[0].flow_log_id(), on["flow_log_id"].as_str());
    assert!(group_exists().await);
    iam.get_role().role_name(&role).send().await.unwrap();
    assert_eq!(workspace.plan_detailed_exitcode(), PlanOutcome::NoChanges);
}

#[tokio::test(flavor = "multi_thread")]
async fn import_by_vpc_id_plans_empty() {
    let emulator = Emulator::start();
    let workspace = Workspace::copy_root(&emulator, FIXTURE);
    workspace.init();
    workspace.apply();
    let created = network(&workspace);
    let vpc_id = text(&created, "vpc_id");

    workspace.tf(&["state", "rm", "-no-color", "atlas_network.this"]);
    workspace.tf(&[
        "import",
        "-input=false",
        "-no-color",
        "atlas_network.this",
        &vpc_id,
    ]);
    assert_eq!(workspace.plan_detailed_exitcode(), PlanOutcome::NoChanges);

    // The import found every object the create made.
    workspace.apply();
    let imported = network(&workspace);
    for name in [
        "public_subnet_ids",
        "private_subnet_ids",
        "private_route_table_ids",
        "nat_gateway_ids",
        "eip_allocation_ids",
        "availability_zones",
        "availability_zone_ids",
        "internet_gateway_id",
        "public_route_table_id",
        "s3_endpoint_id",
        "flow_log_id",
        "flow_log_group_name",
        "flow_log_role_arn",
    ] {
        assert_eq!(imported[name], created[name], "{name}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn disappears() {
    let emulator = Emulator::start();
    let workspace = Workspace::copy_root(&emulator, FIXTURE);
    workspace.init();
    workspace.apply();
    let created = network(&workspace);
    let vpc_id = text(&created, "vpc_id");

    let config = emulator.sdk_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&config);
    delete_vpc_and_contents(&ec2, &vpc_id).await;

    let output = workspace.try_tf(&["plan", "-detailed-exitcode", "-input=false", "-no-color"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("Network Gone") || stderr.contains("Network Gone"),
        "no warning that the network is gone:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("atlas_network.this will be created"),
        "{stdout}"
    );
}

/// Deletes a VPC and everything in it, as someone cleaning up by hand would.
async fn delete_vpc_and_contents(ec2: &aws_sdk_ec2::Client, vpc_id: &str) {
    let by_vpc = || filter("vpc-id", vpc_id);
    let flow_logs = ec2
        .describe_flow_logs()
        .filter(filter("resource-id", vpc_id))
        .send()
        .await
        .unwrap();
    let ids: Vec<String> = flow_logs
        .flow_logs()
        .iter()
        .filter_map(|f| f.flow_log_id().map(str::to_owned))
        .collect();
    if !ids.is_empty() {
        ec2.delete_flow_logs()
            .set_flow_log_ids(Some(ids))
            .send()
            .await
            .unwrap();
    }
    let endpoints = ec2
        .describe_vpc_endpoints()
        .filters(by_vpc())
        .send()
        .await
        .unwrap();
    let ids: Vec<String> = endpoints
        .vpc_endpoints()
        .iter()
        .filter_map(|e| e.vpc_endpoint_id().map(str::to_owned))
        .collect();
    if !ids.is_empty() {
        ec2.delete_vpc_endpoints()
            .set_vpc_endpoint_ids(Some(ids))
            .send()
            .await
            .unwrap();
    }
    let nats = ec2
        .describe_nat_gateways()
        .filter(by_vpc())
        .send()
        .await
        .unwrap();
    for nat in nats.nat_gateways() {
        ec2.delete_nat_gateway()
            .nat_gateway_id(nat.nat_gateway_id().unwrap())
            .send()
            .await
            .unwrap();
        for address in nat.nat_gateway_addresses() {
            if let Some(allocation) = address.allocation_id() {
                let _ = ec2.release_address().allocation_id(allocation).send().await;
            }
        }
    }
    let tables = ec2
        .describe_route_tables()
        .filters(by_vpc())
        .send()
        .await
        .unwrap();
    for table in tables.route_tables() {
        if table.associations().iter().any(|a| a.main() == Some(true)) {
            continue;
        }
        for association in table.associations() {
            ec2.disassociate_route_table()
                .association_id(association.route_table_association_id().unwrap())
                .send()
                .await
                .unwrap();
        }
        ec2.delete_route_table()
            .route_table_id(table.route_table_id().unwrap())
            .send()
            .await
            .unwrap();
    }
    let subnets = ec2
        .describe_subnets()
        .filters(by_vpc())
        .send()
        .await
        .unwrap();
    for subnet in subnets.subnets() {
        ec2.delete_subnet()
            .subnet_id(subnet.subnet_id().unwrap())
            .send()
            .await
            .unwrap();
    }
    let igws = ec2
        .describe_internet_gateways()
        .filters(filter("attachment.vpc-id", vpc_id))
        .send()
        .await
        .unwrap();
    for igw in igws.internet_gateways() {
        let id = igw.internet_gateway_id().unwrap();
        ec2.detach_internet_gateway()
            .internet_gateway_id(id)
            .vpc_id(vpc_id)
            .send()
            .await
            .unwrap();
        ec2.delete_internet_gateway()
            .internet_gateway_id(id)
            .send()
            .await
            .unwrap();
    }
    ec2.delete_vpc().vpc_id(vpc_id).send().await.unwrap();
}
