//! Drift of `atlas_network`: each change made outside Terraform shows in the next plan as
//! an in-place update, the apply repairs it, and the plan after that is empty. Checked
//! through the AWS API.

use atlas_acceptance::{Emulator, PlanOutcome, Workspace};
use aws_sdk_ec2::types::{Filter, RouteTable};
use serde_json::Value;

const FIXTURE: &str = "tests/acceptance/tests/fixtures/network_basic";

fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

fn strings(network: &Value, name: &str) -> Vec<String> {
    network[name]
        .as_array()
        .unwrap_or_else(|| panic!("{name} is not a list: {network}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

/// An applied network and an EC2 client on its emulator.
struct Applied<'e> {
    workspace: Workspace<'e>,
    ec2: aws_sdk_ec2::Client,
    network: Value,
}

async fn applied(emulator: &Emulator) -> Applied<'_> {
    let workspace = Workspace::copy_root(emulator, FIXTURE);
    workspace.init();
    workspace.apply();
    let network = workspace.output("network");
    let ec2 = aws_sdk_ec2::Client::new(&emulator.sdk_config().await);
    Applied {
        workspace,
        ec2,
        network,
    }
}

impl Applied<'_> {
    fn vpc_id(&self) -> String {
        self.network["vpc_id"].as_str().unwrap().to_owned()
    }

    /// The next plan shows an in-place update (nothing replaced) and the drift warning.
    fn plans_a_repair(&self, what: &str) {
        let PlanOutcome::Changes(plan) = self.workspace.plan_detailed_exitcode() else {
            panic!("{what}: the plan shows no change");
        };
        assert!(
            plan.contains("atlas_network.this will be updated in-place"),
            "{what}:\n{plan}"
        );
        assert!(!plan.contains("must be replaced"), "{what}:\n{plan}");
    }

    /// Applies, then checks that the plan after it is empty.
    fn repairs(&mut self) {
        self.workspace.apply();
        assert_eq!(
            self.workspace.plan_detailed_exitcode(),
            PlanOutcome::NoChanges,
            "the plan after the repair is not empty"
        );
        self.network = self.workspace.output("network");
    }

    async fn route_table(&self, id: &str) -> RouteTable {
        self.ec2
            .describe_route_tables()
            .route_table_ids(id)
            .send()
            .await
            .unwrap()
            .route_tables()[0]
            .clone()
    }

    /// Where the default route of the zone's private route table goes.
    async fn private_default_route(&self, zone: usize) -> Option<String> {
        let table = strings(&self.network, "private_route_table_ids")[zone].clone();
        self.route_table(&table)
            .await
            .routes()
            .iter()
            .find(|r| r.destination_cidr_block() == Some("0.0.0.0/0"))
            .and_then(|r| r.nat_gateway_id().map(str::to_owned))
    }

    /// Every zone's private default route goes to that zone's available NAT gateway,
    /// which sits in the zone's public subnet.
    async fn assert_private_routes(&self) {
        let nats = strings(&self.network, "nat_gateway_ids");
        let public = strings(&self.network, "public_subnet_ids");
        assert_eq!(nats.len(), 2, "{}", self.network);
        for zone in 0..2 {
            assert_eq!(
                self.private_default_route(zone).await.as_deref(),
                Some(nats[zone].as_str()),
                "zone {zone}"
            );
            let nat = self
                .ec2
                .describe_nat_gateways()
                .nat_gateway_ids(&nats[zone])
                .send()
                .await
                .unwrap()
                .nat_gateways()[0]
                .clone();
            assert_eq!(nat.state().map(|s| s.as_str()), Some("available"));
            assert_eq!(nat.subnet_id(), Some(public[zone].as_str()));
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn nat_gateway_deleted() {
    let emulator = Emulator::start();
    let mut net = applied(&emulator).await;
    let old = strings(&net.network, "nat_gateway_ids");
    net.ec2
        .delete_nat_gateway()
        .nat_gateway_id(&old[0])
        .send()
        .await
        .unwrap();

    net.plans_a_repair("a deleted NAT gateway");
    net.repairs();
    let new = strings(&net.network, "nat_gateway_ids");
    assert_ne!(new[0], old[0], "the deleted NAT gateway is still in state");
    assert_eq!(new[1], old[1], "the other zone's NAT gateway was replaced");
    net.assert_private_routes().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn private_route_removed() {
    let emulator = Emulator::start();
    let mut net = applied(&emulator).await;
    let table = strings(&net.network, "private_route_table_ids")[0].clone();
    net.ec2
        .delete_route()
        .route_table_id(&table)
        .destination_cidr_block("0.0.0.0/0")
        .send()
        .await
        .unwrap();
    assert_eq!(net.private_default_route(0).await, None);

    net.plans_a_repair("a removed private default route");
    net.repairs();
    net.assert_private_routes().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn private_route_changed() {
    let emulator = Emulator::start();
    let mut net = applied(&emulator).await;
    let table = strings(&net.network, "private_route_table_ids")[1].clone();
    let nats = strings(&net.network, "nat_gateway_ids");
    net.ec2
        .replace_route()
        .route_table_id(&table)
        .destination_cidr_block("0.0.0.0/0")
        .nat_gateway_id(&nats[0])
        .send()
        .await
        .unwrap();

    net.plans_a_repair("a private default route to the other zone");
    net.repairs();
    net.assert_private_routes().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn endpoint_detached() {
    let emulator = Emulator::start();
    let mut net = applied(&emulator).await;
    let endpoint = net.network["s3_endpoint_id"].as_str().unwrap().to_owned();
    let tables = strings(&net.network, "private_route_table_ids");
    net.ec2
        .modify_vpc_endpoint()
        .vpc_endpoint_id(&endpoint)
        .remove_route_table_ids(&tables[0])
        .send()
        .await
        .unwrap();

    net.plans_a_repair("an endpoint detached from a private route table");
    net.repairs();
    assert_eq!(
        net.network["s3_endpoint_id"].as_str(),
        Some(endpoint.as_str())
    );
    let found = net
        .ec2
        .describe_vpc_endpoints()
        .vpc_endpoint_ids(&endpoint)
        .send()
        .await
        .unwrap();
    let mut attached = found.vpc_endpoints()[0].route_table_ids().to_vec();
    attached.sort();
    let mut expected = tables.clone();
    expected.sort();
    assert_eq!(
        attached, expected,
        "the endpoint is on the private tables only"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn flow_log_deleted() {
    let emulator = Emulator::start();
    let mut net = applied(&emulator).await;
    let vpc_id = net.vpc_id();
    let old = net.network["flow_log_id"].as_str().unwrap().to_owned();
    let group = net.network["flow_log_group_name"]
        .as_str()
        .unwrap()
        .to_owned();
    net.ec2
        .delete_flow_logs()
        .flow_log_ids(&old)
        .send()
        .await
        .unwrap();

    net.plans_a_repair("a deleted flow log");
    net.repairs();
    let found = net
        .ec2
        .describe_flow_logs()
        .filter(filter("resource-id", &vpc_id))
        .send()
        .await
        .unwrap();
    assert_eq!(found.flow_logs().len(), 1, "{found:?}");
    let flow_log = &found.flow_logs()[0];
    assert_ne!(flow_log.flow_log_id(), Some(old.as_str()));
    assert_eq!(flow_log.flow_log_id(), net.network["flow_log_id"].as_str());
    assert_eq!(flow_log.traffic_type().map(|t| t.as_str()), Some("REJECT"));
    assert_eq!(flow_log.log_group_name(), Some(group.as_str()));
}
