//! The security group matrix as data, and what it exposes to the outside.
//!
//! Everything here is pure: the ten roles, the inbound rules each role gets for a set of
//! inputs, the unrestricted egress every group keeps, the comparison of what AWS holds
//! with what the matrix asks for, and the exposure report. The AWS layer only translates
//! [`Rule`]s to and from EC2's `IpPermission`s.
//!
//! A rule names its source group by role rather than by group id, so the whole matrix is
//! known at plan time, before any group exists, and reads in `terraform show` the way the
//! design's table does. Only a source group outside the model appears by its id.

use std::collections::{BTreeMap, BTreeSet};

use ipnet::IpNet;

/// The tag that marks every group and rule of a model with the model's name prefix.
pub(crate) const MODEL_TAG: &str = "atlas:security-model";

/// The protocol value AWS uses for "all traffic".
pub(crate) const ALL_PROTOCOLS: &str = "-1";

/// The IPv4 and IPv6 networks that mean "anywhere".
const WORLD: [&str; 2] = ["0.0.0.0/0", "::/0"];

/// One security group of the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Role {
    /// The internet-facing load balancer.
    Alb,
    /// Shared by every ECS workload.
    Ecs,
    /// The dashboard backend service (which also carries `ecs`).
    DashboardBackend,
    /// The scoring service.
    Scoring,
    /// Camunda.
    Camunda,
    /// The Valkey cache.
    Valkey,
    /// The ClickHouse Prometheus agent: egress only.
    ClickhouseAgent,
    /// MSK Connect workers: egress only.
    MskConnect,
    /// The MSK brokers.
    Msk,
    /// The database.
    Rds,
}

impl Role {
    /// Every role, in the order of the design's table.
    pub(crate) const ALL: [Role; 10] = [
        Role::Alb,
        Role::Ecs,
        Role::DashboardBackend,
        Role::Scoring,
        Role::Camunda,
        Role::Valkey,
        Role::ClickhouseAgent,
        Role::MskConnect,
        Role::Msk,
        Role::Rds,
    ];

    /// The roles that may reach the database besides `rds_allowed_cidrs`.
    pub(crate) const RDS_CLIENTS: [Role; 2] = [Role::DashboardBackend, Role::Camunda];

    /// The role's name as the configuration and the state spell it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Role::Alb => "alb",
            Role::Ecs => "ecs",
            Role::DashboardBackend => "dashboard_backend",
            Role::Scoring => "scoring",
            Role::Camunda => "camunda",
            Role::Valkey => "valkey",
            Role::ClickhouseAgent => "clickhouse_agent",
            Role::MskConnect => "msk_connect",
            Role::Msk => "msk",
            Role::Rds => "rds",
        }
    }

    /// The role named `name`.
    pub(crate) fn from_name(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.name() == name)
    }

    /// The group's name: `<name_prefix>-<role>`.
    pub(crate) fn group_name(self, prefix: &str) -> String {
        format!("{prefix}-{}", self.name())
    }

    /// The group's description. AWS cannot change a group's description in place, so it
    /// depends on nothing that can change.
    pub(crate) fn group_description(self) -> String {
        format!("Atlas {} security group", self.name())
    }

    /// The role whose group is called `group_name` in the model `prefix`.
    pub(crate) fn from_group_name(prefix: &str, group_name: &str) -> Option<Role> {
        let role = group_name.strip_prefix(prefix)?.strip_prefix('-')?;
        Role::from_name(role)
    }
}

/// Which way a rule lets traffic through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Direction {
    /// Into the group.
    Ingress,
    /// Out of the group.
    Egress,
}

impl Direction {
    /// The name the state uses.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
        }
    }

    /// The direction named `name`.
    pub(crate) fn from_name(name: &str) -> Option<Direction> {
        match name {
            "ingress" => Some(Direction::Ingress),
            "egress" => Some(Direction::Egress),
            _ => None,
        }
    }
}

/// Where a rule's traffic comes from (ingress) or goes to (egress).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Source {
    /// Another group of the same model.
    Group(Role),
    /// A group outside the model, by id (only ever found as drift).
    ForeignGroup(String),
    /// An IPv4 or IPv6 network, in canonical form.
    Cidr(String),
    /// A managed prefix list, by id (only ever found as drift).
    PrefixList(String),
}

