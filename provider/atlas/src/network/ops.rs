//! Creating, updating and deleting a network in AWS.
//!
//! A create records every object id the moment AWS returns it, so that when a later step
//! fails the caller still learns of everything that exists ([`CreateFailure::partial`]) and
//! a destroy removes it. Independent steps run concurrently; the first failure cancels the
//! waits and retries of the others, and every object is tagged at creation with
//! `atlas:network`, so that even an object whose id was lost can be found again by
//! [`delete`].

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::Mutex;
use std::time::Instant;
use std::{error, fmt};

use aws_sdk_ec2::types::{
    AttributeBooleanValue, DomainType, FlowLogsResourceType, LogDestinationType, ResourceType, Tag,
    TrafficType, VpcEndpointType,
};
use futures::future::join_all;
use tokio_util::sync::CancellationToken;

use super::model::{
    is_reserved_tag, plan_cidrs, Drift, Names, NetworkSpec, NetworkState, CREATING_TAG, NETWORK_TAG,
};
pub(crate) use read::VpcObjects;
use read::{classify, fetch, role_name};

pub(crate) mod read;

use crate::aws::{
    ec2_tag, filter, interfaces_using, retry_when, retry_while, tag_spec, wait_nat_gateways,
    AwsClients, AwsError, NatTarget, TagDiff,
};
// `read_in_order` is for the refresh, which knows the recorded zone order.
pub(crate) use read::{read, read_in_order};

/// The name of the inline policy on the flow log role.
const FLOW_LOG_POLICY: &str = "vpc-flow-logs-delivery";

/// A create or update that failed part way.
#[derive(Debug)]
pub(crate) struct CreateFailure {
    /// Everything that exists so far, so that Terraform can record it and a later destroy
    /// removes it. (Boxed: the state is large, and errors travel by value.)
    pub(crate) partial: Box<NetworkState>,
    /// What went wrong.
    pub(crate) error: AwsError,
}

impl fmt::Display for CreateFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

impl error::Error for CreateFailure {
    fn source(&self) -> Option<&(dyn error::Error + 'static)> {
        self.error.source()
    }
}

// ---------------------------------------------------------------------------------------
// create

/// Creates the whole network described by `spec`.
///
/// Steps, with what runs at the same time on one line:
/// 1. zones; the flow log group and role (when flow logs are on) from here to step 5;
/// 2. the VPC;
/// 3. DNS attributes, internet gateway, subnets, route tables, Elastic IPs;
/// 4. public routes and associations, private associations, the S3 endpoint, the NAT
///    gateways (waited for) and then the private default routes;
/// 5. the flow log.
pub(crate) async fn create(
    c: &AwsClients,
    spec: &NetworkSpec,
    cancel: &CancellationToken,
    deadline: Instant,
) -> Result<NetworkState, CreateFailure> {
    if let Err(error) = clear_interrupted(c, spec, cancel, deadline).await {
        return Err(CreateFailure {
            partial: Box::default(),
            error,
        });
    }
    let run = Run::new(c, spec, NetworkState::default(), cancel, deadline);
    let result = run.create().await;
    let created = run.finish(result)?;
    // The network is whole: it is no longer the leftover of an interrupted create.
    if let Some(vpc_id) = &created.vpc_id {
        let unmark = c
            .ec2
            .delete_tags()
            .resources(vpc_id)
            .tags(Tag::builder().key(CREATING_TAG).build())
            .send()
            .await;
        if let Err(err) = unmark {
            let error = AwsError::from_sdk("DeleteTags", Some(vpc_id), err);
            return Err(CreateFailure {
                partial: Box::new(created),
                error,
            });
        }
    }
    Ok(created)
}

/// Before a create: a VPC with this network's name that is still marked as being created
/// is what a create killed halfway left behind, unknown to any state; it is removed so
/// that the network is never built twice. A finished network with the same name is an
/// error that says how to import it.
async fn clear_interrupted(
    c: &AwsClients,
    spec: &NetworkSpec,
    cancel: &CancellationToken,
    deadline: Instant,
) -> Result<(), AwsError> {
    let answer = c
        .ec2
        .describe_vpcs()
        .filters(filter(&format!("tag:{NETWORK_TAG}"), [spec.name.as_str()]))
        .send()
        .await
        .map_err(|err| AwsError::from_sdk("DescribeVpcs", None, err))?;
    for vpc in answer.vpcs() {
        let vpc_id = vpc.vpc_id().unwrap_or_default();
        let interrupted = vpc.tags().iter().any(|tag| tag.key() == Some(CREATING_TAG));
        if !interrupted {
            return Err(AwsError::InvalidInput {
                detail: format!(
                    "a network named {:?} already exists as {vpc_id}; import it \
                     (`terraform import <address> {vpc_id}`) or choose another name",
                    spec.name
                ),
            });
        }
        tracing::warn!(vpc_id, "removing what an interrupted create left behind");
        if let Some(left) = read(c, vpc_id).await? {
            delete(c, &left, cancel, deadline).await?;
        }
    }
    Ok(())
}

/// Turns flow logs on or off and changes their retention, in place.
///
/// Turning them on creates whatever of the log group, the role and the flow log is
/// missing; turning them off deletes all three. Returns the new state.
pub(crate) async fn set_flow_logs(
    c: &AwsClients,
    state: &NetworkState,
    spec: &NetworkSpec,
    cancel: &CancellationToken,
    deadline: Instant,
) -> Result<NetworkState, CreateFailure> {
    let run = Run::new(c, spec, state.clone(), cancel, deadline);
    let result = run.set_flow_logs().await;
    run.finish(result)
}

/// Sets the VPC's DNS support and DNS hostnames in place, as `spec` says.
pub(crate) async fn update_dns(
    c: &AwsClients,
    state: &NetworkState,
    spec: &NetworkSpec,
    cancel: &CancellationToken,
    deadline: Instant,
) -> Result<(), AwsError> {
    let vpc_id = state.vpc_id.clone().unwrap_or_default();
    let run = Run::new(c, spec, state.clone(), cancel, deadline);
    run.set_dns(&vpc_id).await
}

/// Puts back what a read found out of shape (see [`Drift`]), from a fresh look at the
/// VPC: a missing NAT gateway (with an idle or new Elastic IP, waited for until
/// available), a private default route that is missing or goes elsewhere, and the S3
/// endpoint's attachment to the private route tables, or the endpoint itself. Objects
/// created are tagged like the rest, so a read finds them even when a later step fails.
pub(crate) async fn repair(
    c: &AwsClients,
    state: &NetworkState,
    spec: &NetworkSpec,
    cancel: &CancellationToken,
    deadline: Instant,
) -> Result<(), AwsError> {
    let run = Run::new(c, spec, state.clone(), cancel, deadline);
    run.repair().await
}

/// One create or update in progress.
struct Run<'a> {
    c: &'a AwsClients,
    spec: &'a NetworkSpec,
    names: Names<'a>,
    /// The configured tags plus `atlas:network`.
    tags: BTreeMap<String, String>,
    /// Every id the moment AWS returns it.
    state: Mutex<NetworkState>,
    /// A child of the caller's token, also cancelled at the first failure so that the
    /// other branches stop waiting.
    stop: CancellationToken,
    deadline: Instant,
}

impl<'a> Run<'a> {
    fn new(
        c: &'a AwsClients,
        spec: &'a NetworkSpec,
        state: NetworkState,
        cancel: &CancellationToken,
        deadline: Instant,
    ) -> Self {
        let mut tags: BTreeMap<String, String> = spec
            .tags
            .iter()
            .filter(|(key, _)| !is_reserved_tag(key))
            .map(clone_pair)
            .collect();
        tags.insert(NETWORK_TAG.to_owned(), spec.name.clone());
        Run {
            c,
            spec,
            names: Names(&spec.name),
            tags,
            state: Mutex::new(state),
            stop: cancel.child_token(),
            deadline,
        }
    }

    fn record(&self, update: impl FnOnce(&mut NetworkState)) {
        update(
            &mut self
                .state
                .lock()
                .expect("no panic while the state is locked"),
        );
    }

    fn finish(self, result: Result<(), AwsError>) -> Result<NetworkState, CreateFailure> {
        let mut state = self
            .state
            .into_inner()
            .expect("no panic while the state is locked");
        // Per-zone lists start with an empty slot per zone; a failed create leaves some.
        for list in [
            &mut state.public_subnet_ids,
            &mut state.private_subnet_ids,
            &mut state.private_route_table_ids,
            &mut state.nat_gateway_ids,
            &mut state.nat_public_ips,
            &mut state.eip_allocation_ids,
        ] {
            list.retain(|id| !id.is_empty());
        }
        match result {
            Ok(()) => Ok(state),
            Err(error) => Err(CreateFailure {
                partial: Box::new(state),
                error,
            }),
        }
    }

    /// Runs `step`; a failure cancels the other branches' waits.
    async fn guard<T>(
        &self,
        step: impl Future<Output = Result<T, AwsError>>,
    ) -> Result<T, AwsError> {
        let result = step.await;
        if result.is_err() {
            self.stop.cancel();
        }
        result
    }

