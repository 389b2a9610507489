//! The typed input and output of `atlas_network`, the names of the objects it creates,
//! and the CIDR plan.
//!
//! # The CIDR scheme
//!
//! Unless the configuration names them, subnet CIDRs are derived from the VPC CIDR alone,
//! so the same input always gives the same subnets:
//!
//! - every subnet has the prefix length `max(24, vpc_prefix + 2)`: a /24 for VPCs from
//!   /16 to /22, a quarter of the VPC for smaller ones (a /26 VPC gets /28 subnets, the
//!   smallest AWS allows);
//! - the VPC is cut into blocks of that size; the public subnet of zone `i` is block `i`
//!   from the start of the VPC, the private subnet of zone `i` is block `i` from the
//!   middle of the VPC.
//!
//! For `10.0.0.0/16` and two zones: public `10.0.0.0/24`, `10.0.1.0/24`; private
//! `10.0.128.0/24`, `10.0.129.0/24`. The rest of the VPC stays free for later subnets.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

/// The tag that marks every object of a network with the network's name.
pub(crate) const NETWORK_TAG: &str = "atlas:network";

/// AWS's bounds on the prefix length of a VPC or subnet IPv4 CIDR block.
pub(crate) const MIN_PREFIX: u8 = 16;
/// See [`MIN_PREFIX`].
pub(crate) const MAX_PREFIX: u8 = 28;

/// The retention periods CloudWatch Logs accepts, in days; 0 means "never expire".
pub(crate) const RETENTION_DAYS: [i32; 23] = [
    0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// What the configuration asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct NetworkSpec {
    /// The network's name: the prefix of every `Name` tag and the `atlas:network` tag value.
    pub(crate) name: String,
    /// The VPC's IPv4 CIDR block.
    pub(crate) cidr_block: String,
    /// The availability zones by name; chosen at create time when absent.
    pub(crate) availability_zones: Option<Vec<String>>,
    /// One public subnet CIDR per zone; derived from `cidr_block` when absent.
    pub(crate) public_subnet_cidrs: Option<Vec<String>>,
    /// One private subnet CIDR per zone; derived from `cidr_block` when absent.
    pub(crate) private_subnet_cidrs: Option<Vec<String>>,
    /// Whether REJECT traffic is logged to CloudWatch Logs.
    pub(crate) flow_logs: bool,
    /// The VPC's DNS resolution (`enableDnsSupport`).
    pub(crate) enable_dns_support: bool,
    /// DNS hostnames for instances with public addresses (`enableDnsHostnames`).
    pub(crate) enable_dns_hostnames: bool,
    /// The log group's retention in days, one of [`RETENTION_DAYS`] (0: never expire).
    pub(crate) flow_log_retention_days: i32,
    /// Tags for every object, already merged with the provider's default tags. `Name` and
    /// `atlas:network` are set by the resource and win over the same keys here.
    pub(crate) tags: BTreeMap<String, String>,
}

/// What exists in AWS. Lists hold one entry per zone, in the order of
/// `availability_zones`; a partial state (after a failed create) may hold fewer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct NetworkState {
    /// The VPC.
    pub(crate) vpc_id: Option<String>,
    /// The VPC's IPv4 CIDR block.
    pub(crate) cidr_block: String,
    /// Zone names.
    pub(crate) availability_zones: Vec<String>,
    /// Zone ids (`euw1-az1`), which name the same physical zone in every account.
    pub(crate) availability_zone_ids: Vec<String>,
    /// Public subnet CIDRs.
    pub(crate) public_subnet_cidrs: Vec<String>,
    /// Private subnet CIDRs.
    pub(crate) private_subnet_cidrs: Vec<String>,
    /// Public subnet ids.
    pub(crate) public_subnet_ids: Vec<String>,
    /// Private subnet ids.
    pub(crate) private_subnet_ids: Vec<String>,
    /// The internet gateway.
    pub(crate) internet_gateway_id: Option<String>,
    /// The route table shared by the public subnets.
    pub(crate) public_route_table_id: Option<String>,
    /// One route table per private subnet.
    pub(crate) private_route_table_ids: Vec<String>,
    /// One NAT gateway per public subnet.
    pub(crate) nat_gateway_ids: Vec<String>,
    /// The NAT gateways' public IPs.
    pub(crate) nat_public_ips: Vec<String>,
    /// The NAT gateways' Elastic IP allocations.
    pub(crate) eip_allocation_ids: Vec<String>,
    /// The S3 gateway endpoint.
    pub(crate) s3_endpoint_id: Option<String>,
    /// The VPC flow log.
    pub(crate) flow_log_id: Option<String>,
    /// The flow log's CloudWatch Logs group.
    pub(crate) flow_log_group_name: Option<String>,
    /// The role that delivers flow logs to the group.
    pub(crate) flow_log_role_arn: Option<String>,
    /// The log group's retention in days (0: never expire, or no log group).
    pub(crate) flow_log_retention_days: i32,
    /// The tags on the VPC as AWS holds them, `Name` and `atlas:network` included (import
    /// reads the network's name from the latter).
    pub(crate) tags: BTreeMap<String, String>,
    /// What a read found out of shape; never part of the Terraform state itself.
    #[serde(default)]
    pub(crate) drift: Vec<Drift>,
}