/// One security group rule: what AWS calls a security group rule, one source each.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Rule {
    /// The group the rule belongs to.
    pub(crate) group: Role,
    /// Ingress or egress.
    pub(crate) direction: Direction,
    /// The first port (or ICMP type); -1 for all traffic.
    pub(crate) from_port: i32,
    /// The last port (or ICMP code); -1 for all traffic.
    pub(crate) to_port: i32,
    /// `tcp`, `udp`, `icmp`, a protocol number, or `-1` for all traffic.
    pub(crate) protocol: String,
    /// The peer.
    pub(crate) source: Source,
    /// What the rule is for; AWS allows none.
    pub(crate) description: Option<String>,
}

/// What identifies a rule in AWS: everything but its description.
pub(crate) type RuleKey = (Role, Direction, i32, i32, String, Source);

impl Rule {
    fn tcp(group: Role, port: i32, source: Source, description: impl Into<String>) -> Rule {
        Rule {
            group,
            direction: Direction::Ingress,
            from_port: port,
            to_port: port,
            protocol: "tcp".to_owned(),
            source,
            description: Some(description.into()),
        }
    }

    /// The default egress rule AWS gives every new group: all traffic to `0.0.0.0/0`.
    pub(crate) fn default_egress(group: Role) -> Rule {
        Rule {
            group,
            direction: Direction::Egress,
            from_port: -1,
            to_port: -1,
            protocol: ALL_PROTOCOLS.to_owned(),
            source: Source::Cidr(WORLD[0].to_owned()),
            description: None,
        }
    }

    /// The same rule to `::/0`, which AWS adds to new groups in a VPC with IPv6.
    pub(crate) fn default_ipv6_egress(group: Role) -> Rule {
        Rule {
            source: Source::Cidr(WORLD[1].to_owned()),
            ..Rule::default_egress(group)
        }
    }

    /// What identifies the rule in AWS.
    pub(crate) fn key(&self) -> RuleKey {
        (
            self.group,
            self.direction,
            self.from_port,
            self.to_port,
            self.protocol.clone(),
            self.source.clone(),
        )
    }
}

/// The inputs the matrix depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Inputs {
    /// Who may reach the ALB on 80 and 443.
    pub(crate) alb_ingress_cidrs: Vec<String>,
    /// Who may reach the brokers' public IAM + TLS listener on 9198.
    pub(crate) msk_public_access_cidrs: Vec<String>,
    /// Whether the cluster has public broker addresses (set by `atlas_msk_public_access`).
    pub(crate) msk_public_access_enabled: bool,
    /// Who may reach the database on 5432 besides the workload below.
    pub(crate) rds_allowed_cidrs: Vec<String>,
    /// The workload that reaches the database: dashboard backend or Camunda.
    pub(crate) rds_access_from: Role,
    /// The dashboard backend's ALB target port.
    pub(crate) dashboard_target_port: i32,
}

/// Ports of the matrix.
const HTTP: i32 = 80;
const HTTPS: i32 = 443;
const SERVICE: i32 = 8080;
const SCORING: i32 = 8083;
const CAMUNDA: i32 = 8080;
const VALKEY: i32 = 6379;
const MSK_IAM: i32 = 9098;
const MSK_PUBLIC_IAM: i32 = 9198;
const POSTGRES: i32 = 5432;

/// A CIDR block in the form AWS reports it: network address, lowercase, IPv6 compressed.
/// Input that does not parse is kept as it is (validation has reported it already).
pub(crate) fn canonical_cidr(cidr: &str) -> String {
    cidr.parse::<IpNet>()
        .map_or_else(|_| cidr.to_owned(), |net| net.trunc().to_string())
}

/// Whether a CIDR block is IPv6 (and so belongs in `Ipv6Ranges`).
pub(crate) fn is_ipv6(cidr: &str) -> bool {
    cidr.contains(':')
}

fn is_world(cidr: &str) -> bool {
    WORLD.contains(&canonical_cidr(cidr).as_str())
}

/// Each CIDR once, in first-seen order.
fn unique_cidrs(cidrs: &[String]) -> Vec<String> {
    let mut seen = BTreeSet::new();
    cidrs
        .iter()
        .map(|cidr| canonical_cidr(cidr))
        .filter(|cidr| seen.insert(cidr.clone()))
        .collect()
}

