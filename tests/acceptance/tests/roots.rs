//! The three roots as the platform team runs them, in order, on one emulator: staging
//! builds the foundation, the security matrix, the edge and its workloads; staging2 adds
//! only its cluster, services, target groups and hostname rules, on staging's subnets,
//! groups and listener; production is separate and private. A second plan of each is
//! empty, and destroying them in reverse order leaves nothing behind.
//!
//! Everything is checked through the AWS API of the emulator, not through the provider.

use std::collections::BTreeSet;

use atlas_acceptance::{Emulator, PlanOutcome, Workspace};
use aws_sdk_ec2::types::Filter;
use serde_json::Value;

/// What one account holds, by kind of object, as the AWS API lists it (default VPC and
/// its objects left out).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Inventory {
    vpcs: BTreeSet<String>,
    subnets: BTreeSet<String>,
    nat_gateways: BTreeSet<String>,
    route_tables: BTreeSet<String>,
    endpoints: BTreeSet<String>,
    security_groups: BTreeSet<String>,
    load_balancers: BTreeSet<String>,
    target_groups: BTreeSet<String>,
    rules: BTreeSet<String>,
    clusters: BTreeSet<String>,
    services: BTreeSet<String>,
    task_definitions: BTreeSet<String>,
    namespaces: BTreeSet<String>,
}

async fn inventory(emulator: &Emulator) -> Inventory {
    let config = emulator.sdk_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&config);
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&config);
    let ecs = aws_sdk_ecs::Client::new(&config);
    let cloudmap = aws_sdk_servicediscovery::Client::new(&config);

    let vpcs: Vec<_> = ec2
        .describe_vpcs()
        .send()
        .await
        .expect("DescribeVpcs")
        .vpcs()
        .iter()
        .filter(|v| !v.is_default().unwrap_or(false))
        .cloned()
        .collect();
    let vpc_ids: Vec<String> = vpcs
        .iter()
        .filter_map(|v| v.vpc_id().map(str::to_owned))
        .collect();
    let in_our_vpcs = Filter::builder()
        .name("vpc-id")
        .set_values(Some(vpc_ids.clone()))
        .build();
    let ids = |it: Vec<Option<&str>>| it.into_iter().flatten().map(str::to_owned).collect();

    let (subnets, nat_gateways, route_tables, endpoints, security_groups) = if vpc_ids.is_empty() {
        Default::default()
    } else {
        let subnets = ec2
            .describe_subnets()
            .filters(in_our_vpcs.clone())
            .send()
            .await
            .expect("DescribeSubnets");
        let nats = ec2
            .describe_nat_gateways()
            .filter(in_our_vpcs.clone())
            .send()
            .await
            .expect("DescribeNatGateways");
        let tables = ec2
            .describe_route_tables()
            .filters(in_our_vpcs.clone())
            .send()
            .await
            .expect("DescribeRouteTables");
        let endpoints = ec2
            .describe_vpc_endpoints()
            .filters(in_our_vpcs.clone())
            .send()
            .await
            .expect("DescribeVpcEndpoints");
        let groups = ec2
            .describe_security_groups()
            .filters(in_our_vpcs.clone())
            .send()
            .await
            .expect("DescribeSecurityGroups");
        (
            ids(subnets.subnets().iter().map(|s| s.subnet_id()).collect()),
            ids(nats
                .nat_gateways()
                .iter()
                .filter(|n| n.state().is_some_and(|s| s.as_str() != "deleted"))
                .map(|n| n.nat_gateway_id())
                .collect()),
            ids(tables
                .route_tables()
                .iter()
                .map(|t| t.route_table_id())
                .collect()),
            ids(endpoints
                .vpc_endpoints()
                .iter()
                .filter(|e| e.state().is_some_and(|s| s.as_str() != "deleted"))
                .map(|e| e.vpc_endpoint_id())
                .collect()),
            ids(groups
                .security_groups()
                .iter()
                .filter(|g| g.group_name() != Some("default"))
                .map(|g| g.group_id())
                .collect()),
        )
    };

    let lbs = elb
        .describe_load_balancers()
        .send()
        .await
        .expect("DescribeLoadBalancers");
    let load_balancers: BTreeSet<String> = ids(lbs
        .load_balancers()
        .iter()
        .map(|l| l.load_balancer_arn())
        .collect());
    let mut rules = BTreeSet::new();
    for lb in &load_balancers {
        let listeners = elb
            .describe_listeners()
            .load_balancer_arn(lb)
            .send()
            .await
            .expect("DescribeListeners");
        for listener in listeners.listeners() {
            let found = elb
                .describe_rules()
                .listener_arn(listener.listener_arn().unwrap_or_default())
                .send()
                .await
                .expect("DescribeRules");
            rules.extend(
                found
                    .rules()
                    .iter()
                    .filter(|r| !r.is_default().unwrap_or(false))
                    .filter_map(|r| r.rule_arn().map(str::to_owned)),
            );
        }
    }
    let target_groups = ids(elb
        .describe_target_groups()
        .send()
        .await
        .expect("DescribeTargetGroups")
        .target_groups()
        .iter()
        .map(|t| t.target_group_arn())
        .collect());

    let cluster_arns = ecs
        .list_clusters()
        .send()
        .await
        .expect("ListClusters")
        .cluster_arns()
        .to_vec();
    let mut clusters = BTreeSet::new();
    let mut services = BTreeSet::new();
    if !cluster_arns.is_empty() {
        let described = ecs
            .describe_clusters()
            .set_clusters(Some(cluster_arns.clone()))
            .send()
            .await
            .expect("DescribeClusters");
        for cluster in described.clusters() {
            if cluster.status() == Some("ACTIVE") {
                clusters.insert(cluster.cluster_name().unwrap_or_default().to_owned());
            }
        }
        for cluster in &cluster_arns {
            let arns = ecs
                .list_services()
                .cluster(cluster)
                .send()
                .await
                .expect("ListServices")
                .service_arns()
                .to_vec();
            for chunk in arns.chunks(10) {
                let described = ecs
                    .describe_services()
                    .cluster(cluster)
                    .set_services(Some(chunk.to_vec()))
                    .send()
                    .await
                    .expect("DescribeServices");
                services.extend(
                    described
                        .services()
                        .iter()
                        .filter(|s| s.status() == Some("ACTIVE"))
                        .filter_map(|s| s.service_arn().map(str::to_owned)),
                );
            }
        }
    }
    let task_definitions = ecs
        .list_task_definitions()
        .status(aws_sdk_ecs::types::TaskDefinitionStatus::Active)
        .send()
        .await
        .expect("ListTaskDefinitions")
        .task_definition_arns()
        .iter()
        .cloned()
        .collect();
    let namespaces = ids(cloudmap
        .list_namespaces()
        .send()
        .await
        .expect("ListNamespaces")
        .namespaces()
        .iter()
        .map(|n| n.id())
        .collect());

    Inventory {
        vpcs: vpc_ids.into_iter().collect(),
        subnets,
        nat_gateways,
        route_tables,
        endpoints,
        security_groups,
        load_balancers,
        target_groups,
        rules,
        clusters,
        services,
        task_definitions,
        namespaces,
    }
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

