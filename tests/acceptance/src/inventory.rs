//! What the emulator holds, by kind of AWS object, read through the AWS SDK, and the
//! same kinds as referenced by a Terraform state: a test compares the two to prove that
//! nothing is orphaned (in AWS, unknown to the state) and nothing duplicated.
//!
//! Objects that exist without anyone creating them (the default VPC and everything in
//! it, each VPC's main route table and default security group, deleted NAT gateways
//! and endpoints that AWS still lists, inactive clusters, services and task definition
//! revisions, default listener rules) are left out. A new resource adds its kinds to
//! [`Inventory::read`] and, when its ids have no recognisable prefix, to
//! [`Inventory::referenced_by`].

use std::collections::{BTreeMap, BTreeSet};

use aws_config::SdkConfig;
use serde_json::Value;

/// Object ids by kind (`vpc`, `subnet`, `iam_role`, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inventory(pub BTreeMap<&'static str, BTreeSet<String>>);

/// EC2 id prefixes and the kind each names.
const EC2_PREFIXES: &[(&str, &str)] = &[
    ("vpc-", "vpc"),
    ("subnet-", "subnet"),
    ("igw-", "internet_gateway"),
    ("rtb-", "route_table"),
    ("nat-", "nat_gateway"),
    ("eipalloc-", "elastic_ip"),
    ("vpce-", "vpc_endpoint"),
    ("fl-", "flow_log"),
    ("sg-", "security_group"),
];

impl Inventory {
    /// Everything the emulator holds of the kinds the provider creates.
    ///
    /// # Panics
    ///
    /// When a describe or list call fails.
    pub async fn read(config: &SdkConfig) -> Inventory {
        let ec2 = aws_sdk_ec2::Client::new(config);
        let iam = aws_sdk_iam::Client::new(config);
        let logs = aws_sdk_cloudwatchlogs::Client::new(config);
        let mut found = Inventory::default();

        let vpcs = ec2.describe_vpcs().send().await.expect("DescribeVpcs");
        let default_vpcs: BTreeSet<String> = vpcs
            .vpcs()
            .iter()
            .filter(|v| v.is_default() == Some(true))
            .filter_map(|v| v.vpc_id().map(str::to_owned))
            .collect();
        let ours = |vpc: Option<&str>| vpc.is_some_and(|v| !default_vpcs.contains(v));
        for vpc in vpcs.vpcs() {
            if ours(vpc.vpc_id()) {
                found.add("vpc", vpc.vpc_id());
            }
        }
        let subnets = ec2
            .describe_subnets()
            .send()
            .await
            .expect("DescribeSubnets");
        for subnet in subnets.subnets() {
            if ours(subnet.vpc_id()) {
                found.add("subnet", subnet.subnet_id());
            }
        }
        let gateways = ec2
            .describe_internet_gateways()
            .send()
            .await
            .expect("DescribeInternetGateways");
        for gateway in gateways.internet_gateways() {
            // A detached gateway is someone's too: an interrupted create leaves one.
            let in_default = gateway
                .attachments()
                .iter()
                .any(|a| a.vpc_id().is_some_and(|v| default_vpcs.contains(v)));
            if !in_default {
                found.add("internet_gateway", gateway.internet_gateway_id());
            }
        }
        let tables = ec2
            .describe_route_tables()
            .send()
            .await
            .expect("DescribeRouteTables");
        for table in tables.route_tables() {
            let main = table.associations().iter().any(|a| a.main() == Some(true));
            if ours(table.vpc_id()) && !main {
                found.add("route_table", table.route_table_id());
            }
        }
        let nats = ec2
            .describe_nat_gateways()
            .send()
            .await
            .expect("DescribeNatGateways");
        for nat in nats.nat_gateways() {
            let gone = matches!(
                nat.state().map(|s| s.as_str()),
                Some("deleted" | "deleting" | "failed")
            );
            if !gone {
                found.add("nat_gateway", nat.nat_gateway_id());
            }
        }
        let addresses = ec2
            .describe_addresses()
            .send()
            .await
            .expect("DescribeAddresses");
        for address in addresses.addresses() {
            found.add("elastic_ip", address.allocation_id());
        }
        let endpoints = ec2
            .describe_vpc_endpoints()
            .send()
            .await
            .expect("DescribeVpcEndpoints");
        for endpoint in endpoints.vpc_endpoints() {
            let gone = matches!(
                endpoint.state().map(|s| s.as_str()),
                Some("deleted" | "Deleted" | "deleting" | "Deleting")
            );
            if !gone {
                found.add("vpc_endpoint", endpoint.vpc_endpoint_id());
            }
        }
        let flow_logs = ec2
            .describe_flow_logs()
            .send()
            .await
            .expect("DescribeFlowLogs");
        for flow_log in flow_logs.flow_logs() {
            found.add("flow_log", flow_log.flow_log_id());
        }
        let groups = ec2
            .describe_security_groups()
            .send()
            .await
            .expect("DescribeSecurityGroups");
        for group in groups.security_groups() {
            if ours(group.vpc_id()) && group.group_name() != Some("default") {
                found.add("security_group", group.group_id());
            }
        }
        let roles = iam.list_roles().send().await.expect("ListRoles");
        for role in roles.roles() {
            found.add("iam_role", Some(role.role_name()));
        }
        let log_groups = logs
            .describe_log_groups()
            .send()
            .await
            .expect("DescribeLogGroups");
        for group in log_groups.log_groups() {
            found.add("log_group", group.log_group_name());
        }
        read_workloads(config, &mut found).await;
        found.0.retain(|_, ids| !ids.is_empty());
        found
    }