/// Every inbound rule of the matrix for `inputs`, sorted.
pub(crate) fn ingress(inputs: &Inputs) -> Vec<Rule> {
    use Role::*;
    let group = Source::Group;
    let mut rules = Vec::new();
    for cidr in unique_cidrs(&inputs.alb_ingress_cidrs) {
        let source = Source::Cidr(cidr);
        rules.push(Rule::tcp(
            Alb,
            HTTP,
            source.clone(),
            "HTTP from alb_ingress_cidrs",
        ));
        rules.push(Rule::tcp(
            Alb,
            HTTPS,
            source,
            "HTTPS from alb_ingress_cidrs",
        ));
    }
    rules.push(Rule::tcp(
        Ecs,
        SERVICE,
        group(Alb),
        "Service port from the ALB",
    ));
    rules.push(Rule::tcp(
        DashboardBackend,
        inputs.dashboard_target_port,
        group(Alb),
        "Dashboard backend target port from the ALB",
    ));
    rules.push(Rule::tcp(
        Scoring,
        SCORING,
        group(Alb),
        "Scoring API from the ALB",
    ));
    rules.push(Rule::tcp(
        Scoring,
        SCORING,
        group(DashboardBackend),
        "Scoring API from the dashboard backend",
    ));
    rules.push(Rule::tcp(
        Camunda,
        CAMUNDA,
        group(Scoring),
        "Camunda API from scoring",
    ));
    for (from, what) in [
        (Ecs, "ECS workloads"),
        (DashboardBackend, "the dashboard backend"),
        (Scoring, "scoring"),
        (Camunda, "Camunda"),
    ] {
        rules.push(Rule::tcp(
            Valkey,
            VALKEY,
            group(from),
            format!("Valkey from {what}"),
        ));
    }
    rules.push(Rule::tcp(
        Msk,
        MSK_IAM,
        group(Ecs),
        "Kafka IAM TLS from ECS workloads",
    ));
    rules.push(Rule::tcp(
        Msk,
        MSK_IAM,
        group(MskConnect),
        "Kafka IAM TLS from MSK Connect workers",
    ));
    for cidr in unique_cidrs(&inputs.msk_public_access_cidrs) {
        rules.push(Rule::tcp(
            Msk,
            MSK_PUBLIC_IAM,
            Source::Cidr(cidr),
            "Kafka public IAM TLS from msk_public_access_cidrs",
        ));
    }
    for cidr in unique_cidrs(&inputs.rds_allowed_cidrs) {
        rules.push(Rule::tcp(
            Rds,
            POSTGRES,
            Source::Cidr(cidr),
            "PostgreSQL from rds_allowed_cidrs",
        ));
    }
    let client = match inputs.rds_access_from {
        Camunda => "Camunda",
        _ => "the dashboard backend",
    };
    rules.push(Rule::tcp(
        Rds,
        POSTGRES,
        group(inputs.rds_access_from),
        format!("PostgreSQL from {client}"),
    ));
    rules.sort();
    rules
}

/// The whole matrix for `inputs`, sorted: the inbound rules and each group's default
/// egress. `ipv6_egress` names the groups whose AWS-made `::/0` egress rule exists and is
/// kept (AWS adds it only in a VPC with IPv6; the model neither adds nor removes it).
pub(crate) fn matrix(inputs: &Inputs, ipv6_egress: &BTreeSet<Role>) -> Vec<Rule> {
    let mut rules = ingress(inputs);
    for role in Role::ALL {
        rules.push(Rule::default_egress(role));
        if ipv6_egress.contains(&role) {
            rules.push(Rule::default_ipv6_egress(role));
        }
    }
    rules.sort();
    rules
}

/// The groups among `rules` that have the AWS-made `::/0` egress rule.
pub(crate) fn ipv6_egress_groups(rules: &[Rule]) -> BTreeSet<Role> {
    rules
        .iter()
        .filter(|rule| rule.key() == Rule::default_ipv6_egress(rule.group).key())
        .map(|rule| rule.group)
        .collect()
}

