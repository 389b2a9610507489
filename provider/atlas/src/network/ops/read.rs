//! Reading a network back from AWS: a handful of calls per VPC, never one per object.
//!
//! Seven EC2 calls run at once (the VPC, then its subnets, route tables, internet
//! gateways, NAT gateways, VPC endpoints and flow logs, each filtered by the VPC), plus
//! `DescribeLogGroups` for the retention when a flow log exists: eight in all.
//!
//! The role that delivers the flow log is not read: its ARN is on the flow log
//! (`DeliverLogsPermissionArn`), and a role that is gone or lost its policy shows as the
//! flow log's `DeliverLogsStatus` turning `FAILED`, which the flow log describe already
//! returns. Besides the ids, a read records [`Drift`]: what exists but is not wired as the
//! network needs it (a missing NAT gateway, a wrong private default route, a detached
//! endpoint), which no id in state can show.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ec2::types::{
    Filter, FlowLog, InternetGateway, NatGateway, NatGatewayState, RouteState, RouteTable, State,
    Subnet, Vpc, VpcEndpoint,
};

use crate::aws::{ec2_tag, ec2_tag_map, AwsClients, AwsError};
use crate::network::model::{Drift, Names, NetworkState, NETWORK_TAG};

/// Everything of one VPC that a network may own, as AWS describes it.
#[derive(Debug, Clone)]
pub(crate) struct VpcObjects {
    pub(crate) vpc: Vpc,
    pub(crate) subnets: Vec<Subnet>,
    pub(crate) route_tables: Vec<RouteTable>,
    pub(crate) internet_gateways: Vec<InternetGateway>,
    /// Without the ones `deleting` or `deleted`.
    pub(crate) nat_gateways: Vec<NatGateway>,
    /// Without the ones `deleting` or `deleted`.
    pub(crate) endpoints: Vec<VpcEndpoint>,
    pub(crate) flow_logs: Vec<FlowLog>,
}

impl VpcObjects {
    /// The network name the VPC is tagged with.
    pub(crate) fn network_name(&self) -> Option<&str> {
        ec2_tag(self.vpc.tags(), NETWORK_TAG)
    }
}

fn vpc_filter(name: &str, vpc_id: &str) -> Filter {
    Filter::builder().name(name).values(vpc_id).build()
}

/// Describes the VPC and everything in it that a network owns; `None` if the VPC is gone.
pub(crate) async fn fetch(c: &AwsClients, vpc_id: &str) -> Result<Option<VpcObjects>, AwsError> {
    let ec2 = &c.ec2;
    let id = Some(vpc_id);
    let vpcs = async {
        match ec2.describe_vpcs().vpc_ids(vpc_id).send().await {
            Ok(answer) => Ok(answer.vpcs().first().cloned()),
            Err(err) => match AwsError::from_sdk("DescribeVpcs", id, err) {
                err if err.is_not_found() => Ok(None),
                err => Err(err),
            },
        }
    };
    let subnets = async {
        ec2.describe_subnets()
            .filters(vpc_filter("vpc-id", vpc_id))
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|err| AwsError::from_sdk("DescribeSubnets", id, err))
    };
    let route_tables = async {
        ec2.describe_route_tables()
            .filters(vpc_filter("vpc-id", vpc_id))
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|err| AwsError::from_sdk("DescribeRouteTables", id, err))
    };
    let internet_gateways = async {
        ec2.describe_internet_gateways()
            .filters(vpc_filter("attachment.vpc-id", vpc_id))
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|err| AwsError::from_sdk("DescribeInternetGateways", id, err))
    };
    let nat_gateways = async {
        ec2.describe_nat_gateways()
            .filter(vpc_filter("vpc-id", vpc_id))
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|err| AwsError::from_sdk("DescribeNatGateways", id, err))
    };
    let endpoints = async {
        ec2.describe_vpc_endpoints()
            .filters(vpc_filter("vpc-id", vpc_id))
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|err| AwsError::from_sdk("DescribeVpcEndpoints", id, err))
    };
    let flow_logs = async {
        ec2.describe_flow_logs()
            .filter(vpc_filter("resource-id", vpc_id))
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|err| AwsError::from_sdk("DescribeFlowLogs", id, err))
    };
    let (vpc, subnets, route_tables, internet_gateways, nat_gateways, endpoints, flow_logs) = tokio::join!(
        vpcs,
        subnets,
        route_tables,
        internet_gateways,
        nat_gateways,
        endpoints,
        flow_logs
    );
    let Some(vpc) = vpc? else {
        return Ok(None);
    };
    let nat_gateways: Vec<NatGateway> = nat_gateways?
        .into_iter()
        .filter(|gateway| {
            !matches!(
                gateway.state(),
                Some(NatGatewayState::Deleting | NatGatewayState::Deleted)
            )
        })
        .collect();
    let endpoints: Vec<VpcEndpoint> = endpoints?
        .into_iter()
        .filter(|endpoint| !matches!(endpoint.state(), Some(State::Deleting | State::Deleted)))
        .collect();
    Ok(Some(VpcObjects {
        vpc,
        subnets: subnets?,
        route_tables: route_tables?,
        internet_gateways: internet_gateways?,
        nat_gateways,
        endpoints,
        flow_logs: flow_logs?,
    }))
}