    fn retry_codes<'s, T, F, Fut>(
        &'s self,
        codes: &'s [&'s str],
        op: F,
    ) -> impl Future<Output = Result<T, AwsError>> + 's
    where
        F: FnMut() -> Fut + 's,
        Fut: Future<Output = Result<T, AwsError>> + 's,
        T: 's,
    {
        retry_while(codes, self.deadline, &self.stop, op)
    }

    async fn create(&self) -> Result<(), AwsError> {
        let zones = self.spec.availability_zones.as_ref().map_or(2, Vec::len);
        let (public_cidrs, private_cidrs) = self.subnet_cidrs(zones)?;
        self.record(|s| {
            s.cidr_block = self.spec.cidr_block.clone();
            s.public_subnet_cidrs = public_cidrs;
            s.private_subnet_cidrs = private_cidrs;
            s.tags = self.tags.clone();
            s.tags
                .insert(crate::aws::NAME_TAG.to_owned(), self.names.vpc());
        });

        let flow_log_prerequisites = async {
            if self.spec.flow_logs {
                self.guard(self.flow_log_prerequisites()).await.map(Some)
            } else {
                Ok(None)
            }
        };
        let (network, prerequisites) =
            tokio::join!(self.guard(self.network()), flow_log_prerequisites);
        let ((), prerequisites) = both(network, prerequisites)?;
        if let Some((group, role_arn)) = prerequisites {
            let vpc_id = self.vpc_id();
            self.create_flow_log(&vpc_id, &group, &role_arn).await?;
        }
        Ok(())
    }

    fn vpc_id(&self) -> String {
        self.state
            .lock()
            .expect("no panic while the state is locked")
            .vpc_id
            .clone()
            .unwrap_or_default()
    }

    fn subnet_cidrs(&self, zones: usize) -> Result<(Vec<String>, Vec<String>), AwsError> {
        let planned = || {
            plan_cidrs(&self.spec.cidr_block, zones).map_err(|err| AwsError::InvalidInput {
                detail: err.to_string(),
            })
        };
        let (public, private) = match (
            &self.spec.public_subnet_cidrs,
            &self.spec.private_subnet_cidrs,
        ) {
            (Some(public), Some(private)) => (public.clone(), private.clone()),
            (Some(public), None) => (public.clone(), planned()?.1),
            (None, Some(private)) => (planned()?.0, private.clone()),
            (None, None) => planned()?,
        };
        if public.len() != zones || private.len() != zones {
            return Err(AwsError::InvalidInput {
                detail: format!(
                    "{zones} availability zones need {zones} public and {zones} private subnet \
                     CIDRs, got {} and {}",
                    public.len(),
                    private.len()
                ),
            });
        }
        Ok((public, private))
    }

    /// Steps 1 to 4.
    async fn network(&self) -> Result<(), AwsError> {
        let (zones, zone_ids) = self.zones().await?;
        let slots = vec![String::new(); zones.len()];
        self.record(|s| {
            s.availability_zones = zones.clone();
            s.availability_zone_ids = zone_ids;
            s.public_subnet_ids = slots.clone();
            s.private_subnet_ids = slots.clone();
            s.private_route_table_ids = slots.clone();
            s.nat_gateway_ids = slots.clone();
            s.nat_public_ips = slots.clone();
            s.eip_allocation_ids = slots;
        });

        let vpc_id = self.create_vpc().await?;

        let (dns, igw, subnets, tables, eips) = tokio::join!(
            self.guard(self.set_dns(&vpc_id)),
            self.guard(self.create_internet_gateway(&vpc_id)),
            self.guard(self.create_subnets(&vpc_id, &zones)),
            self.guard(self.create_route_tables(&vpc_id, &zones)),
            self.guard(self.allocate_addresses(&zones)),
        );
        let ((((), igw), (public_subnets, private_subnets)), (public_table, private_tables)) =
            both(both(both(dns, igw), subnets), tables)?;
        let eips = eips?;

        let (public, private, endpoint, nat) = tokio::join!(
            self.guard(self.route_public(&public_table, &igw, &public_subnets)),
            self.guard(self.associate_all(&private_tables, &private_subnets)),
            self.guard(self.create_s3_endpoint(&vpc_id, &private_tables, format!("{vpc_id}-s3"))),
            self.guard(self.create_nat_gateways(
                &vpc_id,
                &zones,
                &public_subnets,
                &eips,
                &private_tables
            )),
        );
        first_error([public, private, endpoint, nat])
    }

    /// The zones and their ids: the configured ones, or the first two available.
    async fn zones(&self) -> Result<(Vec<String>, Vec<String>), AwsError> {
        let mut request = self.c.ec2.describe_availability_zones();
        match &self.spec.availability_zones {
            Some(zones) => request = request.filters(filter("zone-name", zones.clone())),
            None => {
                request = request
                    .filters(filter("state", ["available"]))
                    .filters(filter("opt-in-status", ["opt-in-not-required"]))
                    .filters(filter("zone-type", ["availability-zone"]));
            }
        }
        let answer = request
            .send()
            .await
            .map_err(|err| AwsError::from_sdk("DescribeAvailabilityZones", None, err))?;
        let mut found: BTreeMap<String, String> = answer
            .availability_zones()
            .iter()
            .filter_map(|zone| Some((zone.zone_name()?.to_owned(), zone.zone_id()?.to_owned())))
            .collect();

        let names: Vec<String> = match &self.spec.availability_zones {
            Some(zones) => {
                if let Some(missing) = zones.iter().find(|zone| !found.contains_key(*zone)) {
                    return Err(AwsError::InvalidInput {
                        detail: format!(
                            "availability zone {missing} does not exist in region {}",
                            self.c.region
                        ),
                    });
                }
                zones.clone()
            }
            None => {
                if found.len() < 2 {
                    return Err(AwsError::InvalidInput {
                        detail: format!(
                            "region {} has {} available availability zones without opt-in, \
                             and a network needs two",
                            self.c.region,
                            found.len()
                        ),
                    });
                }
                found.keys().take(2).cloned().collect()
            }
        };
        let ids = names
            .iter()
            .map(|zone| found.remove(zone).unwrap_or_default())
            .collect();
        Ok((names, ids))
    }

    async fn create_vpc(&self) -> Result<String, AwsError> {
        tracing::debug!(cidr_block = %self.spec.cidr_block, "creating vpc");
        let mut creating = self.tags.clone();
        creating.insert(CREATING_TAG.to_owned(), "true".to_owned());
        let answer = self
            .c
            .ec2
            .create_vpc()
            .cidr_block(&self.spec.cidr_block)
            .tag_specifications(tag_spec(ResourceType::Vpc, &self.names.vpc(), &creating))
            .send()
            .await
            .map_err(|err| AwsError::from_sdk("CreateVpc", None, err))?;
        let vpc_id = answer
            .vpc()
            .and_then(|vpc| vpc.vpc_id())
            .ok_or_else(|| AwsError::missing("CreateVpc", None, "vpc id"))?
            .to_owned();
        self.record(|s| s.vpc_id = Some(vpc_id.clone()));
        Ok(vpc_id)
    }

    /// Sets the VPC's two DNS attributes as the spec says. AWS changes one attribute per
    /// call and refuses DNS hostnames while DNS support is off: support goes first when it
    /// is turned on, last when it is turned off.
    async fn set_dns(&self, vpc_id: &str) -> Result<(), AwsError> {
        let support = self.spec.enable_dns_support;
        let hostnames = self.spec.enable_dns_hostnames;
        let set = |which: &'static str, on: bool| async move {
            self.retry_codes(
                // InvalidVpcID.NotFound: the VPC was created a moment ago.
                &["InvalidVpcID.NotFound"],
                move || async move {
                    tracing::debug!(vpc_id, attribute = which, on, "setting vpc dns attribute");
                    let value = AttributeBooleanValue::builder().value(on).build();
                    let call = self.c.ec2.modify_vpc_attribute().vpc_id(vpc_id);
                    let call = if which == "support" {
                        call.enable_dns_support(value)
                    } else {
                        call.enable_dns_hostnames(value)
                    };
                    call.send()
                        .await
                        .map(drop)
                        .map_err(|err| AwsError::from_sdk("ModifyVpcAttribute", Some(vpc_id), err))
                },
            )
            .await
        };
        if support {
            set("support", true).await?;
            set("hostnames", hostnames).await
        } else {
            set("hostnames", false).await?;
            set("support", false).await
        }
    }

    async fn create_internet_gateway(&self, vpc_id: &str) -> Result<String, AwsError> {
        tracing::debug!(vpc_id, "creating internet gateway");
        let answer = self
            .c
            .ec2
            .create_internet_gateway()
            .tag_specifications(tag_spec(
                ResourceType::InternetGateway,
                &self.names.internet_gateway(),
                &self.tags,
            ))
            .send()
            .await
            .map_err(|err| AwsError::from_sdk("CreateInternetGateway", Some(vpc_id), err))?;
        let igw_id = answer
            .internet_gateway()
            .and_then(|igw| igw.internet_gateway_id())
            .ok_or_else(|| AwsError::missing("CreateInternetGateway", None, "gateway id"))?
            .to_owned();
        self.record(|s| s.internet_gateway_id = Some(igw_id.clone()));

        self.retry_codes(
            // InvalidVpcID.NotFound, InvalidInternetGatewayID.NotFound: both are new.
            &["InvalidVpcID.NotFound", "InvalidInternetGatewayID.NotFound"],
            || async {
                tracing::debug!(vpc_id, internet_gateway_id = %igw_id, "attaching internet gateway");
                self.c
                    .ec2
                    .attach_internet_gateway()
                    .internet_gateway_id(&igw_id)
                    .vpc_id(vpc_id)
                    .send()
                    .await
                    .map(drop)
                    .map_err(|err| AwsError::from_sdk("AttachInternetGateway", Some(&igw_id), err))
            },
        )
        .await?;
        Ok(igw_id)
    }

    /// The public and the private subnets, ordered by zone.
    async fn create_subnets(
        &self,
        vpc_id: &str,
        zones: &[String],
    ) -> Result<(Vec<String>, Vec<String>), AwsError> {
        let (public_cidrs, private_cidrs) = {
            let s = self
                .state
                .lock()
                .expect("no panic while the state is locked");
            (
                s.public_subnet_cidrs.clone(),
                s.private_subnet_cidrs.clone(),
            )
        };
        let public = zones
            .iter()
            .zip(&public_cidrs)
            .enumerate()
            .map(|(index, (zone, cidr))| {
                self.create_subnet(
                    vpc_id,
                    zone,
                    cidr,
                    self.names.public_subnet(zone),
                    move |s, id| {
                        s.public_subnet_ids[index] = id;
                    },
                )
            });
        let private = zones
            .iter()
            .zip(&private_cidrs)
            .enumerate()
            .map(|(index, (zone, cidr))| {
                self.create_subnet(
                    vpc_id,
                    zone,
                    cidr,
                    self.names.private_subnet(zone),
                    move |s, id| {
                        s.private_subnet_ids[index] = id;
                    },
                )
            });
        let (public, private) = tokio::join!(all(public), all(private));
        both(public, private)
    }

    async fn create_subnet(
        &self,
        vpc_id: &str,
        zone: &str,
        cidr: &str,
        name: String,
        record: impl FnOnce(&mut NetworkState, String),
    ) -> Result<String, AwsError> {
        let subnet_id = self
            .retry_codes(
                // InvalidVpcID.NotFound: the VPC was created a moment ago.
                &["InvalidVpcID.NotFound"],
                || async {
                    tracing::debug!(vpc_id, zone, cidr, "creating subnet");
                    let answer = self
                        .c
                        .ec2
                        .create_subnet()
                        .vpc_id(vpc_id)
                        .availability_zone(zone)
                        .cidr_block(cidr)
                        .tag_specifications(tag_spec(ResourceType::Subnet, &name, &self.tags))
                        .send()
                        .await
                        .map_err(|err| AwsError::from_sdk("CreateSubnet", Some(cidr), err))?;
                    answer
                        .subnet()
                        .and_then(|subnet| subnet.subnet_id())
                        .map(str::to_owned)
                        .ok_or_else(|| AwsError::missing("CreateSubnet", Some(cidr), "subnet id"))
                },
            )
            .await?;
        self.record(|s| record(s, subnet_id.clone()));
        Ok(subnet_id)
    }

    /// The public route table and the private ones, ordered by zone.
    async fn create_route_tables(
        &self,
        vpc_id: &str,
        zones: &[String],
    ) -> Result<(String, Vec<String>), AwsError> {
        let public = async {
            let id = self
                .create_route_table(vpc_id, self.names.public_route_table())
                .await?;
            self.record(|s| s.public_route_table_id = Some(id.clone()));
            Ok(id)
        };
        let private = all(zones.iter().enumerate().map(|(index, zone)| async move {
            let id = self
                .create_route_table(vpc_id, self.names.private_route_table(zone))
                .await?;
            self.record(|s| s.private_route_table_ids[index] = id.clone());
            Ok(id)
        }));
        let (public, private) = tokio::join!(public, private);
        both(public, private)
    }

    async fn create_route_table(&self, vpc_id: &str, name: String) -> Result<String, AwsError> {
        // The SDK resends the same request, token included, when an answer is lost (a
        // dropped connection, a 5xx): AWS then returns the first table instead of
        // creating a second one. The token is the table's identity within the VPC.
        let token = {
            use std::hash::{Hash, Hasher};
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            name.hash(&mut hasher);
            format!("{vpc_id}-rtb-{:016x}", hasher.finish())
        };
        let token = &token;
        self.retry_codes(
            // InvalidVpcID.NotFound: the VPC was created a moment ago.
            &["InvalidVpcID.NotFound"],
            || async {
                tracing::debug!(vpc_id, name, "creating route table");
                let answer = self
                    .c
                    .ec2
                    .create_route_table()
                    .vpc_id(vpc_id)
                    .client_token(token)
                    .tag_specifications(tag_spec(ResourceType::RouteTable, &name, &self.tags))
                    .send()
                    .await
                    .map_err(|err| AwsError::from_sdk("CreateRouteTable", Some(vpc_id), err))?;
                answer
                    .route_table()
                    .and_then(|table| table.route_table_id())
                    .map(str::to_owned)
                    .ok_or_else(|| AwsError::missing("CreateRouteTable", Some(vpc_id), "id"))
            },
        )
        .await
    }

    /// One Elastic IP per zone, for the NAT gateways.
    async fn allocate_addresses(&self, zones: &[String]) -> Result<Vec<String>, AwsError> {
        all(zones.iter().enumerate().map(|(index, zone)| async move {
            tracing::debug!(zone, "allocating elastic ip");
            let answer = self
                .c
                .ec2
                .allocate_address()
                .domain(DomainType::Vpc)
                .tag_specifications(tag_spec(
                    ResourceType::ElasticIp,
                    &self.names.nat_gateway(zone),
                    &self.tags,
                ))
                .send()
                .await
                .map_err(|err| AwsError::from_sdk("AllocateAddress", Some(zone), err))?;
            let allocation_id = answer
                .allocation_id()
                .ok_or_else(|| AwsError::missing("AllocateAddress", Some(zone), "allocation id"))?
                .to_owned();
            self.record(|s| {
                s.eip_allocation_ids[index] = allocation_id.clone();
                s.nat_public_ips[index] = answer.public_ip().unwrap_or_default().to_owned();
            });
            Ok(allocation_id)
        }))
        .await
    }

    async fn route_public(
        &self,
        table: &str,
        igw: &str,
        subnets: &[String],
    ) -> Result<(), AwsError> {
        let route = self.retry_codes(
            // InvalidRouteTableID.NotFound, InvalidInternetGatewayID.NotFound: both are new.
            &[
                "InvalidRouteTableID.NotFound",
                "InvalidInternetGatewayID.NotFound",
            ],
            || async {
                tracing::debug!(
                    route_table_id = table,
                    internet_gateway_id = igw,
                    "creating route"
                );
                self.c
                    .ec2
                    .create_route()
                    .route_table_id(table)
                    .destination_cidr_block("0.0.0.0/0")
                    .gateway_id(igw)
                    .send()
                    .await
                    .map(drop)
                    .map_err(|err| AwsError::from_sdk("CreateRoute", Some(table), err))
            },
        );
        let tables = vec![table.to_owned(); subnets.len()];
        let (route, associations) = tokio::join!(route, self.associate_all(&tables, subnets));
        first_error([route, associations])
    }

    /// Associates `subnets[i]` with `tables[i]`.
    async fn associate_all(&self, tables: &[String], subnets: &[String]) -> Result<(), AwsError> {
        all(tables.iter().zip(subnets).map(|(table, subnet)| {
            self.retry_codes(
                // InvalidRouteTableID.NotFound, InvalidSubnetID.NotFound: both are new.
                &["InvalidRouteTableID.NotFound", "InvalidSubnetID.NotFound"],
                move || async move {
                    tracing::debug!(route_table_id = %table, subnet_id = %subnet, "associating");
                    self.c
                        .ec2
                        .associate_route_table()
                        .route_table_id(table)
                        .subnet_id(subnet)
                        .send()
                        .await
                        .map(drop)
                        .map_err(|err| AwsError::from_sdk("AssociateRouteTable", Some(subnet), err))
                },
            )
        }))
        .await
        .map(drop)
    }

    async fn create_s3_endpoint(
        &self,
        vpc_id: &str,
        tables: &[String],
        token: String,
    ) -> Result<(), AwsError> {
        let service = format!("com.amazonaws.{}.s3", self.c.region);
        let endpoint_id = self
            .retry_codes(
                // InvalidVpcID.NotFound, InvalidRouteTableID.NotFound: both are new.
                &["InvalidVpcID.NotFound", "InvalidRouteTableID.NotFound"],
                || async {
                    tracing::debug!(vpc_id, service, "creating s3 gateway endpoint");
                    let answer = self
                        .c
                        .ec2
                        .create_vpc_endpoint()
                        .vpc_id(vpc_id)
                        .vpc_endpoint_type(VpcEndpointType::Gateway)
                        .service_name(&service)
                        .set_route_table_ids(Some(tables.to_vec()))
                        .client_token(&token)
                        .tag_specifications(tag_spec(
                            ResourceType::VpcEndpoint,
                            &self.names.s3_endpoint(),
                            &self.tags,
                        ))
                        .send()
                        .await
                        .map_err(|err| {
                            AwsError::from_sdk("CreateVpcEndpoint", Some(vpc_id), err)
                        })?;
                    answer
                        .vpc_endpoint()
                        .and_then(|endpoint| endpoint.vpc_endpoint_id())
                        .map(str::to_owned)
                        .ok_or_else(|| AwsError::missing("CreateVpcEndpoint", Some(vpc_id), "id"))
                },
            )
            .await?;
        self.record(|s| s.s3_endpoint_id = Some(endpoint_id));
        Ok(())
    }

    /// NAT gateways in the public subnets, then the private default routes through them.
    async fn create_nat_gateways(
        &self,
        vpc_id: &str,
        zones: &[String],
        subnets: &[String],
        allocations: &[String],
        private_tables: &[String],
    ) -> Result<(), AwsError> {
        let ids = all(zones.iter().zip(subnets).zip(allocations).enumerate().map(
            |(index, ((zone, subnet), allocation))| async move {
                let token = format!("{vpc_id}-nat-{index}");
                let id = self
                    .create_nat_gateway(zone, subnet, allocation, &token)
                    .await?;
                self.record(|s| s.nat_gateway_ids[index] = id.clone());
                Ok(id)
            },
        ))
        .await?;

        let gateways = wait_nat_gateways(
            &self.c.ec2,
            &ids,
            NatTarget::Available,
            &self.stop,
            self.deadline,
        )
        .await?;
        self.record(|s| {
            for (index, id) in ids.iter().enumerate() {
                let address = gateways
                    .iter()
                    .find(|gateway| gateway.nat_gateway_id() == Some(id.as_str()))
                    .and_then(|gateway| gateway.nat_gateway_addresses().first());
                if let Some(ip) = address.and_then(|address| address.public_ip()) {
                    s.nat_public_ips[index] = ip.to_owned();
                }
            }
        });

        all(private_tables.iter().zip(&ids).map(|(table, nat)| {
            // InvalidNatGatewayID.NotFound, InvalidRouteTableID.NotFound: both are new.
            let new = &[
                "InvalidNatGatewayID.NotFound",
                "InvalidRouteTableID.NotFound",
            ];
            self.route_to_nat(table, nat, false, new)
        }))
        .await
        .map(drop)
    }

    async fn create_nat_gateway(
        &self,
        zone: &str,
        subnet: &str,
        allocation: &str,
        token: &str,
    ) -> Result<String, AwsError> {
        self.retry_codes(
            // InvalidSubnetID.NotFound, InvalidAllocationID.NotFound: both are new.
            &["InvalidSubnetID.NotFound", "InvalidAllocationID.NotFound"],
            || async {
                tracing::debug!(
                    subnet_id = subnet,
                    allocation_id = allocation,
                    "creating nat gateway"
                );
                let answer = self
                    .c
                    .ec2
                    .create_nat_gateway()
                    .subnet_id(subnet)
                    .allocation_id(allocation)
                    // The same token on a retried call returns the first gateway.
                    .client_token(token)
                    .tag_specifications(tag_spec(
                        ResourceType::Natgateway,
                        &self.names.nat_gateway(zone),
                        &self.tags,
                    ))
                    .send()
                    .await
                    .map_err(|err| AwsError::from_sdk("CreateNatGateway", Some(subnet), err))?;
                answer
                    .nat_gateway()
                    .and_then(|gateway| gateway.nat_gateway_id())
                    .map(str::to_owned)
                    .ok_or_else(|| AwsError::missing("CreateNatGateway", Some(subnet), "id"))
            },
        )
        .await
    }

    /// The log group and the role, returned as (log group name, role ARN).
    async fn flow_log_prerequisites(&self) -> Result<(String, String), AwsError> {
        let (group_arn, role_arn) = tokio::join!(self.create_log_group(), self.create_role());
        let (group_arn, role_arn) = both(group_arn, role_arn)?;
        self.put_role_policy(&role_arn, &group_arn).await?;
        Ok((self.names.log_group(), role_arn))
    }

    /// Creates the log group with its retention, and returns its ARN (without `:*`).
    async fn create_log_group(&self) -> Result<String, AwsError> {
        let name = self.names.log_group();
        tracing::debug!(log_group = %name, "creating log group");
        let created = self
            .c
            .logs
            .create_log_group()
            .log_group_name(&name)
            .set_tags(Some(self.tags.clone().into_iter().collect()))
            .send()
            .await
            .map_err(|err| AwsError::from_sdk("CreateLogGroup", Some(&name), err));
        match created {
            // ResourceAlreadyExistsException: left by this network (its flow log was
            // deleted, or an earlier create was interrupted): adopt it.
            Err(err) if err.is_code(&["ResourceAlreadyExistsException"]) => {
                tracing::debug!(log_group = %name, "adopting existing log group");
            }
            other => other.map(drop)?,
        }
        self.record(|s| s.flow_log_group_name = Some(name.clone()));
        set_retention(self.c, &name, self.spec.flow_log_retention_days).await?;
        self.record(|s| s.flow_log_retention_days = self.spec.flow_log_retention_days);
        log_group_arn(self.c, &name).await
    }

    async fn create_role(&self) -> Result<String, AwsError> {
        let name = self.names.flow_log_role();
        let trust = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": { "Service": "vpc-flow-logs.amazonaws.com" },
                "Action": "sts:AssumeRole",
            }],
        });
        tracing::debug!(role = %name, "creating flow log role");
        let created = self
            .c
            .iam
            .create_role()
            .role_name(&name)
            .description(format!(
                "Delivers the VPC flow logs of network {}",
                self.spec.name
            ))
            .assume_role_policy_document(trust.to_string())
            .set_tags(Some(iam_tags(&self.tags)))
            .send()
            .await
            .map_err(|err| AwsError::from_sdk("CreateRole", Some(&name), err));
        let role = match created {
            Ok(answer) => answer.role().cloned(),
            // EntityAlreadyExists: left by this network (its flow log was deleted, or an
            // earlier create was interrupted): adopt it; the caller puts its policy back.
            Err(err) if err.is_code(&["EntityAlreadyExists"]) => {
                tracing::debug!(role = %name, "adopting existing flow log role");
                self.c
                    .iam
                    .get_role()
                    .role_name(&name)
                    .send()
                    .await
                    .map_err(|err| AwsError::from_sdk("GetRole", Some(&name), err))?
                    .role()
                    .cloned()
            }
            Err(err) => return Err(err),
        };
        let arn = role
            .map(|role| role.arn().to_owned())
            .ok_or_else(|| AwsError::missing("CreateRole", Some(&name), "role"))?;
        self.record(|s| s.flow_log_role_arn = Some(arn.clone()));
        Ok(arn)
    }

    async fn put_role_policy(&self, role_arn: &str, group_arn: &str) -> Result<(), AwsError> {
        let role = role_name(role_arn).unwrap_or_default();
        let policy = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Action": [
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:DescribeLogGroups",
                    "logs:DescribeLogStreams",
                ],
                "Resource": [group_arn, format!("{group_arn}:*")],
            }],
        });
        tracing::debug!(role, "putting flow log role policy");
        self.c
            .iam
            .put_role_policy()
            .role_name(role)
            .policy_name(FLOW_LOG_POLICY)
            .policy_document(policy.to_string())
            .send()
            .await
            .map(drop)
            .map_err(|err| AwsError::from_sdk("PutRolePolicy", Some(role), err))
    }

    /// Step 5.
    async fn create_flow_log(
        &self,
        vpc_id: &str,
        group: &str,
        role_arn: &str,
    ) -> Result<(), AwsError> {
        // InvalidParameter "Unable to assume given IAM role": IAM has not yet propagated the
        // role created moments ago (it takes seconds, rarely a minute).
        let role_not_ready = |err: &AwsError| {
            err.code() == Some("InvalidParameter")
                && err
                    .message()
                    .is_some_and(|m| m.contains("Unable to assume given IAM role"))
        };
        // Unique per create, so that a flow log deleted and created again is not mistaken
        // for a retry of the first create.
        let token = format!("{vpc_id}-flow-logs-{}", unix_millis());
        let flow_log_id = retry_when(role_not_ready, self.deadline, &self.stop, || async {
            tracing::debug!(vpc_id, log_group = group, "creating flow log");
            let answer = self
                .c
                .ec2
                .create_flow_logs()
                .resource_ids(vpc_id)
                .resource_type(FlowLogsResourceType::Vpc)
                .traffic_type(TrafficType::Reject)
                .log_destination_type(LogDestinationType::CloudWatchLogs)
                .log_group_name(group)
                .deliver_logs_permission_arn(role_arn)
                .client_token(&token)
                .tag_specifications(tag_spec(
                    ResourceType::VpcFlowLog,
                    &self.names.flow_log(),
                    &self.tags,
                ))
                .send()
                .await
                .map_err(|err| AwsError::from_sdk("CreateFlowLogs", Some(vpc_id), err))?;
            if let Some(item) = answer.unsuccessful().first() {
                let error = item.error();
                return Err(AwsError::item(
                    "CreateFlowLogs",
                    Some(vpc_id),
                    error.and_then(|e| e.code()),
                    error.and_then(|e| e.message()),
                ));
            }
            answer
                .flow_log_ids()
                .first()
                .cloned()
                .ok_or_else(|| AwsError::missing("CreateFlowLogs", Some(vpc_id), "flow log id"))
        })
        .await?;
        self.record(|s| s.flow_log_id = Some(flow_log_id));
        Ok(())
    }

    async fn set_flow_logs(&self) -> Result<(), AwsError> {
        let state = self
            .state
            .lock()
            .expect("no panic while the state is locked")
            .clone();
        let Some(vpc_id) = state.vpc_id.clone() else {
            return Err(AwsError::InvalidInput {
                detail: "the network has no VPC, so flow logs cannot be changed".into(),
            });
        };

        if !self.spec.flow_logs {
            if let Some(flow_log) = &state.flow_log_id {
                delete_flow_logs(self.c, std::slice::from_ref(flow_log)).await?;
                self.record(|s| s.flow_log_id = None);
            }
            delete_flow_log_objects(self.c, &state).await?;
            self.record(|s| {
                s.flow_log_id = None;
                s.flow_log_group_name = None;
                s.flow_log_role_arn = None;
                s.flow_log_retention_days = 0;
            });
            return Ok(());
        }

        // A flow log whose group or role is gone delivers nothing: replace it.
        let complete = state.flow_log_group_name.is_some() && state.flow_log_role_arn.is_some();
        if let (Some(flow_log), false) = (&state.flow_log_id, complete) {
            delete_flow_logs(self.c, std::slice::from_ref(flow_log)).await?;
            self.record(|s| s.flow_log_id = None);
        }

        let group = match &state.flow_log_group_name {
            Some(group) => {
                if state.flow_log_retention_days != self.spec.flow_log_retention_days {
                    set_retention(self.c, group, self.spec.flow_log_retention_days).await?;
                    self.record(|s| s.flow_log_retention_days = self.spec.flow_log_retention_days);
                }
                group.clone()
            }
            None => {
                self.create_log_group().await?;
                self.names.log_group()
            }
        };
        let role_arn = match &state.flow_log_role_arn {
            Some(arn) => arn.clone(),
            None => {
                let arn = self.create_role().await?;
                self.put_role_policy(&arn, &log_group_arn(self.c, &group).await?)
                    .await?;
                arn
            }
        };
        if complete && state.flow_log_id.is_some() {
            return Ok(());
        }
        self.create_flow_log(&vpc_id, &group, &role_arn).await
    }

    async fn repair(&self) -> Result<(), AwsError> {
        let recorded = self
            .state
            .lock()
            .expect("no panic while the state is locked")
            .clone();
        let Some(vpc_id) = recorded.vpc_id.clone() else {
            return Err(AwsError::InvalidInput {
                detail: "the network has no VPC, so it cannot be repaired".into(),
            });
        };
        let Some(objects) = fetch(self.c, &vpc_id).await? else {
            return Err(AwsError::InvalidInput {
                detail: format!("VPC {vpc_id} no longer exists"),
            });
        };
        let found = classify(&self.c.region, &objects, &recorded.availability_zones);
        if found.drift.is_empty() {
            return Ok(());
        }
        tracing::debug!(vpc_id = %vpc_id, drift = ?found.drift, "repairing network");

        let endpoint = async {
            let detached: Vec<(&String, &String)> = found
                .drift
                .iter()
                .filter_map(|drift| match drift {
                    Drift::EndpointDetached {
                        vpc_endpoint_id,
                        route_table_id,
                        ..
                    } => Some((vpc_endpoint_id, route_table_id)),
                    _ => None,
                })
                .collect();
            if let Some((endpoint_id, _)) = detached.first() {
                let tables: Vec<String> = detached.iter().map(|(_, t)| (*t).clone()).collect();
                self.attach_endpoint(endpoint_id, &tables).await?;
            }
            if found.drift.contains(&Drift::EndpointMissing) {
                let token = format!("{vpc_id}-s3-{}", unix_millis());
                self.create_s3_endpoint(&vpc_id, &found.private_route_table_ids, token)
                    .await?;
            }
            Ok(())
        };
        let (endpoint, routes) = tokio::join!(
            self.guard(endpoint),
            self.guard(self.repair_routes(&vpc_id, &objects, &found))
        );
        first_error([endpoint, routes])
    }

    /// Creates the missing NAT gateways, waits for them, then points every private
    /// default route found wrong at its zone's NAT gateway.
    async fn repair_routes(
        &self,
        vpc_id: &str,
        objects: &VpcObjects,
        found: &NetworkState,
    ) -> Result<(), AwsError> {
        let mut nat_of_zone = nat_gateways_by_zone(objects, &found.public_subnet_ids);
        let missing = found.drift.iter().filter_map(|drift| match drift {
            Drift::NatGatewayMissing { zone, subnet_id } => Some((zone, subnet_id)),
            _ => None,
        });
        let created = all(missing.map(|(zone, subnet_id)| async move {
            let allocation = self.address_for(zone).await?;
            let token = format!("{vpc_id}-nat-{zone}-{}", unix_millis());
            let id = self
                .create_nat_gateway(zone, subnet_id, &allocation, &token)
                .await?;
            Ok((zone.clone(), id))
        }))
        .await?;
        if !created.is_empty() {
            let ids: Vec<String> = created.iter().map(|(_, id)| id.clone()).collect();
            wait_nat_gateways(
                &self.c.ec2,
                &ids,
                NatTarget::Available,
                &self.stop,
                self.deadline,
            )
            .await?;
            nat_of_zone.extend(created);
        }

        let wrong = found.drift.iter().filter_map(|drift| match drift {
            Drift::PrivateRouteWrong {
                zone,
                route_table_id,
                has_default_route,
            } => Some((zone, route_table_id, *has_default_route)),
            _ => None,
        });
        all(wrong.map(|(zone, table, replace)| {
            let nat = nat_of_zone.get(zone).cloned();
            async move {
                let nat = nat.ok_or_else(|| AwsError::InvalidInput {
                    detail: format!("zone {zone} has no NAT gateway to route through"),
                })?;
                // InvalidNatGatewayID.NotFound: the NAT gateway may have been created a moment ago.
                self.route_to_nat(table, &nat, replace, &["InvalidNatGatewayID.NotFound"])
                    .await
            }
        }))
        .await
        .map(drop)
    }

    /// An unassociated Elastic IP this network allocated for the zone's NAT gateway (a
    /// deleted NAT gateway leaves its address behind), or a new one.
    async fn address_for(&self, zone: &str) -> Result<String, AwsError> {
        let name = self.names.nat_gateway(zone);
        let answer = self
            .c
            .ec2
            .describe_addresses()
            .filters(filter(
                &format!("tag:{NETWORK_TAG}"),
                [self.spec.name.as_str()],
            ))
            .filters(filter("tag:Name", [name.as_str()]))
            .send()
            .await
            .map_err(|err| AwsError::from_sdk("DescribeAddresses", Some(zone), err))?;
        if let Some(idle) = answer
            .addresses()
            .iter()
            .find(|address| address.association_id().is_none())
            .and_then(|address| address.allocation_id())
        {
            return Ok(idle.to_owned());
        }
        tracing::debug!(zone, "allocating elastic ip");
        let answer = self
            .c
            .ec2
            .allocate_address()
            .domain(DomainType::Vpc)
            .tag_specifications(tag_spec(ResourceType::ElasticIp, &name, &self.tags))
            .send()
            .await
            .map_err(|err| AwsError::from_sdk("AllocateAddress", Some(zone), err))?;
        answer
            .allocation_id()
            .map(str::to_owned)
            .ok_or_else(|| AwsError::missing("AllocateAddress", Some(zone), "allocation id"))
    }

    /// Sets the default route of `table` to `nat`, replacing the route if one exists;
    /// retries the eventual-consistency error `codes` of the objects that are new.
    async fn route_to_nat(
        &self,
        table: &str,
        nat: &str,
        replace: bool,
        codes: &[&str],
    ) -> Result<(), AwsError> {
        self.retry_codes(codes, || async {
            tracing::debug!(
                route_table_id = table,
                nat_gateway_id = nat,
                replace,
                "routing"
            );
            if replace {
                self.c
                    .ec2
                    .replace_route()
                    .route_table_id(table)
                    .destination_cidr_block("0.0.0.0/0")
                    .nat_gateway_id(nat)
                    .send()
                    .await
                    .map(drop)
                    .map_err(|err| AwsError::from_sdk("ReplaceRoute", Some(table), err))
            } else {
                self.c
                    .ec2
                    .create_route()
                    .route_table_id(table)
                    .destination_cidr_block("0.0.0.0/0")
                    .nat_gateway_id(nat)
                    .send()
                    .await
                    .map(drop)
                    .map_err(|err| AwsError::from_sdk("CreateRoute", Some(table), err))
            }
        })
        .await
    }

    async fn attach_endpoint(&self, endpoint_id: &str, tables: &[String]) -> Result<(), AwsError> {
        tracing::debug!(vpc_endpoint_id = endpoint_id, route_table_ids = ?tables, "attaching");
        let answer = self
            .c
            .ec2
            .modify_vpc_endpoint()
            .vpc_endpoint_id(endpoint_id)
            .set_add_route_table_ids(Some(tables.to_vec()))
            .send()
            .await
            .map_err(|err| AwsError::from_sdk("ModifyVpcEndpoint", Some(endpoint_id), err))?;
        if answer.r#return() == Some(false) {
            return Err(AwsError::missing(
                "ModifyVpcEndpoint",
                Some(endpoint_id),
                "a successful return",
            ));
        }
        Ok(())
    }
}