/// A part of the network that exists but is not as the network needs it, found by a read
/// and repaired in place by the next apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Drift {
    /// The zone's public subnet has no NAT gateway.
    NatGatewayMissing {
        /// The zone name.
        zone: String,
        /// The public subnet the NAT gateway belongs in.
        subnet_id: String,
    },
    /// The zone's private route table has no default route, or one that does not go to
    /// the zone's NAT gateway.
    PrivateRouteWrong {
        /// The zone name.
        zone: String,
        /// The private route table.
        route_table_id: String,
        /// Whether a `0.0.0.0/0` route exists (to be replaced) or not (to be created).
        has_default_route: bool,
    },
    /// The S3 endpoint is not attached to the zone's private route table.
    EndpointDetached {
        /// The zone name.
        zone: String,
        /// The S3 gateway endpoint.
        vpc_endpoint_id: String,
        /// The private route table it must be attached to.
        route_table_id: String,
    },
    /// The S3 endpoint is gone.
    EndpointMissing,
}

impl Drift {
    /// The attributes whose values the repair may change, to plan as unknown.
    pub(crate) fn attributes(&self) -> &'static [&'static str] {
        match self {
            Drift::NatGatewayMissing { .. } => {
                &["nat_gateway_ids", "nat_public_ips", "eip_allocation_ids"]
            }
            Drift::PrivateRouteWrong { .. } => &["private_route_table_ids"],
            Drift::EndpointDetached { .. } | Drift::EndpointMissing => &["s3_endpoint_id"],
        }
    }
}

impl std::fmt::Display for Drift {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Drift::NatGatewayMissing { zone, subnet_id } => {
                write!(f, "the NAT gateway of zone {zone} (in {subnet_id}) is gone")
            }
            Drift::PrivateRouteWrong {
                zone,
                route_table_id,
                has_default_route: true,
            } => write!(
                f,
                "the default route of private route table {route_table_id} ({zone}) does not \
                 go to the zone's NAT gateway"
            ),
            Drift::PrivateRouteWrong {
                zone,
                route_table_id,
                has_default_route: false,
            } => write!(
                f,
                "private route table {route_table_id} ({zone}) has no default route"
            ),
            Drift::EndpointDetached {
                zone,
                vpc_endpoint_id,
                route_table_id,
            } => write!(
                f,
                "S3 endpoint {vpc_endpoint_id} is not attached to private route table \
                 {route_table_id} ({zone})"
            ),
            Drift::EndpointMissing => write!(f, "the S3 gateway endpoint is gone"),
        }
    }
}

impl NetworkState {
    /// Every EC2 object of the network, for tagging them all in one call.
    pub(crate) fn ec2_ids(&self) -> Vec<String> {
        let singles = [
            &self.vpc_id,
            &self.internet_gateway_id,
            &self.public_route_table_id,
            &self.s3_endpoint_id,
            &self.flow_log_id,
        ];
        let lists = [
            &self.public_subnet_ids,
            &self.private_subnet_ids,
            &self.private_route_table_ids,
            &self.nat_gateway_ids,
            &self.eip_allocation_ids,
        ];
        singles
            .into_iter()
            .flatten()
            .chain(lists.into_iter().flatten())
            .filter(|id| !id.is_empty())
            .cloned()
            .collect()
    }
}