/// What turns the rules AWS holds into the desired ones.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct RuleDiff {
    /// Desired rules AWS lacks.
    pub(crate) authorize: Vec<Rule>,
    /// Rules AWS holds that are not desired.
    pub(crate) revoke: Vec<Rule>,
    /// Desired rules AWS holds with another description; the new description is here.
    pub(crate) describe: Vec<Rule>,
}

impl RuleDiff {
    /// The changes that turn `actual` into `desired`.
    pub(crate) fn between(actual: &[Rule], desired: &[Rule]) -> RuleDiff {
        let have: BTreeMap<RuleKey, &Rule> = actual.iter().map(|r| (r.key(), r)).collect();
        let want: BTreeMap<RuleKey, &Rule> = desired.iter().map(|r| (r.key(), r)).collect();
        let mut diff = RuleDiff::default();
        for (key, rule) in &want {
            match have.get(key) {
                None => diff.authorize.push((*rule).clone()),
                Some(old) if old.description != rule.description => {
                    diff.describe.push((*rule).clone());
                }
                Some(_) => {}
            }
        }
        diff.revoke = have
            .iter()
            .filter(|(key, _)| !want.contains_key(*key))
            .map(|(_, rule)| (*rule).clone())
            .collect();
        diff
    }

    /// Whether nothing changes.
    pub(crate) fn is_empty(&self) -> bool {
        self.authorize.is_empty() && self.revoke.is_empty() && self.describe.is_empty()
    }
}

/// The inputs that would produce `rules` (for import). `msk_public_access_enabled` is not
/// visible in the groups and comes back false; a CIDR list comes back sorted.
pub(crate) fn infer_inputs(rules: &[Rule]) -> Inputs {
    let cidrs = |group: Role, port: i32| -> Vec<String> {
        let found: BTreeSet<String> = rules
            .iter()
            .filter(|r| r.group == group && r.direction == Direction::Ingress)
            .filter(|r| r.protocol == "tcp" && r.from_port == port && r.to_port == port)
            .filter_map(|r| match &r.source {
                Source::Cidr(cidr) => Some(cidr.clone()),
                _ => None,
            })
            .collect();
        found.into_iter().collect()
    };
    let from_group = |group: Role, from: Role| {
        rules.iter().find(|r| {
            r.group == group
                && r.direction == Direction::Ingress
                && r.protocol == "tcp"
                && r.source == Source::Group(from)
        })
    };
    let rds_access_from = Role::RDS_CLIENTS
        .into_iter()
        .find(|from| from_group(Role::Rds, *from).is_some())
        .unwrap_or(Role::DashboardBackend);
    Inputs {
        alb_ingress_cidrs: cidrs(Role::Alb, HTTPS),
        msk_public_access_cidrs: cidrs(Role::Msk, MSK_PUBLIC_IAM),
        msk_public_access_enabled: false,
        rds_allowed_cidrs: cidrs(Role::Rds, POSTGRES),
        rds_access_from,
        dashboard_target_port: from_group(Role::DashboardBackend, Role::Alb)
            .map_or(SERVICE, |r| r.from_port),
    }
}

/// Every finding id the exposure report can produce.
pub(crate) const FINDING_IDS: [&str; 8] = [
    "alb_world_open",
    "alb_cidrs",
    "msk_world_open",
    "msk_cidrs",
    "msk_cidrs_without_public_access",
    "msk_public_access_without_cidrs",
    "rds_world_open",
    "rds_cidrs",
];

/// One path from outside the VPC into a group, or a disagreement between inputs that
/// decides one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Finding {
    /// One of [`FINDING_IDS`].
    pub(crate) id: &'static str,
    /// The group reached.
    pub(crate) group: Role,
    /// The ports reached.
    pub(crate) ports: Vec<i32>,
    /// From where.
    pub(crate) cidrs: Vec<String>,
    /// Why it matters, as full sentences.
    pub(crate) message: String,
    /// The input that opens the path.
    pub(crate) attribute: &'static str,
    /// The position in that input of the first CIDR named, if the input is a list.
    pub(crate) index: Option<usize>,
}

/// A group that CIDR rules open to the outside, and how its findings read.
struct CidrPath {
    group: Role,
    ports: &'static [i32],
    /// The input that lists the CIDRs.
    attribute: &'static str,
    /// The id and the explanation of the finding for `0.0.0.0/0` and `::/0`.
    world: (&'static str, &'static str),
    /// The id and the explanation of the finding for any other network.
    narrow: (&'static str, &'static str),
}