/// Reads the network whose VPC is `vpc_id`, with lists ordered by zone name; `None` if the
/// VPC no longer exists. For import; a refresh should use [`read_in_order`].
pub(crate) async fn read(c: &AwsClients, vpc_id: &str) -> Result<Option<NetworkState>, AwsError> {
    read_in_order(c, vpc_id, &[]).await
}

/// Reads the network whose VPC is `vpc_id`; `None` if the VPC no longer exists.
///
/// `zone_order` is the zone order recorded in state (configured zones need not be sorted);
/// lists come back in that order, and zones it does not name come after it, by name.
pub(crate) async fn read_in_order(
    c: &AwsClients,
    vpc_id: &str,
    zone_order: &[String],
) -> Result<Option<NetworkState>, AwsError> {
    let Some(objects) = fetch(c, vpc_id).await? else {
        return Ok(None);
    };
    let mut state = classify(&c.region, &objects, zone_order);

    if let Some(group) = state.flow_log_group_name.clone() {
        match read_log_group(c, &group).await? {
            Some(days) => state.flow_log_retention_days = days,
            None => state.flow_log_group_name = None,
        }
    }
    Ok(Some(state))
}

/// The VPC's objects and the network classified from them (lists in zone-name order), for
/// checking the network's shape; `None` if the VPC does not exist. EC2 calls only.
pub(crate) async fn inspect(
    c: &AwsClients,
    vpc_id: &str,
) -> Result<Option<(VpcObjects, NetworkState)>, AwsError> {
    let Some(objects) = fetch(c, vpc_id).await? else {
        return Ok(None);
    };
    let state = classify(&c.region, &objects, &[]);
    Ok(Some((objects, state)))
}

/// The retention of a log group in days (0: never expire), or `None` if it is gone.
async fn read_log_group(c: &AwsClients, name: &str) -> Result<Option<i32>, AwsError> {
    let answer = c
        .logs
        .describe_log_groups()
        .log_group_name_prefix(name)
        .send()
        .await
        .map_err(|err| AwsError::from_sdk("DescribeLogGroups", Some(name), err))?;
    Ok(answer
        .log_groups()
        .iter()
        .find(|group| group.log_group_name() == Some(name))
        .map(|group| group.retention_in_days().unwrap_or(0)))
}

/// The role name of a role ARN (`arn:aws:iam::123456789012:role/path/name` → `name`).
pub(crate) fn role_name(arn: &str) -> Option<&str> {
    arn.rsplit_once(":role/")
        .map(|(_, path)| path.rsplit('/').next().unwrap_or(path))
}

/// Which of the two kinds of subnet or route table an object is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tier {
    Public,
    Private,
}