fn added<'a>(before: &'a BTreeSet<String>, after: &'a BTreeSet<String>) -> BTreeSet<&'a String> {
    after.difference(before).collect()
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
    assert_eq!(after_staging.vpcs.len(), 1, "{after_staging:?}");
    assert_eq!(after_staging.subnets.len(), 4, "{after_staging:?}");
    assert_eq!(after_staging.nat_gateways.len(), 2, "{after_staging:?}");
    assert_eq!(after_staging.endpoints.len(), 1, "{after_staging:?}");
    assert_eq!(staging_groups.len(), 10, "ten groups: {staging_groups:?}");
    assert_eq!(
        after_staging.security_groups, staging_groups,
        "the VPC holds exactly the matrix's groups"
    );
    assert_eq!(after_staging.load_balancers.len(), 1);
    assert_eq!(after_staging.services.len(), 6, "six workloads");
    // events ingestion uses the ALB's default group; three hostname rules own a group each.
    assert_eq!(after_staging.target_groups.len(), 4, "{after_staging:?}");
    assert_eq!(after_staging.rules.len(), 3, "{after_staging:?}");
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
    for (kind, before, after) in [
        ("VPC", &after_staging.vpcs, &after_staging2.vpcs),
        ("subnet", &after_staging.subnets, &after_staging2.subnets),
        (
            "NAT gateway",
            &after_staging.nat_gateways,
            &after_staging2.nat_gateways,
        ),
        (
            "route table",
            &after_staging.route_tables,
            &after_staging2.route_tables,
        ),
        (
            "VPC endpoint",
            &after_staging.endpoints,
            &after_staging2.endpoints,
        ),
        (
            "security group",
            &after_staging.security_groups,
            &after_staging2.security_groups,
        ),
        (
            "load balancer",
            &after_staging.load_balancers,
            &after_staging2.load_balancers,
        ),
    ] {
        assert_eq!(before, after, "staging2 must not create a {kind}");
    }
    assert_eq!(
        added(&after_staging.services, &after_staging2.services).len(),
        6
    );
    assert_eq!(
        added(&after_staging.target_groups, &after_staging2.target_groups).len(),
        4
    );
    assert_eq!(added(&after_staging.rules, &after_staging2.rules).len(), 4);
    assert_eq!(
        added(&after_staging.clusters, &after_staging2.clusters),
        BTreeSet::from([&"atlas-staging2".to_owned()])
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
        !after_staging.vpcs.contains(&production_vpc),
        "production has its own VPC"
    );
    assert_eq!(after_production.vpcs.len(), 2);
    assert_eq!(
        added(&after_staging2.nat_gateways, &after_production.nat_gateways).len(),
        2
    );
    assert_eq!(
        added(
            &after_staging2.load_balancers,
            &after_production.load_balancers
        )
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