const CIDR_PATHS: [CidrPath; 3] = [
    CidrPath {
        group: Role::Alb,
        ports: &[HTTP, HTTPS],
        attribute: "alb_ingress_cidrs",
        world: (
            "alb_world_open",
            "Anyone on the internet can reach the load balancer and every service routed \
             through it; list the clients' networks instead where they are known.",
        ),
        narrow: (
            "alb_cidrs",
            "These networks outside the VPC can reach the load balancer and every service \
             routed through it.",
        ),
    },
    CidrPath {
        group: Role::Msk,
        ports: &[MSK_PUBLIC_IAM],
        attribute: "msk_public_access_cidrs",
        world: (
            "msk_world_open",
            "Anyone on the internet can open connections to the brokers' public IAM + TLS \
             listener; only IAM authentication stands between them and the cluster.",
        ),
        narrow: (
            "msk_cidrs",
            "These networks can use the brokers' public IAM + TLS path when the cluster has \
             public access; IAM authentication protects it.",
        ),
    },
    CidrPath {
        group: Role::Rds,
        ports: &[POSTGRES],
        attribute: "rds_allowed_cidrs",
        world: (
            "rds_world_open",
            "Anyone on the internet can open connections to the database whenever it is \
             publicly accessible; only its password protects it. Production should forbid \
             this finding.",
        ),
        narrow: (
            "rds_cidrs",
            "These networks can reach the database directly whenever it is publicly \
             accessible or they are routed into the VPC.",
        ),
    },
];

/// The findings of one group's CIDR rules: one for the world, one for other networks.
fn cidr_findings(path: &CidrPath, list: &[String]) -> Vec<Finding> {
    // Each network once, with its first position in the input.
    let mut seen = BTreeSet::new();
    let indexed: Vec<(usize, String)> = list
        .iter()
        .enumerate()
        .map(|(i, cidr)| (i, canonical_cidr(cidr)))
        .filter(|(_, cidr)| seen.insert(cidr.clone()))
        .collect();
    let ports_text = path
        .ports
        .iter()
        .map(i32::to_string)
        .collect::<Vec<_>>()
        .join(" and ");
    let mut findings = Vec::new();
    for ((id, why), world) in [(path.world, true), (path.narrow, false)] {
        let found: Vec<&(usize, String)> = indexed
            .iter()
            .filter(|(_, cidr)| is_world(cidr) == world)
            .collect();
        let Some((index, _)) = found.first() else {
            continue;
        };
        let cidrs: Vec<String> = found.iter().map(|(_, cidr)| cidr.clone()).collect();
        findings.push(Finding {
            id,
            group: path.group,
            ports: path.ports.to_vec(),
            message: format!(
                "The {} group accepts TCP {ports_text} from {} ({}). {why}",
                path.group.name(),
                cidrs.join(", "),
                path.attribute,
            ),
            cidrs,
            attribute: path.attribute,
            index: Some(*index),
        });
    }
    findings
}

