//! The main job: `terraform apply` of terraform/staging on the emulator, checked through
//! the AWS API, then an empty second plan, then a destroy that leaves nothing behind.

use std::collections::{BTreeMap, BTreeSet};

use atlas_acceptance::{Emulator, PlanOutcome, Workspace};
use aws_sdk_ec2::types::{Filter, Tag};
use serde_json::Value;

const NETWORK: &str = "atlas-staging";

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("expected a list, got {value}"))
        .iter()
        .map(|v| v.as_str().expect("a string").to_owned())
        .collect()
}

fn tag_map(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .map(|t| {
            (
                t.key().unwrap_or_default().to_owned(),
                t.value().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

/// Every EC2 object of the foundation carries the resource's identity and the root's
/// default tags.
fn assert_tagged(what: &str, tags: &[Tag]) {
    let tags = tag_map(tags);
    assert_eq!(
        tags.get("atlas:network").map(String::as_str),
        Some(NETWORK),
        "{what}: {tags:?}"
    );
    assert_eq!(
        tags.get("environment").map(String::as_str),
        Some("staging"),
        "{what}: {tags:?}"
    );
    assert_eq!(
        tags.get("component").map(String::as_str),
        Some("network"),
        "{what}: {tags:?}"
    );
    assert!(
        tags.contains_key("Name"),
        "{what} has no Name tag: {tags:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn staging_applies_plans_clean_and_destroys_without_leftovers() {
    let emulator = Emulator::start();
    let workspace = Workspace::copy_root(&emulator, "terraform/staging");
    workspace.init();
    workspace.apply();

    let out = workspace.output_json();
    let value = |name: &str| out[name]["value"].clone();
    let vpc_id = value("vpc_id").as_str().expect("vpc_id output").to_owned();
    let public_subnets = strings(&value("public_subnet_ids"));
    let private_subnets = strings(&value("private_subnet_ids"));
    let private_rts = strings(&value("private_route_table_ids"));
    let nat_ids = strings(&value("nat_gateway_ids"));
    let zones = strings(&value("availability_zones"));
    let log_group = value("flow_log_group_name")
        .as_str()
        .expect("log group output")
        .to_owned();

    let config = emulator.sdk_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&config);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
    let iam = aws_sdk_iam::Client::new(&config);

    // The VPC, with DNS support and hostnames on.
    let vpcs = ec2.describe_vpcs().vpc_ids(&vpc_id).send().await.unwrap();
    let vpc = &vpcs.vpcs()[0];
    assert_eq!(vpc.cidr_block(), Some("10.20.0.0/16"));
    assert_tagged("vpc", vpc.tags());
    for attribute in [
        aws_sdk_ec2::types::VpcAttributeName::EnableDnsSupport,
        aws_sdk_ec2::types::VpcAttributeName::EnableDnsHostnames,
    ] {
        let got = ec2
            .describe_vpc_attribute()
            .vpc_id(&vpc_id)
            .attribute(attribute.clone())
            .send()
            .await
            .unwrap();
        let on = got
            .enable_dns_support()
            .or(got.enable_dns_hostnames())
            .and_then(|v| v.value());
        assert_eq!(on, Some(true), "{attribute:?} is not on");
    }

    // Two zones, a public and a private subnet in each, in zone order.
    assert_eq!(zones.len(), 2);
    assert_ne!(zones[0], zones[1]);
    let subnets = ec2
        .describe_subnets()
        .filters(filter("vpc-id", &vpc_id))
        .send()
        .await
        .unwrap();
    assert_eq!(subnets.subnets().len(), 4, "exactly four subnets");
    let zone_of: BTreeMap<String, String> = subnets
        .subnets()
        .iter()
        .map(|s| {
            (
                s.subnet_id().unwrap().to_owned(),
                s.availability_zone().unwrap().to_owned(),
            )
        })
        .collect();
    for s in subnets.subnets() {
        assert_tagged("subnet", s.tags());
    }
    for (i, zone) in zones.iter().enumerate() {
        assert_eq!(&zone_of[&public_subnets[i]], zone, "public subnet {i} zone");
        assert_eq!(
            &zone_of[&private_subnets[i]], zone,
            "private subnet {i} zone"
        );
    }

    // The internet gateway, attached.
    let igws = ec2
        .describe_internet_gateways()
        .filters(filter("attachment.vpc-id", &vpc_id))
        .send()
        .await
        .unwrap();
    assert_eq!(igws.internet_gateways().len(), 1);
    let igw = &igws.internet_gateways()[0];
    assert_tagged("internet gateway", igw.tags());
    let igw_id = igw.internet_gateway_id().unwrap();

    // NAT gateways: one per public subnet, each with its own Elastic IP.
    let nats = ec2
        .describe_nat_gateways()
        .set_nat_gateway_ids(Some(nat_ids.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(nats.nat_gateways().len(), 2);
    let mut nat_subnet = BTreeMap::new();
    let mut allocations = BTreeSet::new();
    for nat in nats.nat_gateways() {
        assert_tagged("nat gateway", nat.tags());
        assert_eq!(nat.state().map(|s| s.as_str()), Some("available"));
        nat_subnet.insert(
            nat.nat_gateway_id().unwrap().to_owned(),
            nat.subnet_id().unwrap().to_owned(),
        );
        for address in nat.nat_gateway_addresses() {
            allocations.insert(address.allocation_id().unwrap().to_owned());
        }
    }
    for (i, nat) in nat_ids.iter().enumerate() {
        assert_eq!(
            nat_subnet[nat], public_subnets[i],
            "NAT gateway {i} sits in public subnet {i}"
        );
    }
    assert_eq!(
        allocations.len(),
        2,
        "each NAT gateway has its own Elastic IP"
    );
    let addresses = ec2.describe_addresses().send().await.unwrap();
    for address in addresses.addresses() {
        assert_tagged("elastic ip", address.tags());
    }

    // Route tables: public default route to the internet gateway; each private subnet
    // has its own table whose default route goes to the NAT gateway of its zone.
    let tables = ec2
        .describe_route_tables()
        .filters(filter("vpc-id", &vpc_id))
        .send()
        .await
        .unwrap();
    let public_rt = value("public_route_table_id").as_str().unwrap().to_owned();
    for table in tables.route_tables() {
        let id = table.route_table_id().unwrap();
        let default_route = table
            .routes()
            .iter()
            .find(|r| r.destination_cidr_block() == Some("0.0.0.0/0"));
        let associated: BTreeSet<&str> = table
            .associations()
            .iter()
            .filter_map(|a| a.subnet_id())
            .collect();
        if id == public_rt {
            assert_tagged("public route table", table.tags());
            assert_eq!(default_route.and_then(|r| r.gateway_id()), Some(igw_id));
            let expected: BTreeSet<&str> = public_subnets.iter().map(String::as_str).collect();
            assert_eq!(associated, expected);
        } else if let Some(i) = private_rts.iter().position(|p| p == id) {
            assert_tagged("private route table", table.tags());
            assert_eq!(
                default_route.and_then(|r| r.nat_gateway_id()),
                Some(nat_ids[i].as_str())
            );
            assert_eq!(associated, BTreeSet::from([private_subnets[i].as_str()]));
        }
    }

    // The S3 gateway endpoint, on the private route tables and only those.
    let endpoints = ec2
        .describe_vpc_endpoints()
        .filters(filter("vpc-id", &vpc_id))
        .send()
        .await
        .unwrap();
    assert_eq!(endpoints.vpc_endpoints().len(), 1);
    let endpoint = &endpoints.vpc_endpoints()[0];
    assert_tagged("s3 endpoint", endpoint.tags());
    assert_eq!(endpoint.service_name(), Some("com.amazonaws.eu-west-1.s3"));
    assert_eq!(
        endpoint.vpc_endpoint_type().map(|t| t.as_str()),
        Some("Gateway")
    );
    let on: BTreeSet<&str> = endpoint
        .route_table_ids()
        .iter()
        .map(String::as_str)
        .collect();
    assert_eq!(on, private_rts.iter().map(String::as_str).collect());

    // REJECT flow logs into the log group, delivered by a role whose policy covers the
    // group's ARN with and without `:*`.
    let flow_logs = ec2
        .describe_flow_logs()
        .filter(filter("resource-id", &vpc_id))
        .send()
        .await
        .unwrap();
    assert_eq!(flow_logs.flow_logs().len(), 1);
    let flow_log = &flow_logs.flow_logs()[0];
    assert_tagged("flow log", flow_log.tags());
    assert_eq!(flow_log.traffic_type().map(|t| t.as_str()), Some("REJECT"));
    assert_eq!(flow_log.log_group_name(), Some(log_group.as_str()));
    let groups = logs
        .describe_log_groups()
        .log_group_name_prefix(&log_group)
        .send()
        .await
        .unwrap();
    let group = &groups.log_groups()[0];
    assert_eq!(group.retention_in_days(), Some(30));
    let group_arn = group.arn().unwrap().trim_end_matches(":*").to_owned();
    let role_arn = flow_log
        .deliver_logs_permission_arn()
        .expect("a delivery role");
    let role_name = role_arn.rsplit('/').next().unwrap();
    let policies = iam
        .list_role_policies()
        .role_name(role_name)
        .send()
        .await
        .unwrap();
    assert_eq!(policies.policy_names().len(), 1);
    let policy = iam
        .get_role_policy()
        .role_name(role_name)
        .policy_name(&policies.policy_names()[0])
        .send()
        .await
        .unwrap();
    let document = percent_decode(policy.policy_document());
    assert!(document.contains(&format!("\"{group_arn}\"")), "{document}");
    assert!(
        document.contains(&format!("\"{group_arn}:*\"")),
        "{document}"
    );

    // Nothing changes on a second plan.
    assert_eq!(workspace.plan_detailed_exitcode(), PlanOutcome::NoChanges);

    // Destroy leaves nothing the provider created.
    workspace.destroy();
    let vpcs = ec2.describe_vpcs().send().await.unwrap();
    assert!(
        vpcs.vpcs().iter().all(|v| v.is_default() == Some(true)),
        "a VPC is left"
    );
    let subnets = ec2.describe_subnets().send().await.unwrap();
    assert!(
        subnets
            .subnets()
            .iter()
            .all(|s| s.default_for_az() == Some(true)),
        "a subnet is left"
    );
    let nats = ec2.describe_nat_gateways().send().await.unwrap();
    assert!(
        nats.nat_gateways()
            .iter()
            .all(|n| n.state().map(|s| s.as_str()) == Some("deleted")),
        "a NAT gateway is left"
    );
    assert!(
        ec2.describe_addresses()
            .send()
            .await
            .unwrap()
            .addresses()
            .is_empty(),
        "an Elastic IP is left"
    );
    let igws = ec2
        .describe_internet_gateways()
        .filters(filter("tag:atlas:network", NETWORK))
        .send()
        .await
        .unwrap();
    assert!(
        igws.internet_gateways().is_empty(),
        "the internet gateway is left"
    );
    // A deleted endpoint may still be listed for a while, in state `deleted`.
    let endpoints = ec2.describe_vpc_endpoints().send().await.unwrap();
    assert!(
        endpoints.vpc_endpoints().iter().all(|e| e
            .state()
            .map(|s| s.as_str().to_ascii_lowercase())
            .as_deref()
            == Some("deleted")),
        "an endpoint is left: {endpoints:?}"
    );
    assert!(
        ec2.describe_flow_logs()
            .send()
            .await
            .unwrap()
            .flow_logs()
            .is_empty(),
        "a flow log is left"
    );
    let groups = logs
        .describe_log_groups()
        .log_group_name_prefix(&log_group)
        .send()
        .await
        .unwrap();
    assert!(groups.log_groups().is_empty(), "the log group is left");
    assert!(
        iam.get_role().role_name(role_name).send().await.is_err(),
        "the role is left"
    );
}

/// IAM returns policy documents URL-encoded.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