/// The NAT gateway of each zone, found by the public subnet it sits in.
fn nat_gateways_by_zone(
    objects: &VpcObjects,
    public_subnets: &[String],
) -> BTreeMap<String, String> {
    let network = objects.network_name();
    objects
        .nat_gateways
        .iter()
        .filter(|nat| network.is_none() || ec2_tag(nat.tags(), NETWORK_TAG) == network)
        .filter_map(|nat| {
            let subnet_id = nat.subnet_id()?;
            if !public_subnets.iter().any(|s| s == subnet_id) {
                return None;
            }
            let zone = objects
                .subnets
                .iter()
                .find(|s| s.subnet_id() == Some(subnet_id))?
                .availability_zone()?;
            Some((zone.to_owned(), nat.nat_gateway_id()?.to_owned()))
        })
        .collect()
}

/// Sets a log group's retention; 0 removes the retention policy (logs never expire).
async fn set_retention(c: &AwsClients, group: &str, days: i32) -> Result<(), AwsError> {
    tracing::debug!(log_group = group, days, "setting log retention");
    if days == 0 {
        return c
            .logs
            .delete_retention_policy()
            .log_group_name(group)
            .send()
            .await
            .map(drop)
            .map_err(|err| AwsError::from_sdk("DeleteRetentionPolicy", Some(group), err));
    }
    c.logs
        .put_retention_policy()
        .log_group_name(group)
        .retention_in_days(days)
        .send()
        .await
        .map(drop)
        .map_err(|err| AwsError::from_sdk("PutRetentionPolicy", Some(group), err))
}

