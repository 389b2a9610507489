//! The three roots as the platform team runs them, in order, on one emulator: staging
//! builds the foundation, the security matrix, the edge and its workloads; staging2 adds
//! only its cluster, services, target groups and hostname rules, on staging's subnets,
//! groups and listener; production is separate and private. A second plan of each is
//! empty, and destroying them in reverse order leaves nothing behind.
//!
//! Everything is checked through the AWS API of the emulator, not through the provider.

use std::collections::BTreeSet;

use atlas_acceptance::inventory::Inventory;
use atlas_acceptance::{Emulator, PlanOutcome, Workspace};
use aws_sdk_ec2::types::Filter;
use serde_json::Value;

/// What the emulator holds, by kind of object, through the AWS API (the defaults left
/// out): see `atlas_acceptance::inventory`.
async fn inventory(emulator: &Emulator) -> Inventory {
    Inventory::read(&emulator.sdk_config().await).await
}

fn strings(value: &Value) -> BTreeSet<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("expected a list, got {value}"))
        .iter()
        .map(|v| v.as_str().expect("a string").to_owned())
        .collect()
}

fn string_values(value: &Value) -> BTreeSet<String> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("expected a map, got {value}"))
        .values()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

/// The network configuration of every service of one cluster: (subnets, groups,
/// public IP setting) by service name.
async fn service_networks(
    emulator: &Emulator,
    cluster: &str,
) -> Vec<(String, BTreeSet<String>, BTreeSet<String>, String)> {
    let ecs = aws_sdk_ecs::Client::new(&emulator.sdk_config().await);
    let arns = ecs
        .list_services()
        .cluster(cluster)
        .send()
        .await
        .expect("ListServices")
        .service_arns()
        .to_vec();
    assert!(!arns.is_empty(), "no services in cluster {cluster}");
    let mut found = Vec::new();
    for chunk in arns.chunks(10) {
        let described = ecs
            .describe_services()
            .cluster(cluster)
            .set_services(Some(chunk.to_vec()))
            .send()
            .await
            .expect("DescribeServices");
        for service in described.services() {
            let vpc = service
                .network_configuration()
                .and_then(|n| n.awsvpc_configuration())
                .unwrap_or_else(|| panic!("{service:?} has no awsvpc configuration"));
            found.push((
                service.service_name().unwrap_or_default().to_owned(),
                vpc.subnets().iter().cloned().collect(),
                vpc.security_groups().iter().cloned().collect(),
                vpc.assign_public_ip()
                    .map(|a| a.as_str().to_owned())
                    .unwrap_or_default(),
            ));
        }
    }
    found
}