/// Whether a tag key is set by the resource itself rather than by the configuration.
pub(crate) fn is_reserved_tag(key: &str) -> bool {
    key == crate::aws::NAME_TAG || key == NETWORK_TAG || key == CREATING_TAG
}

/// Marks a VPC whose create has not finished: a create killed halfway leaves it, and the
/// next create removes what it finds so marked instead of building a second network.
pub(crate) const CREATING_TAG: &str = "atlas:creating";

/// The names of the objects a network creates, from the network's name.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Names<'a>(pub(crate) &'a str);

impl Names<'_> {
    pub(crate) fn vpc(&self) -> String {
        format!("{}-vpc", self.0)
    }
    pub(crate) fn internet_gateway(&self) -> String {
        format!("{}-igw", self.0)
    }
    pub(crate) fn public_subnet(&self, zone: &str) -> String {
        format!("{}-public-{zone}", self.0)
    }
    pub(crate) fn private_subnet(&self, zone: &str) -> String {
        format!("{}-private-{zone}", self.0)
    }
    pub(crate) fn public_route_table(&self) -> String {
        format!("{}-public", self.0)
    }
    pub(crate) fn private_route_table(&self, zone: &str) -> String {
        format!("{}-private-{zone}", self.0)
    }
    pub(crate) fn nat_gateway(&self, zone: &str) -> String {
        format!("{}-nat-{zone}", self.0)
    }
    pub(crate) fn s3_endpoint(&self) -> String {
        format!("{}-s3", self.0)
    }
    pub(crate) fn flow_log(&self) -> String {
        format!("{}-flow-logs", self.0)
    }
    pub(crate) fn log_group(&self) -> String {
        format!("/aws/vpc-flow-logs/{}", self.0)
    }
    /// IAM role names are global to the account and at most 64 characters.
    pub(crate) fn flow_log_role(&self) -> String {
        format!("{}-vpc-flow-logs", self.0)
    }
}

/// Why a VPC CIDR cannot be split into subnets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum CidrError {
    /// Not an IPv4 CIDR block.
    #[error("{0:?} is not a valid IPv4 CIDR block")]
    Invalid(String),
    /// Host bits are set.
    #[error("{given} is not a network address; did you mean {network}?")]
    NotNetworkAddress {
        /// As given.
        given: String,
        /// With the host bits cleared.
        network: String,
    },
    /// The prefix length is outside AWS's range.
    #[error("{cidr} has a /{prefix} prefix; AWS accepts /16 to /28")]
    PrefixOutOfRange {
        /// As given.
        cidr: String,
        /// Its prefix length.
        prefix: u8,
    },
    /// The VPC cannot hold one public and one private subnet per zone.
    #[error(
        "{cidr} is too small for {subnets} subnets of at least /{MAX_PREFIX}; use a larger \
         VPC or set the subnet CIDRs"
    )]
    TooSmall {
        /// The VPC CIDR.
        cidr: String,
        /// How many subnets were asked for.
        subnets: usize,
    },
}

/// Parses an IPv4 CIDR block that must be a network address within AWS's prefix range.
pub(crate) fn parse_aws_cidr(cidr: &str) -> Result<Ipv4Net, CidrError> {
    let net: Ipv4Net = cidr
        .trim()
        .parse()
        .map_err(|_| CidrError::Invalid(cidr.to_owned()))?;
    if net.trunc() != net {
        return Err(CidrError::NotNetworkAddress {
            given: cidr.to_owned(),
            network: net.trunc().to_string(),
        });
    }
    if !(MIN_PREFIX..=MAX_PREFIX).contains(&net.prefix_len()) {
        return Err(CidrError::PrefixOutOfRange {
            cidr: cidr.to_owned(),
            prefix: net.prefix_len(),
        });
    }
    Ok(net)
}