/// A log group's ARN, without the `:*` suffix some answers carry.
async fn log_group_arn(c: &AwsClients, group: &str) -> Result<String, AwsError> {
    let answer = c
        .logs
        .describe_log_groups()
        .log_group_name_prefix(group)
        .send()
        .await
        .map_err(|err| AwsError::from_sdk("DescribeLogGroups", Some(group), err))?;
    let found = answer
        .log_groups()
        .iter()
        .find(|g| g.log_group_name() == Some(group))
        .ok_or_else(|| AwsError::missing("DescribeLogGroups", Some(group), "log group"))?;
    found
        .log_group_arn()
        .or(found.arn())
        .map(|arn| arn.trim_end_matches(":*").to_owned())
        .ok_or_else(|| AwsError::missing("DescribeLogGroups", Some(group), "log group arn"))
}

fn iam_tags(tags: &BTreeMap<String, String>) -> Vec<aws_sdk_iam::types::Tag> {
    tags.iter()
        .filter_map(|(key, value)| {
            aws_sdk_iam::types::Tag::builder()
                .key(key)
                .value(value)
                .build()
                .ok()
        })
        .collect()
}

fn unix_millis() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_millis())
}

fn clone_pair((key, value): (&String, &String)) -> (String, String) {
    (key.clone(), value.clone())
}