fn assert_plan_empty(workspace: &Workspace<'_>, root: &str) {
    match workspace.plan_detailed_exitcode() {
        PlanOutcome::NoChanges => {}
        PlanOutcome::Changes(plan) => panic!("second plan of {root} is not empty:\n{plan}"),
        other => panic!("unexpected plan outcome for {root}: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn three_roots_apply_in_order_share_the_foundation_and_destroy_clean() {
    let emulator = Emulator::start();
    let empty = inventory(&emulator).await;

    // staging: the foundation, the matrix, the edge, the cluster, six services.
    let staging = Workspace::copy_root(&emulator, "terraform/staging");
    staging.init();
    staging.apply();
    let after_staging = inventory(&emulator).await;
    let out = staging.output_json();
    let value = |name: &str| out[name]["value"].clone();
    let staging_private = strings(&value("private_subnet_ids"));
    let staging_groups = string_values(&value("security_group_ids"));
    assert_eq!(after_staging.of("vpc").len(), 1, "{after_staging:?}");
    assert_eq!(after_staging.of("subnet").len(), 4, "{after_staging:?}");
    assert_eq!(
        after_staging.of("nat_gateway").len(),
        2,
        "{after_staging:?}"
    );
    assert_eq!(
        after_staging.of("vpc_endpoint").len(),
        1,
        "{after_staging:?}"
    );
    assert_eq!(staging_groups.len(), 10, "ten groups: {staging_groups:?}");
    assert_eq!(
        after_staging.of("security_group"),
        staging_groups,
        "the VPC holds exactly the matrix's groups"
    );
    assert_eq!(after_staging.of("load_balancer").len(), 1);
    assert_eq!(after_staging.of("ecs_service").len(), 6, "six workloads");
    // events ingestion uses the ALB's default group; three hostname rules own a group each.
    assert_eq!(
        after_staging.of("target_group").len(),
        4,
        "{after_staging:?}"
    );
    assert_eq!(
        after_staging.of("listener_rule").len(),
        3,
        "{after_staging:?}"
    );
    for (name, subnets, groups, public_ip) in service_networks(&emulator, "atlas-staging").await {
        assert_eq!(
            subnets, staging_private,
            "{name} runs in the private subnets"
        );
        assert!(groups.is_subset(&staging_groups), "{name}: {groups:?}");
        assert_eq!(public_ip, "DISABLED", "{name} gets no public IP");
    }
    let exposure = value("exposure_report");
    let findings: BTreeSet<&str> = exposure
        .as_array()
        .expect("exposure_report is a list")
        .iter()
        .filter_map(|f| f["id"].as_str())
        .collect();
    for id in ["alb_world_open", "rds_world_open", "msk_world_open"] {
        assert!(findings.contains(id), "staging reports {id}: {findings:?}");
    }

    // staging2: only its cluster, services, target groups and rules, on staging's
    // subnets, groups and listener.
    let staging2 = Workspace::copy_root(&emulator, "terraform/staging2");
    staging2.init();
    staging2.apply();
    let after_staging2 = inventory(&emulator).await;
    for (label, kind) in [
        ("VPC", "vpc"),
        ("subnet", "subnet"),
        ("NAT gateway", "nat_gateway"),
        ("route table", "route_table"),
        ("VPC endpoint", "vpc_endpoint"),
        ("security group", "security_group"),
        ("load balancer", "load_balancer"),
    ] {
        assert_eq!(
            after_staging.of(kind),
            after_staging2.of(kind),
            "staging2 must not create a {label}"
        );
    }
    let added = after_staging2.without(&after_staging);
    assert_eq!(added.of("ecs_service").len(), 6);
    assert_eq!(added.of("target_group").len(), 4);
    assert_eq!(added.of("listener_rule").len(), 4);
    assert_eq!(
        added
            .of("ecs_cluster")
            .iter()
            .map(|arn| arn.rsplit('/').next().unwrap_or_default())
            .collect::<Vec<_>>(),
        ["atlas-staging2"]
    );
    for (name, subnets, groups, public_ip) in service_networks(&emulator, "atlas-staging2").await {
        assert_eq!(
            subnets, staging_private,
            "{name} runs on staging's private subnets"
        );
        assert!(
            groups.is_subset(&staging_groups),
            "{name} uses staging's group ids: {groups:?}"
        );
        assert_eq!(public_ip, "DISABLED", "{name} gets no public IP");
    }

    // production: its own foundation, matrix and edge; the database private.
    let production = Workspace::copy_root(&emulator, "terraform/production");
    production.init();
    production.apply();
    let after_production = inventory(&emulator).await;
    let pout = production.output_json();
    let pvalue = |name: &str| pout[name]["value"].clone();
    let production_vpc = pvalue("vpc_id").as_str().expect("vpc_id").to_owned();
    assert!(
        !after_staging.of("vpc").contains(&production_vpc),
        "production has its own VPC"
    );
    assert_eq!(after_production.of("vpc").len(), 2);
    assert_eq!(
        after_production
            .without(&after_staging2)
            .of("nat_gateway")
            .len(),
        2
    );
    assert_eq!(
        after_production
            .without(&after_staging2)
            .of("load_balancer")
            .len(),
        1
    );
    let production_private = strings(&pvalue("private_subnet_ids"));
    assert_eq!(pvalue("database_publicly_accessible"), Value::Bool(false));
    assert_eq!(strings(&pvalue("database_subnet_ids")), production_private);
    let production_groups = string_values(&pvalue("security_group_ids"));
    assert!(production_groups.is_disjoint(&staging_groups));
    let ec2 = aws_sdk_ec2::Client::new(&emulator.sdk_config().await);
    let rds_group = pvalue("security_group_ids")["rds"]
        .as_str()
        .expect("rds group")
        .to_owned();
    let rules = ec2
        .describe_security_group_rules()
        .filters(
            Filter::builder()
                .name("group-id")
                .values(&rds_group)
                .build(),
        )
        .send()
        .await
        .expect("DescribeSecurityGroupRules");
    for rule in rules.security_group_rules() {
        if rule.is_egress() == Some(false) {
            assert!(
                !matches!(rule.cidr_ipv4(), Some("0.0.0.0/0")) && rule.cidr_ipv6() != Some("::/0"),
                "production's database is world-open: {rule:?}"
            );
        }
    }
    for (name, subnets, _, public_ip) in service_networks(&emulator, "atlas-production").await {
        assert_eq!(
            subnets, production_private,
            "{name} runs in production's private subnets"
        );
        assert_eq!(public_ip, "DISABLED", "{name} gets no public IP");
    }

    for (root, workspace) in [
        ("staging", &staging),
        ("staging2", &staging2),
        ("production", &production),
    ] {
        assert_plan_empty(workspace, root);
    }

    production.destroy();
    staging2.destroy();
    assert_eq!(
        inventory(&emulator).await,
        after_staging,
        "destroying production and staging2 leaves staging as it was"
    );
    staging.destroy();
    let left = inventory(&emulator).await;
    assert_eq!(left, empty, "destroying all three leaves nothing behind");
}