    /// The objects of [`Inventory::read`]'s kinds that a state (`terraform show -json`)
    /// names: EC2 ids by their prefix, IAM roles by their ARN, log groups by the
    /// attributes that hold their names (`*log_group_name`).
    pub fn referenced_by(state: &Value) -> Inventory {
        let mut found = Inventory::default();
        walk(state, None, &mut |key, text| {
            for (prefix, kind) in EC2_PREFIXES {
                let rest = text.strip_prefix(prefix).unwrap_or_default();
                if !rest.is_empty() && rest.chars().all(|c| c.is_ascii_hexdigit()) {
                    found.add(kind, Some(text));
                }
            }
            if let Some((_, name)) = text.split_once(":role/") {
                if text.starts_with("arn:") {
                    found.add("iam_role", Some(name.rsplit('/').next().unwrap_or(name)));
                }
            }
            if key.is_some_and(|k| k.ends_with("log_group_name")) {
                found.add("log_group", Some(text));
            }
            if text.starts_with("arn:") {
                let service = text.split(':').nth(2).unwrap_or_default();
                for (of, marker, kind) in ARN_KINDS {
                    if service == *of && text.contains(marker) {
                        found.add(kind, Some(text));
                    }
                }
            }
        });
        found
    }

    fn add(&mut self, kind: &'static str, id: Option<&str>) {
        if let Some(id) = id.filter(|id| !id.is_empty()) {
            self.0.entry(kind).or_default().insert(id.to_owned());
        }
    }

    /// The ids of one kind of object.
    pub fn of(&self, kind: &str) -> BTreeSet<String> {
        self.0.get(kind).cloned().unwrap_or_default()
    }

    /// What this inventory holds and `baseline` does not, kind by kind.
    pub fn without(&self, baseline: &Inventory) -> Inventory {
        let mut rest = self.clone();
        for (kind, ids) in &mut rest.0 {
            if let Some(before) = baseline.0.get(kind) {
                ids.retain(|id| !before.contains(id));
            }
        }
        rest.0.retain(|_, ids| !ids.is_empty());
        rest
    }

    /// How many objects of every kind, for messages.
    pub fn counts(&self) -> BTreeMap<&'static str, usize> {
        self.0
            .iter()
            .map(|(kind, ids)| (*kind, ids.len()))
            .collect()
    }
}