/// Runs all `steps` to the end (so that every id they create is recorded) and returns
/// their values, or the first real error (a cancellation caused by it comes second).
async fn all<T>(
    steps: impl IntoIterator<Item = impl Future<Output = Result<T, AwsError>>>,
) -> Result<Vec<T>, AwsError> {
    let results = join_all(steps).await;
    let mut values = Vec::with_capacity(results.len());
    let mut errors = Vec::new();
    for result in results {
        match result {
            Ok(value) => values.push(value),
            Err(err) => errors.push(Err(err)),
        }
    }
    first_error(errors)?;
    Ok(values)
}

/// Both values, or the error of either (a real error over a cancellation it caused).
fn both<A, B>(a: Result<A, AwsError>, b: Result<B, AwsError>) -> Result<(A, B), AwsError> {
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (Err(err), Ok(_)) | (Ok(_), Err(err)) => Err(err),
        (Err(a), Err(b)) if a.is_cancelled() && !b.is_cancelled() => Err(b),
        (Err(a), Err(_)) => Err(a),
    }
}

/// The first error that is not a cancellation, else the first error.
fn first_error(results: impl IntoIterator<Item = Result<(), AwsError>>) -> Result<(), AwsError> {
    let mut cancelled = None;
    for result in results {
        match result {
            Ok(()) => {}
            Err(err) if err.is_cancelled() => {
                cancelled.get_or_insert(err);
            }
            Err(err) => return Err(err),
        }
    }
    cancelled.map_or(Ok(()), Err)
}