/// The public and private subnet CIDRs for `zones` zones (see the module docs).
pub(crate) fn plan_cidrs(
    vpc_cidr: &str,
    zones: usize,
) -> Result<(Vec<String>, Vec<String>), CidrError> {
    let vpc = parse_aws_cidr(vpc_cidr)?;
    let too_small = || CidrError::TooSmall {
        cidr: vpc_cidr.to_owned(),
        subnets: 2 * zones,
    };
    let subnet_prefix = (vpc.prefix_len() + 2).max(24);
    if subnet_prefix > MAX_PREFIX {
        return Err(too_small());
    }
    let blocks = 1usize << (subnet_prefix - vpc.prefix_len());
    let half = blocks / 2;
    if zones > half {
        return Err(too_small());
    }
    let block = |index: usize| {
        let size = 1u32 << (32 - subnet_prefix);
        let start = u32::from(vpc.network()) + size * index as u32;
        Ipv4Net::new(Ipv4Addr::from(start), subnet_prefix)
            .expect("a prefix length of at most 28 is valid")
            .to_string()
    };
    let public = (0..zones).map(block).collect();
    let private = (0..zones).map(|zone| block(half + zone)).collect();
    Ok((public, private))
}

/// One problem with the configured CIDRs, located by attribute and list index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CidrProblem {
    /// `cidr_block`, `public_subnet_cidrs` or `private_subnet_cidrs`.
    pub(crate) attribute: &'static str,
    /// The list index, for the subnet lists.
    pub(crate) index: Option<usize>,
    /// A full sentence saying what is wrong.
    pub(crate) message: String,
}

impl CidrProblem {
    fn new(attribute: &'static str, index: Option<usize>, message: String) -> Self {
        CidrProblem {
            attribute,
            index,
            message,
        }
    }
}

/// Checks the VPC CIDR and the subnet CIDRs for `zones` zones; a list that is `None`
/// will be derived with [`plan_cidrs`] and is checked as derived.
///
/// Reports invalid blocks, host bits set, prefixes outside /16../28, subnets outside the
/// VPC, subnets that overlap one another, list lengths that differ from the zone count,
/// and a VPC too small for the derived subnets.
pub(crate) fn validate_cidrs(
    vpc_cidr: &str,
    zones: usize,
    public: Option<&[String]>,
    private: Option<&[String]>,
) -> Vec<CidrProblem> {
    let mut problems = Vec::new();
    let vpc = match parse_aws_cidr(vpc_cidr) {
        Ok(vpc) => Some(vpc),
        Err(err) => {
            problems.push(CidrProblem::new("cidr_block", None, sentence(&err)));
            None
        }
    };

    let derived = match (vpc, public.is_none() || private.is_none()) {
        (Some(_), true) => match plan_cidrs(vpc_cidr, zones) {
            Ok(plan) => Some(plan),
            Err(err) => {
                problems.push(CidrProblem::new("cidr_block", None, sentence(&err)));
                None
            }
        },
        _ => None,
    };

    // Every subnet, configured or derived, in the order public then private.
    struct Entry {
        attribute: &'static str,
        index: usize,
        net: Ipv4Net,
        configured: bool,
    }
    let mut entries: Vec<Entry> = Vec::new();
    let lists = [
        (
            "public_subnet_cidrs",
            public,
            derived.as_ref().map(|(public, _)| public),
        ),
        (
            "private_subnet_cidrs",
            private,
            derived.as_ref().map(|(_, private)| private),
        ),
    ];
    for (attribute, configured, planned) in lists {
        let Some(list) = configured else {
            for (index, cidr) in planned.into_iter().flatten().enumerate() {
                if let Ok(net) = cidr.parse() {
                    entries.push(Entry {
                        attribute,
                        index,
                        net,
                        configured: false,
                    });
                }
            }
            continue;
        };
        if list.len() != zones {
            problems.push(CidrProblem::new(
                attribute,
                None,
                format!(
                    "Expected {zones} CIDR blocks, one per availability zone, but got {}.",
                    list.len()
                ),
            ));
        }
        for (index, cidr) in list.iter().enumerate() {
            let net = match parse_aws_cidr(cidr) {
                Ok(net) => net,
                Err(err) => {
                    problems.push(CidrProblem::new(attribute, Some(index), sentence(&err)));
                    continue;
                }
            };
            if let Some(vpc) = vpc {
                if !vpc.contains(&net) {
                    problems.push(CidrProblem::new(
                        attribute,
                        Some(index),
                        format!("{net} is outside the VPC's CIDR block {vpc}."),
                    ));
                    continue;
                }
            }
            entries.push(Entry {
                attribute,
                index,
                net,
                configured: true,
            });
        }
    }

    for (later, entry) in entries.iter().enumerate() {
        let Some(earlier) = entries[..later]
            .iter()
            .find(|earlier| overlaps(earlier.net, entry.net))
        else {
            continue;
        };
        // Report on a configured entry: a derived one cannot be edited.
        let (report, other) = if entry.configured {
            (entry, earlier)
        } else {
            (earlier, entry)
        };
        if !report.configured {
            continue;
        }
        let other_name = if other.configured {
            format!("{}[{}] ({})", other.attribute, other.index, other.net)
        } else {
            format!(
                "the derived {} {}",
                other.attribute.trim_end_matches('s'),
                other.net
            )
        };
        problems.push(CidrProblem::new(
            report.attribute,
            Some(report.index),
            format!(
                "{} overlaps {other_name}; subnets of one VPC must not overlap.",
                report.net
            ),
        ));
    }
    problems
}