/// The exposure report for `inputs`: every path by which something outside the VPC can
/// reach a group, and each disagreement about MSK public access.
pub(crate) fn exposure(inputs: &Inputs) -> Vec<Finding> {
    let mut findings = Vec::new();
    for path in &CIDR_PATHS {
        let list = match path.group {
            Role::Alb => &inputs.alb_ingress_cidrs,
            Role::Msk => &inputs.msk_public_access_cidrs,
            _ => &inputs.rds_allowed_cidrs,
        };
        findings.extend(cidr_findings(path, list));
    }

    let msk_cidrs = unique_cidrs(&inputs.msk_public_access_cidrs);
    if !msk_cidrs.is_empty() && !inputs.msk_public_access_enabled {
        findings.push(Finding {
            id: "msk_cidrs_without_public_access",
            group: Role::Msk,
            ports: vec![MSK_PUBLIC_IAM],
            message: format!(
                "The msk group opens TCP {MSK_PUBLIC_IAM} to {} while \
                 msk_public_access_enabled is false. The brokers have no public addresses, so \
                 the rule serves nothing today but opens the path the moment public access is \
                 turned on; empty msk_public_access_cidrs, or enable public access on purpose.",
                msk_cidrs.join(", ")
            ),
            cidrs: msk_cidrs,
            attribute: "msk_public_access_cidrs",
            index: Some(0),
        });
    }
    if unique_cidrs(&inputs.msk_public_access_cidrs).is_empty() && inputs.msk_public_access_enabled
    {
        findings.push(Finding {
            id: "msk_public_access_without_cidrs",
            group: Role::Msk,
            ports: vec![MSK_PUBLIC_IAM],
            cidrs: Vec::new(),
            message: format!(
                "msk_public_access_enabled is true but msk_public_access_cidrs is empty, so \
                 the msk group admits no one on TCP {MSK_PUBLIC_IAM}: the brokers' public \
                 addresses exist but cannot be used. List the clients' networks, or turn \
                 public access off."
            ),
            attribute: "msk_public_access_enabled",
            index: None,
        });
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    /// Staging's example values: the ALB and the database open to the world, MSK's public
    /// path open to one network, public access on, Camunda reaching the database.
    fn staging() -> Inputs {
        Inputs {
            alb_ingress_cidrs: strings(&["0.0.0.0/0"]),
            msk_public_access_cidrs: strings(&["203.0.113.0/24"]),
            msk_public_access_enabled: true,
            rds_allowed_cidrs: strings(&["0.0.0.0/0"]),
            rds_access_from: Role::DashboardBackend,
            dashboard_target_port: 3000,
        }
    }

    /// One row of the expected matrix: group, port, source, in the design table's words.
    fn row(group: Role, port: i32, source: Source) -> (Role, i32, Source) {
        (group, port, source)
    }

    fn cidr(s: &str) -> Source {
        Source::Cidr(s.to_owned())
    }

    #[test]
    fn staging_matrix_matches_the_design_table_rule_by_rule() {
        use Role::*;
        let g = Source::Group;
        let expected: BTreeSet<(Role, i32, Source)> = [
            // alb: TCP 80 and 443 from alb_ingress_cidrs
            row(Alb, 80, cidr("0.0.0.0/0")),
            row(Alb, 443, cidr("0.0.0.0/0")),
            // ecs: TCP 8080 from alb
            row(Ecs, 8080, g(Alb)),
            // dashboard_backend: TCP dashboard_target_port from alb
            row(DashboardBackend, 3000, g(Alb)),
            // scoring: TCP 8083 from alb and from dashboard_backend
            row(Scoring, 8083, g(Alb)),
            row(Scoring, 8083, g(DashboardBackend)),
            // camunda: TCP 8080 from scoring
            row(Camunda, 8080, g(Scoring)),
            // valkey: TCP 6379 from ecs, dashboard_backend, scoring and camunda
            row(Valkey, 6379, g(Ecs)),
            row(Valkey, 6379, g(DashboardBackend)),
            row(Valkey, 6379, g(Scoring)),
            row(Valkey, 6379, g(Camunda)),
            // clickhouse_agent and msk_connect: none
            // msk: TCP 9098 from ecs and msk_connect; TCP 9198 from msk_public_access_cidrs
            row(Msk, 9098, g(Ecs)),
            row(Msk, 9098, g(MskConnect)),
            row(Msk, 9198, cidr("203.0.113.0/24")),
            // rds: TCP 5432 from rds_allowed_cidrs, plus from dashboard_backend
            row(Rds, 5432, cidr("0.0.0.0/0")),
            row(Rds, 5432, g(DashboardBackend)),
        ]
        .into_iter()
        .collect();

        let rules = ingress(&staging());
        let actual: BTreeSet<(Role, i32, Source)> = rules
            .iter()
            .map(|r| {
                assert_eq!(r.protocol, "tcp", "{r:?}");
                assert_eq!(r.from_port, r.to_port, "{r:?}");
                assert_eq!(r.direction, Direction::Ingress, "{r:?}");
                assert!(r.description.as_deref().is_some_and(|d| !d.is_empty()));
                (r.group, r.from_port, r.source.clone())
            })
            .collect();
        assert_eq!(actual, expected);
        assert_eq!(rules.len(), expected.len(), "no rule twice");
    }

    #[test]
    fn every_group_keeps_exactly_the_default_egress() {
        let rules = matrix(&staging(), &BTreeSet::new());
        for role in Role::ALL {
            let egress: Vec<&Rule> = rules
                .iter()
                .filter(|r| r.group == role && r.direction == Direction::Egress)
                .collect();
            assert_eq!(egress, [&Rule::default_egress(role)], "{role:?}");
        }
        assert_eq!(rules.len(), 16 + 10);
    }

    #[test]
    fn egress_only_groups_have_no_inbound_rule() {
        let rules = ingress(&staging());
        for role in [Role::ClickhouseAgent, Role::MskConnect] {
            assert!(rules.iter().all(|r| r.group != role), "{role:?}");
        }
    }

    #[test]
    fn rds_access_from_camunda_replaces_the_dashboard_backend() {
        let inputs = Inputs {
            rds_access_from: Role::Camunda,
            ..staging()
        };
        let rds: Vec<Source> = ingress(&inputs)
            .into_iter()
            .filter(|r| r.group == Role::Rds)
            .map(|r| r.source)
            .collect();
        assert_eq!(rds, [Source::Group(Role::Camunda), cidr("0.0.0.0/0")]);
    }

    #[test]
    fn empty_cidr_lists_open_nothing() {
        let inputs = Inputs {
            alb_ingress_cidrs: Vec::new(),
            msk_public_access_cidrs: Vec::new(),
            rds_allowed_cidrs: Vec::new(),
            ..staging()
        };
        assert!(ingress(&inputs)
            .iter()
            .all(|r| !matches!(r.source, Source::Cidr(_))));
    }

    #[test]
    fn ipv6_cidrs_are_canonical_and_duplicates_collapse() {
        let inputs = Inputs {
            alb_ingress_cidrs: strings(&["2001:DB8:0::/32", "2001:db8::/32", "10.0.0.0/8"]),
            ..staging()
        };
        let alb: Vec<Source> = ingress(&inputs)
            .into_iter()
            .filter(|r| r.group == Role::Alb && r.from_port == 443)
            .map(|r| r.source)
            .collect();
        assert_eq!(alb, [cidr("10.0.0.0/8"), cidr("2001:db8::/32")]);
        assert!(is_ipv6("2001:db8::/32"));
        assert!(!is_ipv6("10.0.0.0/8"));
    }

    #[test]
    fn staging_exposure_has_the_three_findings_of_the_source_page() {
        let findings = exposure(&staging());
        let ids: Vec<&str> = findings.iter().map(|f| f.id).collect();
        assert_eq!(ids, ["alb_world_open", "msk_cidrs", "rds_world_open"]);

        let alb = &findings[0];
        assert_eq!(alb.group, Role::Alb);
        assert_eq!(alb.ports, [80, 443]);
        assert_eq!(alb.cidrs, ["0.0.0.0/0"]);
        assert_eq!((alb.attribute, alb.index), ("alb_ingress_cidrs", Some(0)));

        let msk = &findings[1];
        assert_eq!((msk.group, msk.ports.as_slice()), (Role::Msk, &[9198][..]));
        assert_eq!(msk.cidrs, ["203.0.113.0/24"]);

        let rds = &findings[2];
        assert_eq!((rds.group, rds.ports.as_slice()), (Role::Rds, &[5432][..]));
        assert_eq!(rds.cidrs, ["0.0.0.0/0"]);
        assert!(findings.iter().all(|f| FINDING_IDS.contains(&f.id)));
    }

    #[test]
    fn world_and_narrow_cidrs_are_separate_findings() {
        let inputs = Inputs {
            alb_ingress_cidrs: strings(&["198.51.100.0/24", "::/0"]),
            ..staging()
        };
        let alb: Vec<(&str, Vec<String>, Option<usize>)> = exposure(&inputs)
            .into_iter()
            .filter(|f| f.group == Role::Alb)
            .map(|f| (f.id, f.cidrs, f.index))
            .collect();
        assert_eq!(
            alb,
            [
                ("alb_world_open", strings(&["::/0"]), Some(1)),
                ("alb_cidrs", strings(&["198.51.100.0/24"]), Some(0)),
            ]
        );
    }

    #[test]
    fn msk_public_access_disagreement_is_reported_both_ways() {
        let off = Inputs {
            msk_public_access_enabled: false,
            ..staging()
        };
        assert!(exposure(&off)
            .iter()
            .any(|f| f.id == "msk_cidrs_without_public_access"));

        let on_without_cidrs = Inputs {
            msk_public_access_cidrs: Vec::new(),
            ..staging()
        };
        let finding = exposure(&on_without_cidrs)
            .into_iter()
            .find(|f| f.id == "msk_public_access_without_cidrs")
            .expect("finding");
        assert_eq!(finding.attribute, "msk_public_access_enabled");

        let agreed = exposure(&staging());
        assert!(agreed
            .iter()
            .all(|f| !f.id.starts_with("msk_public_access")));
        assert!(agreed
            .iter()
            .all(|f| f.id != "msk_cidrs_without_public_access"));
    }

    #[test]
    fn production_like_inputs_expose_only_the_alb() {
        let inputs = Inputs {
            msk_public_access_cidrs: Vec::new(),
            msk_public_access_enabled: false,
            rds_allowed_cidrs: Vec::new(),
            ..staging()
        };
        let ids: Vec<&str> = exposure(&inputs).iter().map(|f| f.id).collect();
        assert_eq!(ids, ["alb_world_open"]);
    }

    #[test]
    fn diff_touches_only_the_rules_that_differ() {
        let desired = matrix(&staging(), &BTreeSet::new());
        let mut actual = desired.clone();
        let extra = Rule::tcp(Role::Rds, 22, cidr("0.0.0.0/0"), "ssh");
        actual.push(extra.clone());
        let missing = actual.remove(0);
        let reworded = actual
            .iter_mut()
            .find(|r| r.group == Role::Valkey)
            .expect("valkey rule");
        reworded.description = Some("changed".into());
        let reworded_key = reworded.key();

        let diff = RuleDiff::between(&actual, &desired);
        assert_eq!(diff.authorize, [missing]);
        assert_eq!(diff.revoke, [extra]);
        assert_eq!(diff.describe.len(), 1);
        assert_eq!(diff.describe[0].key(), reworded_key);
        assert!(RuleDiff::between(&desired, &desired).is_empty());
    }

    #[test]
    fn changing_one_input_cidr_changes_only_its_rules() {
        let before = matrix(&staging(), &BTreeSet::new());
        let inputs = Inputs {
            rds_allowed_cidrs: strings(&["192.0.2.0/24"]),
            ..staging()
        };
        let diff = RuleDiff::between(&before, &matrix(&inputs, &BTreeSet::new()));
        let sources = |rules: &[Rule]| -> Vec<(Role, Source)> {
            rules.iter().map(|r| (r.group, r.source.clone())).collect()
        };
        assert_eq!(
            sources(&diff.authorize),
            [(Role::Rds, cidr("192.0.2.0/24"))]
        );
        assert_eq!(sources(&diff.revoke), [(Role::Rds, cidr("0.0.0.0/0"))]);
        assert!(diff.describe.is_empty());
    }

    #[test]
    fn ipv6_default_egress_is_kept_when_aws_made_it() {
        let mut actual = matrix(&staging(), &BTreeSet::new());
        actual.push(Rule::default_ipv6_egress(Role::Alb));
        let keep = ipv6_egress_groups(&actual);
        assert_eq!(keep, BTreeSet::from([Role::Alb]));
        assert!(RuleDiff::between(&actual, &matrix(&staging(), &keep)).is_empty());
    }

    #[test]
    fn inputs_inferred_from_the_rules_give_the_same_matrix() {
        let inputs = Inputs {
            rds_access_from: Role::Camunda,
            ..staging()
        };
        let inferred = infer_inputs(&matrix(&inputs, &BTreeSet::new()));
        assert_eq!(
            inferred,
            Inputs {
                msk_public_access_enabled: false,
                ..inputs
            }
        );
    }

    #[test]
    fn group_names_round_trip() {
        for role in Role::ALL {
            let name = role.group_name("atlas-staging");
            assert_eq!(Role::from_group_name("atlas-staging", &name), Some(role));
            assert_eq!(Role::from_name(role.name()), Some(role));
        }
        assert_eq!(Role::from_group_name("atlas", "atlas-staging-alb"), None);
        assert_eq!(Role::Alb.group_description(), "Atlas alb security group");
    }
}