// ---------------------------------------------------------------------------------------
// update

/// Replaces `old_tags` with `new_tags` on every object of the network: one `CreateTags`
/// and one `DeleteTags` for all EC2 objects, and the same for the log group and the role.
/// `Name` and `atlas:network` are left alone.
pub(crate) async fn update_tags(
    c: &AwsClients,
    state: &NetworkState,
    old_tags: &BTreeMap<String, String>,
    new_tags: &BTreeMap<String, String>,
) -> Result<(), AwsError> {
    let keep = |tags: &BTreeMap<String, String>| -> BTreeMap<String, String> {
        tags.iter()
            .filter(|(key, _)| !is_reserved_tag(key))
            .map(clone_pair)
            .collect()
    };
    let diff = TagDiff::between(&keep(old_tags), &keep(new_tags));
    if diff.is_empty() {
        return Ok(());
    }
    let resources = state.ec2_ids();

    let ec2 = async {
        if resources.is_empty() {
            return Ok(());
        }
        if !diff.removed.is_empty() {
            tracing::debug!(resources = ?resources, keys = ?diff.removed, "removing tags");
            c.ec2
                .delete_tags()
                .set_resources(Some(resources.clone()))
                .set_tags(Some(
                    diff.removed
                        .iter()
                        .map(|key| Tag::builder().key(key).build())
                        .collect(),
                ))
                .send()
                .await
                .map_err(|err| AwsError::from_sdk("DeleteTags", state.vpc_id.as_deref(), err))?;
        }
        if !diff.upserted.is_empty() {
            tracing::debug!(resources = ?resources, "setting tags");
            c.ec2
                .create_tags()
                .set_resources(Some(resources.clone()))
                .set_tags(Some(
                    diff.upserted
                        .iter()
                        .map(|(key, value)| Tag::builder().key(key).value(value).build())
                        .collect(),
                ))
                .send()
                .await
                .map_err(|err| AwsError::from_sdk("CreateTags", state.vpc_id.as_deref(), err))?;
        }
        Ok(())
    };

    let logs = async {
        let Some(group) = &state.flow_log_group_name else {
            return Ok(());
        };
        let arn = log_group_arn(c, group).await?;
        if !diff.removed.is_empty() {
            c.logs
                .untag_resource()
                .resource_arn(&arn)
                .set_tag_keys(Some(diff.removed.clone()))
                .send()
                .await
                .map_err(|err| AwsError::from_sdk("UntagResource", Some(group), err))?;
        }
        if !diff.upserted.is_empty() {
            c.logs
                .tag_resource()
                .resource_arn(&arn)
                .set_tags(Some(diff.upserted.clone().into_iter().collect()))
                .send()
                .await
                .map_err(|err| AwsError::from_sdk("TagResource", Some(group), err))?;
        }
        Ok(())
    };

    let iam = async {
        let Some(role) = state.flow_log_role_arn.as_deref().and_then(role_name) else {
            return Ok(());
        };
        if !diff.removed.is_empty() {
            c.iam
                .untag_role()
                .role_name(role)
                .set_tag_keys(Some(diff.removed.clone()))
                .send()
                .await
                .map_err(|err| AwsError::from_sdk("UntagRole", Some(role), err))?;
        }
        if !diff.upserted.is_empty() {
            c.iam
                .tag_role()
                .role_name(role)
                .set_tags(Some(iam_tags(&diff.upserted)))
                .send()
                .await
                .map_err(|err| AwsError::from_sdk("TagRole", Some(role), err))?;
        }
        Ok(())
    };

    let (ec2, logs, iam) = tokio::join!(ec2, logs, iam);
    first_error([ec2, logs, iam])
}

// ---------------------------------------------------------------------------------------
// delete

/// Deletes the network in dependency order: flow logs; the S3 endpoint, route tables and
/// NAT gateways (waited for, then their Elastic IPs released); subnets; the internet
/// gateway; the VPC; and, alongside the network, the log group and the role.
///
/// Objects already gone count as deleted. Besides the ids in `state`, everything in the
/// VPC tagged with the network's `atlas:network` tag is deleted too, so that objects of an
/// interrupted create whose ids were never recorded do not block the VPC's deletion.
/// `DependencyViolation` is retried until `deadline`; giving up names what still holds
/// the object.
pub(crate) async fn delete(
    c: &AwsClients,
    state: &NetworkState,
    cancel: &CancellationToken,
    deadline: Instant,
) -> Result<(), AwsError> {
    let found = match &state.vpc_id {
        Some(vpc_id) => fetch(c, vpc_id).await?,
        None => None,
    };
    let mut targets = Targets::new(state, found.as_ref());
    if let Some(network) = found.as_ref().and_then(VpcObjects::network_name) {
        // Elastic IPs allocated by a create that failed before its NAT gateways existed
        // are in no VPC: find them by tag.
        targets
            .allocations
            .extend(idle_addresses(c, network).await?);
        targets.allocations.sort();
        targets.allocations.dedup();
        // So is an internet gateway created by a create killed before it was attached.
        targets
            .internet_gateways
            .extend(detached_internet_gateways(c, network).await?);
        targets.internet_gateways.sort();
        targets.internet_gateways.dedup();
    }
    let run = Delete {
        c,
        cancel,
        deadline,
    };

    delete_flow_logs(c, &targets.flow_logs).await?;

    let (network, flow_log_objects) =
        tokio::join!(run.network(&targets), delete_flow_log_objects(c, state),);
    first_error([network, flow_log_objects])
}

