//! Data source `atlas_network`: reads a foundation built elsewhere (by another root's
//! `atlas_network`) by its VPC id, outputs the same ids as the resource, and checks that
//! it has the shape the design requires, with one diagnostic per deviation. A root that
//! builds on a borrowed foundation thereby fails at plan time, not at 3 a.m.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use async_trait::async_trait;
use tfplugin::diag::Diagnostics;
use tfplugin::resource::{Context, DataSource};
use tfplugin::schema::{Attribute, Block, Schema};
use tfplugin::validate;
use tfplugin::value::{AttributePath, Type, Value};

use super::model::{Drift, NetworkState, NETWORK_TAG};
use super::ops::{self, VpcObjects};
use super::ZONES;
use crate::aws::{ec2_tag, NAME_TAG};
use crate::convert;
use crate::provider::Shared;

/// The `atlas_network` data source.
#[derive(Debug)]
pub(crate) struct NetworkDataSource {
    shared: Arc<Shared>,
}

impl NetworkDataSource {
    /// The data source, reading the provider configuration from `shared`.
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        NetworkDataSource { shared }
    }
}

fn computed(name: &str, ty: Type, description: &str) -> Attribute {
    Attribute::computed(name, ty).description(description)
}

#[async_trait]
impl DataSource for NetworkDataSource {
    fn type_name(&self) -> &'static str {
        "atlas_network"
    }

    fn schema(&self) -> Schema {
        let list = || Type::List(Box::new(Type::String));
        Schema::new(Block::new(vec![
            Attribute::required("vpc_id", Type::String)
                .description("The id of the foundation's VPC, such as the `vpc_id` output of the root that owns it.")
                .validate(validate::string_length(5, 64)),
            computed("id", Type::String, "The VPC id."),
            computed("name", Type::String, "The network's name, from the VPC's `atlas:network` tag; null when the VPC has none."),
            computed("cidr_block", Type::String, "The VPC's IPv4 CIDR block."),
            computed("availability_zones", list(), "The zones by name, in name order."),
            computed("availability_zone_ids", list(), "The zone ids, in zone order."),
            computed("public_subnet_ids", list(), "The public subnet ids, in zone order."),
            computed("public_subnet_cidrs", list(), "The public subnets' CIDR blocks, in zone order."),
            computed("private_subnet_ids", list(), "The private subnet ids, in zone order."),
            computed("private_subnet_cidrs", list(), "The private subnets' CIDR blocks, in zone order."),
            computed("internet_gateway_id", Type::String, "The internet gateway id."),
            computed("public_route_table_id", Type::String, "The public route table id."),
            computed("private_route_table_ids", list(), "The private route table ids, in zone order."),
            computed("nat_gateway_ids", list(), "The NAT gateway ids, in zone order."),
            computed("nat_public_ips", list(), "The NAT gateways' public IP addresses, in zone order."),
            computed("eip_allocation_ids", list(), "The allocation ids of the NAT gateways' Elastic IPs, in zone order."),
            computed("s3_endpoint_id", Type::String, "The S3 gateway endpoint id."),
            computed("flow_log_id", Type::String, "The flow log id; null when there is none."),
            computed("flow_log_group_name", Type::String, "The flow log group's name; null when there is no flow log."),
            computed("tags", Type::Map(Box::new(Type::String)), "The VPC's tags."),
        ])
        .description("Reads the VPC foundation of another root by its VPC id and checks that it has the design's shape: two zones, a public and a private subnet per zone, a NAT gateway per zone that its zone's private route table routes through, and the S3 gateway endpoint on the private route tables only. Each deviation is an error."))
    }

    async fn read(&self, _ctx: &Context, config: &Value, diags: &mut Diagnostics) -> Option<Value> {
        let configured = self.shared.get(diags)?;
        let vpc_id = convert::string(config, "vpc_id");
        let at = || AttributePath::new().attr("vpc_id");
        let (objects, network) = match ops::read::inspect(&configured.aws, &vpc_id).await {
            Ok(Some(found)) => found,
            Ok(None) => {
                diags.error_at(
                    at(),
                    "Network Not Found",
                    format!("No VPC {vpc_id:?} exists in this region and account."),
                );
                return None;
            }
            Err(e) => {
                diags.error_at(
                    at(),
                    "Cannot Read Network",
                    format!("Reading VPC {vpc_id} failed: {e}."),
                );
                return None;
            }
        };

        let found = deviations(&objects, &network);
        for deviation in &found {
            diags.error_at(
                at(),
                "Network Out of Shape",
                format!(
                    "VPC {vpc_id}: {deviation} Repair the network in the root that owns it \
                     (an apply there repairs drift), then plan again."
                ),
            );
        }
        if !found.is_empty() {
            return None;
        }
        Some(value(config, &objects, &network))
    }
}