/// Checks a log retention period.
pub(crate) fn validate_retention(days: i32) -> Option<String> {
    (!RETENTION_DAYS.contains(&days)).then(|| {
        format!(
            "{days} is not a retention period CloudWatch Logs accepts; use one of {} (0 keeps \
             the logs forever).",
            RETENTION_DAYS.map(|d| d.to_string()).join(", ")
        )
    })
}

fn overlaps(a: Ipv4Net, b: Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// The error as a sentence: capitalized, with a final period unless it asks a question.
fn sentence(err: &CidrError) -> String {
    let text = err.to_string();
    let mut chars = text.chars();
    let mut sentence: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => text,
    };
    if !sentence.ends_with(['.', '?']) {
        sentence.push('.');
    }
    sentence
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn plan_for_a_slash_16() {
        let (public, private) = plan_cidrs("10.0.0.0/16", 2).unwrap();
        assert_eq!(public, ["10.0.0.0/24", "10.0.1.0/24"]);
        assert_eq!(private, ["10.0.128.0/24", "10.0.129.0/24"]);
    }

    #[test]
    fn plan_keeps_slash_24_subnets_down_to_a_slash_22() {
        let (public, private) = plan_cidrs("172.16.4.0/22", 2).unwrap();
        assert_eq!(public, ["172.16.4.0/24", "172.16.5.0/24"]);
        assert_eq!(private, ["172.16.6.0/24", "172.16.7.0/24"]);
    }

    #[test]
    fn plan_uses_quarters_of_small_vpcs() {
        let (public, private) = plan_cidrs("10.1.2.0/26", 2).unwrap();
        assert_eq!(public, ["10.1.2.0/28", "10.1.2.16/28"]);
        assert_eq!(private, ["10.1.2.32/28", "10.1.2.48/28"]);
    }

    #[test]
    fn plan_is_deterministic_and_the_plan_validates() {
        for cidr in [
            "10.0.0.0/16",
            "10.20.0.0/18",
            "192.168.0.0/20",
            "10.0.0.0/24",
        ] {
            let first = plan_cidrs(cidr, 2).unwrap();
            assert_eq!(first, plan_cidrs(cidr, 2).unwrap());
            let problems = validate_cidrs(cidr, 2, Some(&first.0), Some(&first.1));
            assert!(problems.is_empty(), "{cidr}: {problems:?}");
        }
    }

    #[test]
    fn plan_rejects_a_vpc_too_small() {
        assert!(matches!(
            plan_cidrs("10.0.0.0/27", 2),
            Err(CidrError::TooSmall { subnets: 4, .. })
        ));
        assert!(matches!(
            plan_cidrs("10.0.0.0/22", 3),
            Err(CidrError::TooSmall { .. })
        ));
    }

    #[test]
    fn plan_rejects_bad_vpc_cidrs() {
        assert!(matches!(
            plan_cidrs("10.0.0.0", 2),
            Err(CidrError::Invalid(_))
        ));
        assert!(matches!(
            plan_cidrs("10.0.0.1/16", 2),
            Err(CidrError::NotNetworkAddress { .. })
        ));
        assert!(matches!(
            plan_cidrs("10.0.0.0/8", 2),
            Err(CidrError::PrefixOutOfRange { prefix: 8, .. })
        ));
    }

    #[test]
    fn validate_reports_the_vpc_problem_on_cidr_block() {
        let problems = validate_cidrs("10.0.0.1/16", 2, None, None);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].attribute, "cidr_block");
        assert_eq!(
            problems[0].message,
            "10.0.0.1/16 is not a network address; did you mean 10.0.0.0/16?"
        );
        let problems = validate_cidrs("10.0.0.0/12", 2, None, None);
        assert!(
            problems[0].message.contains("AWS accepts /16 to /28"),
            "{problems:?}"
        );
        let problems = validate_cidrs("10.0.0.0/27", 2, None, None);
        assert!(
            problems[0].message.contains("too small for 4 subnets"),
            "{problems:?}"
        );
    }

    #[test]
    fn validate_locates_each_bad_subnet() {
        let public = strings(&["10.0.0.0/24", "10.1.0.0/24"]);
        let private = strings(&["10.0.2.0/33", "10.0.3.7/24"]);
        let problems = validate_cidrs("10.0.0.0/16", 2, Some(&public), Some(&private));
        let located: Vec<_> = problems.iter().map(|p| (p.attribute, p.index)).collect();
        assert_eq!(
            located,
            [
                ("public_subnet_cidrs", Some(1)),
                ("private_subnet_cidrs", Some(0)),
                ("private_subnet_cidrs", Some(1)),
            ]
        );
        assert!(
            problems[0].message.contains("outside the VPC"),
            "{problems:?}"
        );
        assert!(
            problems[1].message.contains("not a valid IPv4 CIDR block"),
            "{problems:?}"
        );
        assert!(
            problems[2].message.contains("did you mean 10.0.3.0/24"),
            "{problems:?}"
        );
    }

    #[test]
    fn validate_reports_overlaps_on_the_later_subnet() {
        let public = strings(&["10.0.0.0/24", "10.0.1.0/24"]);
        let private = strings(&["10.0.0.0/23", "10.0.2.0/24"]);
        let problems = validate_cidrs("10.0.0.0/16", 2, Some(&public), Some(&private));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(
            (problems[0].attribute, problems[0].index),
            ("private_subnet_cidrs", Some(0))
        );
        assert_eq!(
            problems[0].message,
            "10.0.0.0/23 overlaps public_subnet_cidrs[0] (10.0.0.0/24); subnets of one VPC must \
             not overlap."
        );
    }

    #[test]
    fn validate_checks_configured_subnets_against_derived_ones() {
        let public = strings(&["10.0.128.0/24", "10.0.1.0/24"]);
        let problems = validate_cidrs("10.0.0.0/16", 2, Some(&public), None);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(
            (problems[0].attribute, problems[0].index),
            ("public_subnet_cidrs", Some(0))
        );
        assert!(
            problems[0]
                .message
                .contains("the derived private_subnet_cidr 10.0.128.0/24"),
            "{problems:?}"
        );
    }

    #[test]
    fn validate_checks_the_count_per_zone() {
        let public = strings(&["10.0.0.0/24"]);
        let problems = validate_cidrs("10.0.0.0/16", 2, Some(&public), None);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(
            (problems[0].attribute, problems[0].index),
            ("public_subnet_cidrs", None)
        );
    }

    #[test]
    fn retention_accepts_only_cloudwatch_periods() {
        assert_eq!(validate_retention(30), None);
        assert_eq!(validate_retention(0), None);
        assert!(validate_retention(31)
            .unwrap()
            .starts_with("31 is not a retention period"));
    }
}