/// Everything to delete: the ids in state plus the tagged objects found in the VPC.
#[derive(Debug, Default)]
struct Targets {
    vpc_id: Option<String>,
    flow_logs: Vec<String>,
    endpoints: Vec<String>,
    /// Route table id and the ids of its subnet associations.
    route_tables: Vec<(String, Vec<String>)>,
    nat_gateways: Vec<String>,
    allocations: Vec<String>,
    subnets: Vec<String>,
    internet_gateways: Vec<String>,
}

impl Targets {
    fn new(state: &NetworkState, found: Option<&VpcObjects>) -> Self {
        let mut flow_logs: BTreeSet<String> = state.flow_log_id.iter().cloned().collect();
        let mut endpoints: BTreeSet<String> = state.s3_endpoint_id.iter().cloned().collect();
        let mut tables: BTreeSet<String> = state
            .public_route_table_id
            .iter()
            .chain(&state.private_route_table_ids)
            .cloned()
            .collect();
        let mut nats: BTreeSet<String> = state.nat_gateway_ids.iter().cloned().collect();
        let mut allocations: BTreeSet<String> = state.eip_allocation_ids.iter().cloned().collect();
        let mut subnets: BTreeSet<String> = state
            .public_subnet_ids
            .iter()
            .chain(&state.private_subnet_ids)
            .cloned()
            .collect();
        let mut igws: BTreeSet<String> = state.internet_gateway_id.iter().cloned().collect();
        let mut associations: BTreeMap<String, Vec<String>> = BTreeMap::new();

        if let Some(found) = found {
            let network = found.network_name();
            let ours = |tags: &[Tag]| network.is_some() && ec2_tag(tags, NETWORK_TAG) == network;
            let owned =
                |id: Option<&str>, set: &BTreeSet<String>| id.is_some_and(|id| set.contains(id));
            for flow_log in &found.flow_logs {
                if ours(flow_log.tags()) {
                    flow_logs.extend(flow_log.flow_log_id().map(str::to_owned));
                }
            }
            for endpoint in &found.endpoints {
                if ours(endpoint.tags()) {
                    endpoints.extend(endpoint.vpc_endpoint_id().map(str::to_owned));
                }
            }
            for table in &found.route_tables {
                let is_main = table.associations().iter().any(|a| a.main() == Some(true));
                if is_main || !(ours(table.tags()) || owned(table.route_table_id(), &tables)) {
                    continue;
                }
                let Some(id) = table.route_table_id() else {
                    continue;
                };
                tables.insert(id.to_owned());
                associations.insert(
                    id.to_owned(),
                    table
                        .associations()
                        .iter()
                        .filter(|a| a.subnet_id().is_some())
                        .filter_map(|a| a.route_table_association_id().map(str::to_owned))
                        .collect(),
                );
            }
            for nat in &found.nat_gateways {
                if !(ours(nat.tags()) || owned(nat.nat_gateway_id(), &nats)) {
                    continue;
                }
                nats.extend(nat.nat_gateway_id().map(str::to_owned));
                allocations.extend(
                    nat.nat_gateway_addresses()
                        .iter()
                        .filter_map(|a| a.allocation_id().map(str::to_owned)),
                );
            }
            for subnet in &found.subnets {
                if ours(subnet.tags()) {
                    subnets.extend(subnet.subnet_id().map(str::to_owned));
                }
            }
            for igw in &found.internet_gateways {
                if ours(igw.tags()) {
                    igws.extend(igw.internet_gateway_id().map(str::to_owned));
                }
            }
        }

        Targets {
            vpc_id: state.vpc_id.clone(),
            flow_logs: flow_logs.into_iter().collect(),
            endpoints: endpoints.into_iter().collect(),
            route_tables: tables
                .into_iter()
                .map(|id| {
                    let associations = associations.remove(&id).unwrap_or_default();
                    (id, associations)
                })
                .collect(),
            nat_gateways: nats.into_iter().collect(),
            allocations: allocations.into_iter().collect(),
            subnets: subnets.into_iter().collect(),
            internet_gateways: igws.into_iter().collect(),
        }
    }
}

/// The internet gateways tagged with the network's name that are attached nowhere.
async fn detached_internet_gateways(
    c: &AwsClients,
    network: &str,
) -> Result<Vec<String>, AwsError> {
    let answer = c
        .ec2
        .describe_internet_gateways()
        .filters(filter(&format!("tag:{NETWORK_TAG}"), [network]))
        .send()
        .await
        .map_err(|err| AwsError::from_sdk("DescribeInternetGateways", Some(network), err))?;
    Ok(answer
        .internet_gateways()
        .iter()
        .filter(|gateway| gateway.attachments().is_empty())
        .filter_map(|gateway| gateway.internet_gateway_id().map(str::to_owned))
        .collect())
}

/// The unassociated Elastic IPs tagged with the network's name.
async fn idle_addresses(c: &AwsClients, network: &str) -> Result<Vec<String>, AwsError> {
    let answer = c
        .ec2
        .describe_addresses()
        .filters(filter(&format!("tag:{NETWORK_TAG}"), [network]))
        .send()
        .await
        .map_err(|err| AwsError::from_sdk("DescribeAddresses", Some(network), err))?;
    Ok(answer
        .addresses()
        .iter()
        .filter(|address| address.association_id().is_none())
        .filter_map(|address| address.allocation_id().map(str::to_owned))
        .collect())
}

/// Treats "already gone" as done.
fn gone_ok(result: Result<(), AwsError>) -> Result<(), AwsError> {
    match result {
        Err(err) if err.is_not_found() => Ok(()),
        other => other,
    }
}

async fn delete_flow_logs(c: &AwsClients, ids: &[String]) -> Result<(), AwsError> {
    if ids.is_empty() {
        return Ok(());
    }
    tracing::debug!(flow_log_ids = ?ids, "deleting flow logs");
    let answer = c
        .ec2
        .delete_flow_logs()
        .set_flow_log_ids(Some(ids.to_vec()))
        .send()
        .await
        .map_err(|err| AwsError::from_sdk("DeleteFlowLogs", ids.first().map(String::as_str), err));
    let answer = match answer {
        Err(err) if err.is_not_found() => return Ok(()),
        other => other?,
    };
    for item in answer.unsuccessful() {
        let error = item.error();
        gone_ok(Err(AwsError::item(
            "DeleteFlowLogs",
            item.resource_id(),
            error.and_then(|e| e.code()),
            error.and_then(|e| e.message()),
        )))?;
    }
    Ok(())
}

/// Deletes the log group and the role named in `state` (the role's inline policy first).
async fn delete_flow_log_objects(c: &AwsClients, state: &NetworkState) -> Result<(), AwsError> {
    let group = async {
        let Some(group) = &state.flow_log_group_name else {
            return Ok(());
        };
        tracing::debug!(log_group = %group, "deleting log group");
        gone_ok(
            c.logs
                .delete_log_group()
                .log_group_name(group)
                .send()
                .await
                .map(drop)
                .map_err(|err| AwsError::from_sdk("DeleteLogGroup", Some(group), err)),
        )
    };
    let role = async {
        let Some(role) = state.flow_log_role_arn.as_deref().and_then(role_name) else {
            return Ok(());
        };
        tracing::debug!(role, "deleting flow log role");
        gone_ok(
            c.iam
                .delete_role_policy()
                .role_name(role)
                .policy_name(FLOW_LOG_POLICY)
                .send()
                .await
                .map(drop)
                .map_err(|err| AwsError::from_sdk("DeleteRolePolicy", Some(role), err)),
        )?;
        gone_ok(
            c.iam
                .delete_role()
                .role_name(role)
                .send()
                .await
                .map(drop)
                .map_err(|err| AwsError::from_sdk("DeleteRole", Some(role), err)),
        )
    };
    let (group, role) = tokio::join!(group, role);
    first_error([group, role])
}

struct Delete<'a> {
    c: &'a AwsClients,
    cancel: &'a CancellationToken,
    deadline: Instant,
}