/// Every way the network differs from the design, as full sentences.
fn deviations(objects: &VpcObjects, network: &NetworkState) -> Vec<String> {
    let mut found = Vec::new();
    let zones = &network.availability_zones;
    if zones.len() != ZONES {
        found.push(format!(
            "The network spans {} availability zones ({}); the design has exactly {ZONES}.",
            zones.len(),
            zones.join(", ")
        ));
    }

    let network_name = objects.network_name();
    let ours = |tags: &[aws_sdk_ec2::types::Tag]| {
        network_name.is_none() || ec2_tag(tags, NETWORK_TAG) == network_name
    };
    let zone_of: BTreeMap<&str, &str> = objects
        .subnets
        .iter()
        .filter_map(|s| Some((s.subnet_id()?, s.availability_zone()?)))
        .collect();
    let in_zone = |ids: &[String], zone: &str| {
        ids.iter()
            .filter(|id| zone_of.get(id.as_str()) == Some(&zone))
            .count()
    };
    let mut subnets_per_zone: BTreeMap<&str, usize> = BTreeMap::new();
    for subnet in objects.subnets.iter().filter(|s| ours(s.tags())) {
        if let Some(zone) = subnet.availability_zone() {
            *subnets_per_zone.entry(zone).or_default() += 1;
        }
    }
    for (zone, count) in &subnets_per_zone {
        if *count > 2 {
            found.push(format!(
                "Zone {zone} has {count} subnets; the design has one public and one private \
                 subnet per zone."
            ));
        }
    }
    for zone in zones {
        if in_zone(&network.public_subnet_ids, zone) == 0 {
            found.push(format!("Zone {zone} has no public subnet."));
        }
        if in_zone(&network.private_subnet_ids, zone) == 0 {
            found.push(format!("Zone {zone} has no private subnet."));
        }
    }
    if network.private_route_table_ids.len() < network.private_subnet_ids.len() {
        found.push(
            "A private subnet has no private route table of its own; each private subnet \
             needs one whose default route goes to its zone's NAT gateway."
                .to_owned(),
        );
    }
    for drift in &network.drift {
        let mut sentence = drift.to_string();
        if let Some(first) = sentence.get(..1) {
            sentence.replace_range(..1, &first.to_uppercase());
        }
        sentence.push('.');
        // A missing NAT gateway also leaves its zone's route wrong: say it once.
        let repeats_missing_nat = matches!(drift, Drift::PrivateRouteWrong { zone, .. }
            if network.drift.iter().any(|d| matches!(d, Drift::NatGatewayMissing { zone: z, .. } if z == zone)));
        if !repeats_missing_nat {
            found.push(sentence);
        }
    }

    if network.internet_gateway_id.is_none() {
        found.push("No internet gateway of the network is attached to the VPC.".to_owned());
    }
    if network.public_route_table_id.is_none() {
        found.push("No public route table sends 0.0.0.0/0 to the internet gateway.".to_owned());
    }
    if let Some(endpoint_id) = &network.s3_endpoint_id {
        let private: BTreeSet<&str> = network
            .private_route_table_ids
            .iter()
            .map(String::as_str)
            .collect();
        let attached = objects
            .endpoints
            .iter()
            .find(|e| e.vpc_endpoint_id() == Some(endpoint_id.as_str()))
            .map(|e| e.route_table_ids().to_vec())
            .unwrap_or_default();
        for table in attached.iter().filter(|t| !private.contains(t.as_str())) {
            found.push(format!(
                "S3 endpoint {endpoint_id} is attached to route table {table}, which is not \
                 a private route table of the network; the endpoint belongs on the private \
                 route tables only."
            ));
        }
    }
    found
}

fn value(config: &Value, objects: &VpcObjects, network: &NetworkState) -> Value {
    let mut v = config.clone();
    let mut set = |name: &str, value: Value| tfplugin::plan::set_attr(&mut v, name, value);
    set("id", convert::opt(&network.vpc_id));
    set(
        "name",
        convert::opt(&objects.network_name().map(str::to_owned)),
    );
    set("cidr_block", Value::String(network.cidr_block.clone()));
    set(
        "availability_zones",
        convert::strings(&network.availability_zones),
    );
    set(
        "availability_zone_ids",
        convert::strings(&network.availability_zone_ids),
    );
    set(
        "public_subnet_ids",
        convert::strings(&network.public_subnet_ids),
    );
    set(
        "public_subnet_cidrs",
        convert::strings(&network.public_subnet_cidrs),
    );
    set(
        "private_subnet_ids",
        convert::strings(&network.private_subnet_ids),
    );
    set(
        "private_subnet_cidrs",
        convert::strings(&network.private_subnet_cidrs),
    );
    set(
        "internet_gateway_id",
        convert::opt(&network.internet_gateway_id),
    );
    set(
        "public_route_table_id",
        convert::opt(&network.public_route_table_id),
    );
    set(
        "private_route_table_ids",
        convert::strings(&network.private_route_table_ids),
    );
    set(
        "nat_gateway_ids",
        convert::strings(&network.nat_gateway_ids),
    );
    set("nat_public_ips", convert::strings(&network.nat_public_ips));
    set(
        "eip_allocation_ids",
        convert::strings(&network.eip_allocation_ids),
    );
    set("s3_endpoint_id", convert::opt(&network.s3_endpoint_id));
    set("flow_log_id", convert::opt(&network.flow_log_id));
    set(
        "flow_log_group_name",
        convert::opt(&network.flow_log_group_name),
    );
    let tags: BTreeMap<String, String> = network
        .tags
        .iter()
        .filter(|(k, _)| k.as_str() != NAME_TAG)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    set("tags", convert::map(&tags));
    v
}
