//! Tags of `atlas_network`: the provider's `default_tags` merged under the resource's own
//! on every object; changing either is an in-place update that reaches every object.

use std::collections::BTreeMap;

use atlas_acceptance::{Emulator, PlanOutcome, Workspace};
use aws_sdk_ec2::types::{Filter, Tag};

fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
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

/// The tags of every EC2 object of the VPC, by a description of the object.
async fn ec2_tags(
    ec2: &aws_sdk_ec2::Client,
    vpc_id: &str,
) -> Vec<(String, BTreeMap<String, String>)> {
    let by_vpc = || filter("vpc-id", vpc_id);
    let mut found = Vec::new();
    let vpc = ec2.describe_vpcs().vpc_ids(vpc_id).send().await.unwrap();
    found.push(("vpc".to_owned(), tag_map(vpc.vpcs()[0].tags())));
    let subnets = ec2
        .describe_subnets()
        .filters(by_vpc())
        .send()
        .await
        .unwrap();
    for s in subnets.subnets() {
        found.push((
            format!("subnet {}", s.subnet_id().unwrap()),
            tag_map(s.tags()),
        ));
    }
    let tables = ec2
        .describe_route_tables()
        .filters(by_vpc())
        .send()
        .await
        .unwrap();
    for t in tables.route_tables() {
        if t.associations().iter().any(|a| a.main() == Some(true)) {
            continue;
        }
        found.push((
            format!("route table {}", t.route_table_id().unwrap()),
            tag_map(t.tags()),
        ));
    }
    let igws = ec2
        .describe_internet_gateways()
        .filters(filter("attachment.vpc-id", vpc_id))
        .send()
        .await
        .unwrap();
    for g in igws.internet_gateways() {
        found.push(("internet gateway".to_owned(), tag_map(g.tags())));
    }
    let nats = ec2
        .describe_nat_gateways()
        .filter(by_vpc())
        .send()
        .await
        .unwrap();
    for n in nats.nat_gateways() {
        found.push((
            format!("nat gateway {}", n.nat_gateway_id().unwrap()),
            tag_map(n.tags()),
        ));
    }
    let endpoints = ec2
        .describe_vpc_endpoints()
        .filters(by_vpc())
        .send()
        .await
        .unwrap();
    for e in endpoints.vpc_endpoints() {
        found.push(("s3 endpoint".to_owned(), tag_map(e.tags())));
    }
    let flow_logs = ec2
        .describe_flow_logs()
        .filter(filter("resource-id", vpc_id))
        .send()
        .await
        .unwrap();
    for f in flow_logs.flow_logs() {
        found.push(("flow log".to_owned(), tag_map(f.tags())));
    }
    let addresses = ec2
        .describe_addresses()
        .filters(filter("tag:atlas:network", "net-tags"))
        .send()
        .await
        .unwrap();
    for a in addresses.addresses() {
        found.push((
            format!("elastic ip {}", a.allocation_id().unwrap()),
            tag_map(a.tags()),
        ));
    }
    found
}

fn assert_all_tagged(objects: &[(String, BTreeMap<String, String>)], expected: &[(&str, &str)]) {
    // VPC, 4 subnets, 3 route tables, gateway, 2 NAT gateways, endpoint, flow log, 2 EIPs.
    assert_eq!(objects.len(), 15, "{objects:#?}");
    for (what, tags) in objects {
        for (key, value) in expected {
            assert_eq!(
                tags.get(*key).map(String::as_str),
                Some(*value),
                "{what}: {tags:?}"
            );
        }
        assert_eq!(
            tags.get("atlas:network").map(String::as_str),
            Some("net-tags"),
            "{what}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn tags_and_default_tags_reach_every_object_and_update_in_place() {
    let emulator = Emulator::start();
    let workspace = Workspace::copy_root(&emulator, "tests/acceptance/tests/fixtures/network_tags");
    workspace.init();
    workspace.apply();
    let network = workspace.output("network");
    let vpc_id = network["vpc_id"].as_str().unwrap().to_owned();
    let tags_all = &network["tags_all"];
    assert_eq!(tags_all["environment"], "test", "{tags_all}");
    assert_eq!(
        tags_all["owner"], "network-team",
        "the resource's tag wins: {tags_all}"
    );
    assert_eq!(tags_all["team"], "platform", "{tags_all}");

    let ec2 = aws_sdk_ec2::Client::new(&emulator.sdk_config().await);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&emulator.sdk_config().await);
    assert_all_tagged(
        &ec2_tags(&ec2, &vpc_id).await,
        &[
            ("environment", "test"),
            ("owner", "network-team"),
            ("team", "platform"),
        ],
    );
    assert_eq!(workspace.plan_detailed_exitcode(), PlanOutcome::NoChanges);

    // A resource tag and a default tag change: an update in place, on every object.
    workspace.write_file(
        "terraform.tfvars",
        "team = \"data\"\nenvironment = \"prod\"\n",
    );
    let PlanOutcome::Changes(plan) = workspace.plan_detailed_exitcode() else {
        panic!("changing tags planned nothing");
    };
    assert!(
        plan.contains("atlas_network.this will be updated in-place"),
        "{plan}"
    );
    assert!(!plan.contains("must be replaced"), "{plan}");
    workspace.apply();
    let network = workspace.output("network");
    assert_eq!(network["vpc_id"].as_str(), Some(vpc_id.as_str()));
    assert_all_tagged(
        &ec2_tags(&ec2, &vpc_id).await,
        &[
            ("environment", "prod"),
            ("owner", "network-team"),
            ("team", "data"),
        ],
    );
    let group = network["flow_log_group_name"].as_str().unwrap();
    let described = logs
        .describe_log_groups()
        .log_group_name_prefix(group)
        .send()
        .await
        .unwrap();
    let arn = described.log_groups()[0]
        .arn()
        .unwrap()
        .trim_end_matches(":*")
        .to_owned();
    let group_tags = logs
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    let group_tags = group_tags.tags().cloned().unwrap_or_default();
    assert_eq!(
        group_tags.get("team").map(String::as_str),
        Some("data"),
        "{group_tags:?}"
    );
    assert_eq!(
        group_tags.get("environment").map(String::as_str),
        Some("prod")
    );
    assert_eq!(workspace.plan_detailed_exitcode(), PlanOutcome::NoChanges);
}