impl Delete<'_> {
    async fn network(&self, t: &Targets) -> Result<(), AwsError> {
        // The endpoint before the route tables it has routes in.
        let tables = async {
            self.delete_endpoints(&t.endpoints).await?;
            self.delete_route_tables(&t.route_tables).await
        };
        let nats = async {
            self.delete_nat_gateways(&t.nat_gateways).await?;
            self.release_addresses(&t.allocations).await
        };
        let (tables, nats) = tokio::join!(tables, nats);
        first_error([tables, nats])?;

        all(t.subnets.iter().map(|subnet| self.delete_subnet(subnet))).await?;
        all(t
            .internet_gateways
            .iter()
            .map(|igw| self.delete_internet_gateway(igw, t)))
        .await?;
        match &t.vpc_id {
            Some(vpc_id) => self.delete_vpc(vpc_id).await,
            None => Ok(()),
        }
    }

    async fn delete_endpoints(&self, ids: &[String]) -> Result<(), AwsError> {
        if ids.is_empty() {
            return Ok(());
        }
        tracing::debug!(vpc_endpoint_ids = ?ids, "deleting vpc endpoints");
        let answer = self
            .c
            .ec2
            .delete_vpc_endpoints()
            .set_vpc_endpoint_ids(Some(ids.to_vec()))
            .send()
            .await
            .map_err(|err| {
                AwsError::from_sdk("DeleteVpcEndpoints", ids.first().map(String::as_str), err)
            });
        let answer = match answer {
            Err(err) if err.is_not_found() => return Ok(()),
            other => other?,
        };
        for item in answer.unsuccessful() {
            let error = item.error();
            gone_ok(Err(AwsError::item(
                "DeleteVpcEndpoints",
                item.resource_id(),
                error.and_then(|e| e.code()),
                error.and_then(|e| e.message()),
            )))?;
        }
        Ok(())
    }

    async fn delete_route_tables(&self, tables: &[(String, Vec<String>)]) -> Result<(), AwsError> {
        all(tables.iter().map(|(table, associations)| async move {
            all(associations.iter().map(|association| async move {
                tracing::debug!(route_table_id = %table, association_id = %association, "disassociating");
                gone_ok(
                    self.c
                        .ec2
                        .disassociate_route_table()
                        .association_id(association)
                        .send()
                        .await
                        .map(drop)
                        .map_err(|err| {
                            AwsError::from_sdk("DisassociateRouteTable", Some(association), err)
                        }),
                )
            }))
            .await?;
            self.in_use("DeleteRouteTable", table, Holder::Nothing, || async {
                tracing::debug!(route_table_id = %table, "deleting route table");
                self.c
                    .ec2
                    .delete_route_table()
                    .route_table_id(table)
                    .send()
                    .await
                    .map(drop)
                    .map_err(|err| AwsError::from_sdk("DeleteRouteTable", Some(table), err))
            })
            .await
        }))
        .await
        .map(drop)
    }

    async fn delete_nat_gateways(&self, ids: &[String]) -> Result<(), AwsError> {
        if ids.is_empty() {
            return Ok(());
        }
        all(ids.iter().map(|id| async move {
            tracing::debug!(nat_gateway_id = %id, "deleting nat gateway");
            gone_ok(
                self.c
                    .ec2
                    .delete_nat_gateway()
                    .nat_gateway_id(id)
                    .send()
                    .await
                    .map(drop)
                    .map_err(|err| AwsError::from_sdk("DeleteNatGateway", Some(id), err)),
            )
        }))
        .await?;
        wait_nat_gateways(
            &self.c.ec2,
            ids,
            NatTarget::Deleted,
            self.cancel,
            self.deadline,
        )
        .await
        .map(drop)
    }

    async fn release_addresses(&self, ids: &[String]) -> Result<(), AwsError> {
        all(ids.iter().map(|id| {
            // InvalidIPAddress.InUse: a NAT gateway just deleted still holds the address for
            // a short while.
            retry_while(
                &["InvalidIPAddress.InUse"],
                self.deadline,
                self.cancel,
                move || async move {
                    tracing::debug!(allocation_id = %id, "releasing elastic ip");
                    gone_ok(
                        self.c
                            .ec2
                            .release_address()
                            .allocation_id(id)
                            .send()
                            .await
                            .map(drop)
                            .map_err(|err| AwsError::from_sdk("ReleaseAddress", Some(id), err)),
                    )
                },
            )
        }))
        .await
        .map(drop)
    }

    async fn delete_subnet(&self, id: &str) -> Result<(), AwsError> {
        self.in_use(
            "DeleteSubnet",
            id,
            Holder::Interfaces("subnet-id"),
            || async {
                tracing::debug!(subnet_id = id, "deleting subnet");
                self.c
                    .ec2
                    .delete_subnet()
                    .subnet_id(id)
                    .send()
                    .await
                    .map(drop)
                    .map_err(|err| AwsError::from_sdk("DeleteSubnet", Some(id), err))
            },
        )
        .await
    }

    async fn delete_internet_gateway(&self, id: &str, t: &Targets) -> Result<(), AwsError> {
        if let Some(vpc_id) = &t.vpc_id {
            // DependencyViolation "has some mapped public address(es)": the NAT gateways'
            // addresses are still being released.
            let detach = self.in_use("DetachInternetGateway", id, Holder::Nothing, || async {
                tracing::debug!(internet_gateway_id = id, vpc_id = %vpc_id, "detaching");
                self.c
                    .ec2
                    .detach_internet_gateway()
                    .internet_gateway_id(id)
                    .vpc_id(vpc_id)
                    .send()
                    .await
                    .map(drop)
                    .map_err(|err| AwsError::from_sdk("DetachInternetGateway", Some(id), err))
            });
            match detach.await {
                Err(err) if err.is_code(&["Gateway.NotAttached"]) => {}
                other => other?,
            }
        }
        tracing::debug!(internet_gateway_id = id, "deleting internet gateway");
        gone_ok(
            self.c
                .ec2
                .delete_internet_gateway()
                .internet_gateway_id(id)
                .send()
                .await
                .map(drop)
                .map_err(|err| AwsError::from_sdk("DeleteInternetGateway", Some(id), err)),
        )
    }

    async fn delete_vpc(&self, id: &str) -> Result<(), AwsError> {
        self.in_use("DeleteVpc", id, Holder::Vpc, || async {
            tracing::debug!(vpc_id = id, "deleting vpc");
            self.c
                .ec2
                .delete_vpc()
                .vpc_id(id)
                .send()
                .await
                .map(drop)
                .map_err(|err| AwsError::from_sdk("DeleteVpc", Some(id), err))
        })
        .await
    }

    /// Runs a delete, counting "not found" as done and retrying `DependencyViolation`
    /// until the deadline; then reports what still holds the object.
    async fn in_use<F, Fut>(
        &self,
        operation: &'static str,
        id: &str,
        holder: Holder,
        mut op: F,
    ) -> Result<(), AwsError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<(), AwsError>>,
    {
        // DependencyViolation: something deleted moments ago (a NAT gateway's network
        // interface, an endpoint's routes) still counts as using the object.
        let result = retry_while(&["DependencyViolation"], self.deadline, self.cancel, || {
            gone_ok_fut(op())
        })
        .await;
        match result {
            Err(err) if err.is_code(&["DependencyViolation"]) => {
                let holders = holders(self.c, holder, id).await;
                Err(AwsError::StillInUse {
                    operation,
                    resource: id.to_owned(),
                    holders,
                    last: Box::new(err),
                })
            }
            other => other,
        }
    }
}

async fn gone_ok_fut(op: impl Future<Output = Result<(), AwsError>>) -> Result<(), AwsError> {
    gone_ok(op.await)
}

/// How to find what holds an object that cannot be deleted.
#[derive(Debug, Clone, Copy)]
enum Holder {
    /// AWS's message says enough.
    Nothing,
    /// Network interfaces, by this `DescribeNetworkInterfaces` filter on the object id.
    Interfaces(&'static str),
    /// Whatever is left in the VPC.
    Vpc,
}

/// Describes what still uses `id`; best effort, since this only improves an error.
async fn holders(c: &AwsClients, holder: Holder, id: &str) -> Vec<String> {
    let interfaces = |filter_name: &'static str| interfaces_using(&c.ec2, filter_name, id);
    match holder {
        Holder::Nothing => Vec::new(),
        Holder::Interfaces(filter_name) => interfaces(filter_name).await,
        Holder::Vpc => {
            let groups = async {
                c.ec2
                    .describe_security_groups()
                    .filters(filter("vpc-id", [id]))
                    .send()
                    .await
                    .map(|answer| {
                        answer
                            .security_groups()
                            .iter()
                            .filter(|group| group.group_name() != Some("default"))
                            .map(|group| {
                                format!(
                                    "security group {} ({})",
                                    group.group_id().unwrap_or("?"),
                                    group.group_name().unwrap_or("?")
                                )
                            })
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default()
            };
            let (objects, enis, groups) = tokio::join!(fetch(c, id), interfaces("vpc-id"), groups);
            let mut found = Vec::new();
            if let Ok(Some(objects)) = objects {
                found.extend(
                    objects
                        .subnets
                        .iter()
                        .filter_map(|s| s.subnet_id())
                        .map(|s| format!("subnet {s}")),
                );
                found.extend(
                    objects
                        .internet_gateways
                        .iter()
                        .filter_map(|g| g.internet_gateway_id())
                        .map(|g| format!("internet gateway {g}")),
                );
                found.extend(
                    objects
                        .route_tables
                        .iter()
                        .filter(|t| !t.associations().iter().any(|a| a.main() == Some(true)))
                        .filter_map(|t| t.route_table_id())
                        .map(|t| format!("route table {t}")),
                );
                found.extend(
                    objects
                        .endpoints
                        .iter()
                        .filter_map(|e| e.vpc_endpoint_id())
                        .map(|e| format!("vpc endpoint {e}")),
                );
                found.extend(
                    objects
                        .nat_gateways
                        .iter()
                        .filter_map(|n| n.nat_gateway_id())
                        .map(|n| format!("nat gateway {n}")),
                );
            }
            found.extend(enis);
            found.extend(groups);
            found
        }
    }
}