/// The ARN markers of the ECS, ELBv2 and Cloud Map objects, and the kind each names.
const ARN_KINDS: &[(&str, &str, &str)] = &[
    ("ecs", ":cluster/", "ecs_cluster"),
    ("ecs", ":service/", "ecs_service"),
    ("ecs", ":task-definition/", "task_definition"),
    ("elasticloadbalancing", ":loadbalancer/", "load_balancer"),
    ("elasticloadbalancing", ":targetgroup/", "target_group"),
    ("elasticloadbalancing", ":listener/", "listener"),
    ("elasticloadbalancing", ":listener-rule/", "listener_rule"),
    ("servicediscovery", ":namespace/", "namespace"),
];

/// The ECS, ELBv2 and Cloud Map objects, by ARN: active clusters, services and task
/// definition revisions; load balancers, their listeners and non-default rules; target
/// groups; namespaces.
async fn read_workloads(config: &SdkConfig, found: &mut Inventory) {
    let ecs = aws_sdk_ecs::Client::new(config);
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(config);
    let cloudmap = aws_sdk_servicediscovery::Client::new(config);

    let clusters = ecs.list_clusters().send().await.expect("ListClusters");
    let clusters = clusters.cluster_arns().to_vec();
    if !clusters.is_empty() {
        let described = ecs
            .describe_clusters()
            .set_clusters(Some(clusters.clone()))
            .send()
            .await
            .expect("DescribeClusters");
        for cluster in described.clusters() {
            if cluster.status() == Some("ACTIVE") {
                found.add("ecs_cluster", cluster.cluster_arn());
            }
        }
    }
    for cluster in &clusters {
        let services = ecs
            .list_services()
            .cluster(cluster)
            .send()
            .await
            .expect("ListServices");
        for chunk in services.service_arns().chunks(10) {
            let described = ecs
                .describe_services()
                .cluster(cluster)
                .set_services(Some(chunk.to_vec()))
                .send()
                .await
                .expect("DescribeServices");
            for service in described.services() {
                if service.status() == Some("ACTIVE") {
                    found.add("ecs_service", service.service_arn());
                }
            }
        }
    }
    let revisions = ecs
        .list_task_definitions()
        .status(aws_sdk_ecs::types::TaskDefinitionStatus::Active)
        .send()
        .await
        .expect("ListTaskDefinitions");
    for arn in revisions.task_definition_arns() {
        found.add("task_definition", Some(arn));
    }

    let balancers = elb
        .describe_load_balancers()
        .send()
        .await
        .expect("DescribeLoadBalancers");
    for balancer in balancers.load_balancers() {
        found.add("load_balancer", balancer.load_balancer_arn());
        let listeners = elb
            .describe_listeners()
            .set_load_balancer_arn(balancer.load_balancer_arn().map(str::to_owned))
            .send()
            .await
            .expect("DescribeListeners");
        for listener in listeners.listeners() {
            found.add("listener", listener.listener_arn());
            let rules = elb
                .describe_rules()
                .set_listener_arn(listener.listener_arn().map(str::to_owned))
                .send()
                .await
                .expect("DescribeRules");
            for rule in rules.rules() {
                if rule.is_default() != Some(true) {
                    found.add("listener_rule", rule.rule_arn());
                }
            }
        }
    }
    let groups = elb
        .describe_target_groups()
        .send()
        .await
        .expect("DescribeTargetGroups");
    for group in groups.target_groups() {
        found.add("target_group", group.target_group_arn());
    }
    let namespaces = cloudmap
        .list_namespaces()
        .send()
        .await
        .expect("ListNamespaces");
    for namespace in namespaces.namespaces() {
        found.add("namespace", namespace.arn());
    }
}

fn walk(value: &Value, key: Option<&str>, visit: &mut impl FnMut(Option<&str>, &str)) {
    match value {
        Value::String(text) => visit(key, text),
        Value::Array(items) => items.iter().for_each(|item| walk(item, key, visit)),
        Value::Object(fields) => fields
            .iter()
            .for_each(|(name, item)| walk(item, Some(name), visit)),
        _ => {}
    }
}