/// Builds the state from what AWS returned.
///
/// Objects count when they carry the VPC's `atlas:network` tag (all of them, if the VPC
/// has none, as after importing a VPC made elsewhere). A subnet or route table is public
/// or private by its `Name` tag and, when the name was changed, by its routes: public
/// route tables send `0.0.0.0/0` to an internet gateway, private ones to a NAT gateway.
pub(crate) fn classify(region: &str, objects: &VpcObjects, zone_order: &[String]) -> NetworkState {
    let network = objects.network_name();
    let ours = |tags: &[aws_sdk_ec2::types::Tag]| match network {
        Some(network) => ec2_tag(tags, NETWORK_TAG) == Some(network),
        None => true,
    };
    let names = Names(network.unwrap_or_default());

    let route_tables: Vec<&RouteTable> = objects
        .route_tables
        .iter()
        .filter(|table| ours(table.tags()))
        .filter(|table| !table.associations().iter().any(|a| a.main() == Some(true)))
        .collect();
    let table_tier = |table: &RouteTable| -> Option<Tier> {
        let name = ec2_tag(table.tags(), "Name").unwrap_or_default();
        if network.is_some() && name == names.public_route_table() {
            return Some(Tier::Public);
        }
        if network.is_some() && name.starts_with(&names.private_route_table("")) {
            return Some(Tier::Private);
        }
        let default_route = table
            .routes()
            .iter()
            .find(|route| route.destination_cidr_block() == Some("0.0.0.0/0"))?;
        if default_route
            .gateway_id()
            .is_some_and(|id| id.starts_with("igw-"))
        {
            Some(Tier::Public)
        } else if default_route.nat_gateway_id().is_some() {
            Some(Tier::Private)
        } else {
            None
        }
    };
    let table_of_subnet = |subnet_id: &str| {
        route_tables.iter().copied().find(|table| {
            table
                .associations()
                .iter()
                .any(|a| a.subnet_id() == Some(subnet_id))
        })
    };

    // Subnets by tier and zone.
    let mut public: BTreeMap<String, &Subnet> = BTreeMap::new();
    let mut private: BTreeMap<String, &Subnet> = BTreeMap::new();
    let mut zone_ids: BTreeMap<String, String> = BTreeMap::new();
    for subnet in objects.subnets.iter().filter(|subnet| ours(subnet.tags())) {
        let (Some(id), Some(zone)) = (subnet.subnet_id(), subnet.availability_zone()) else {
            continue;
        };
        let name = ec2_tag(subnet.tags(), "Name").unwrap_or_default();
        let tier = if network.is_some() && name == names.public_subnet(zone) {
            Some(Tier::Public)
        } else if network.is_some() && name == names.private_subnet(zone) {
            Some(Tier::Private)
        } else {
            table_of_subnet(id).and_then(table_tier)
        };
        let map = match tier {
            Some(Tier::Public) => &mut public,
            Some(Tier::Private) => &mut private,
            None => continue,
        };
        map.entry(zone.to_owned()).or_insert(subnet);
        if let Some(zone_id) = subnet.availability_zone_id() {
            zone_ids.insert(zone.to_owned(), zone_id.to_owned());
        }
    }

    // Zones: the recorded order first, then any other zone by name.
    let found: BTreeSet<&String> = public.keys().chain(private.keys()).collect();
    let mut zones: Vec<String> = zone_order
        .iter()
        .filter(|zone| found.contains(zone))
        .cloned()
        .collect();
    zones.extend(
        found
            .into_iter()
            .filter(|zone| !zone_order.contains(zone))
            .cloned(),
    );

    let mut state = NetworkState {
        vpc_id: objects.vpc.vpc_id().map(str::to_owned),
        cidr_block: objects.vpc.cidr_block().unwrap_or_default().to_owned(),
        availability_zone_ids: zones
            .iter()
            .filter_map(|zone| zone_ids.get(zone).cloned())
            .collect(),
        tags: ec2_tag_map(objects.vpc.tags()),
        ..NetworkState::default()
    };

    let s3 = format!("com.amazonaws.{region}.s3");
    let endpoint = objects
        .endpoints
        .iter()
        .find(|endpoint| ours(endpoint.tags()) && endpoint.service_name() == Some(s3.as_str()));
    state.s3_endpoint_id = endpoint
        .and_then(|endpoint| endpoint.vpc_endpoint_id())
        .map(str::to_owned);

    for zone in &zones {
        if let Some(subnet) = public.get(zone) {
            state
                .public_subnet_ids
                .push(subnet.subnet_id().unwrap_or_default().to_owned());
            state
                .public_subnet_cidrs
                .push(subnet.cidr_block().unwrap_or_default().to_owned());
        }
        let nat = public.get(zone).and_then(|subnet| {
            objects.nat_gateways.iter().find(|nat| {
                ours(nat.tags())
                    && nat.subnet_id().is_some()
                    && nat.subnet_id() == subnet.subnet_id()
            })
        });
        if let Some(nat) = nat {
            state
                .nat_gateway_ids
                .push(nat.nat_gateway_id().unwrap_or_default().to_owned());
            if let Some(address) = nat
                .nat_gateway_addresses()
                .iter()
                .find(|a| a.is_primary() != Some(false))
            {
                if let Some(ip) = address.public_ip() {
                    state.nat_public_ips.push(ip.to_owned());
                }
                if let Some(allocation) = address.allocation_id() {
                    state.eip_allocation_ids.push(allocation.to_owned());
                }
            }
        } else if let Some(subnet) = public.get(zone) {
            state.drift.push(Drift::NatGatewayMissing {
                zone: zone.clone(),
                subnet_id: subnet.subnet_id().unwrap_or_default().to_owned(),
            });
        }
        let Some(subnet) = private.get(zone) else {
            continue;
        };
        let subnet_id = subnet.subnet_id().unwrap_or_default();
        state.private_subnet_ids.push(subnet_id.to_owned());
        state
            .private_subnet_cidrs
            .push(subnet.cidr_block().unwrap_or_default().to_owned());
        let Some(table) =
            table_of_subnet(subnet_id).filter(|t| table_tier(t) == Some(Tier::Private))
        else {
            continue;
        };
        let table_id = table.route_table_id().unwrap_or_default().to_owned();
        state.private_route_table_ids.push(table_id.clone());

        // The default route must go to this zone's NAT gateway, and not into a blackhole.
        let default_route = table
            .routes()
            .iter()
            .find(|route| route.destination_cidr_block() == Some("0.0.0.0/0"));
        let routed = default_route.is_some_and(|route| {
            route.state() != Some(&RouteState::Blackhole)
                && route.nat_gateway_id().is_some()
                && route.nat_gateway_id() == nat.and_then(|nat| nat.nat_gateway_id())
        });
        if !routed {
            state.drift.push(Drift::PrivateRouteWrong {
                zone: zone.clone(),
                route_table_id: table_id.clone(),
                has_default_route: default_route.is_some(),
            });
        }
        if let Some(endpoint) = endpoint {
            if !endpoint.route_table_ids().contains(&table_id) {
                state.drift.push(Drift::EndpointDetached {
                    zone: zone.clone(),
                    vpc_endpoint_id: endpoint.vpc_endpoint_id().unwrap_or_default().to_owned(),
                    route_table_id: table_id,
                });
            }
        }
    }
    if endpoint.is_none() && !state.private_route_table_ids.is_empty() {
        state.drift.push(Drift::EndpointMissing);
    }
    state.availability_zones = zones;

    state.public_route_table_id = route_tables
        .iter()
        .find(|table| table_tier(table) == Some(Tier::Public))
        .and_then(|table| table.route_table_id())
        .map(str::to_owned);
    state.internet_gateway_id = objects
        .internet_gateways
        .iter()
        .find(|gateway| ours(gateway.tags()))
        .and_then(|gateway| gateway.internet_gateway_id())
        .map(str::to_owned);
    if let Some(flow_log) = objects
        .flow_logs
        .iter()
        .find(|flow_log| ours(flow_log.tags()))
    {
        state.flow_log_id = flow_log.flow_log_id().map(str::to_owned);
        state.flow_log_group_name = flow_log.log_group_name().map(str::to_owned);
        // FAILED: AWS could not deliver with this role (gone, or its policy removed), so
        // the state says there is no working role and the next apply puts it back.
        if flow_log.deliver_logs_status() != Some("FAILED") {
            state.flow_log_role_arn = flow_log.deliver_logs_permission_arn().map(str::to_owned);
        }
    }
    state
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_name_drops_the_path() {
        assert_eq!(
            role_name("arn:aws:iam::123456789012:role/net-vpc-flow-logs"),
            Some("net-vpc-flow-logs")
        );
        assert_eq!(
            role_name("arn:aws:iam::123456789012:role/service/x"),
            Some("x")
        );
        assert_eq!(role_name("arn:aws:iam::123456789012:user/x"), None);
    }
}
