//! `atlas_security_model` against the emulator: the matrix of the design's table for
//! staging's and production's inputs, drift and its repair, an input CIDR change, the
//! exposure report, import, destroy, and the cost of a refresh. Every check of what
//! exists goes through the AWS API (`aws-sdk-ec2`), never through the provider's code.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;

use atlas_acceptance::{repo_root, Emulator, PlanOutcome, Workspace};
use aws_sdk_ec2::types::{Filter, IpPermission, IpRange, SecurityGroupRule};
use serde_json::Value;

/// A root with an `atlas_network` and a model on its VPC, its inputs as variables.
const FIXTURE: &str = "tests/acceptance/tests/fixtures/security_model_basic";

/// A root with only a model, on a VPC given by id.
const VPC_FIXTURE: &str = "tests/acceptance/tests/fixtures/security_model_vpc";

/// The `name_prefix` of [`FIXTURE`]'s model.
const PREFIX: &str = "atlas-sm";

/// The `name_prefix` of [`VPC_FIXTURE`]'s model.
const VPC_PREFIX: &str = "atlas-vpc";

const ADDRESS: &str = "atlas_security_model.this";

/// Every role of the design's table.
const ROLES: [&str; 10] = [
    "alb",
    "ecs",
    "dashboard_backend",
    "scoring",
    "camunda",
    "valkey",
    "clickhouse_agent",
    "msk_connect",
    "msk",
    "rds",
];

/// Staging's example values: the edge and the database open to the world, MSK's public
/// IAM + TLS path open to one network with public access on.
const STAGING: Inputs = Inputs {
    alb_ingress_cidrs: &["0.0.0.0/0"],
    msk_public_access_cidrs: &["203.0.113.0/24"],
    msk_public_access_enabled: true,
    rds_allowed_cidrs: &["0.0.0.0/0"],
    rds_access_from: "dashboard_backend",
    dashboard_target_port: 3000,
    forbidden_findings: &[],
};

/// Production's values: the edge still open, no MSK public path, a private database that
/// Camunda reaches, and a world-open database forbidden.
const PRODUCTION: Inputs = Inputs {
    alb_ingress_cidrs: &["0.0.0.0/0"],
    msk_public_access_cidrs: &[],
    msk_public_access_enabled: false,
    rds_allowed_cidrs: &[],
    rds_access_from: "camunda",
    dashboard_target_port: 8081,
    forbidden_findings: &["rds_world_open"],
};

/// The inputs of [`FIXTURE`]'s model.
#[derive(Debug, Clone, Copy)]
struct Inputs {
    alb_ingress_cidrs: &'static [&'static str],
    msk_public_access_cidrs: &'static [&'static str],
    msk_public_access_enabled: bool,
    rds_allowed_cidrs: &'static [&'static str],
    rds_access_from: &'static str,
    dashboard_target_port: i32,
    forbidden_findings: &'static [&'static str],
}

impl Inputs {
    /// The inputs as a `terraform.tfvars` for [`FIXTURE`].
    fn tfvars(&self) -> String {
        let list = |items: &[&str]| {
            let quoted: Vec<String> = items.iter().map(|s| format!("{s:?}")).collect();
            format!("[{}]", quoted.join(", "))
        };
        format!(
            "alb_ingress_cidrs = {}\n\
             msk_public_access_cidrs = {}\n\
             msk_public_access_enabled = {}\n\
             rds_allowed_cidrs = {}\n\
             rds_access_from = {:?}\n\
             dashboard_target_port = {}\n\
             forbidden_findings = {}\n",
            list(self.alb_ingress_cidrs),
            list(self.msk_public_access_cidrs),
            self.msk_public_access_enabled,
            list(self.rds_allowed_cidrs),
            self.rds_access_from,
            self.dashboard_target_port,
            list(self.forbidden_findings),
        )
    }
}

/// Where a rule lets traffic come from (ingress) or go to (egress).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Peer {
    /// A group of the model, by role.
    Group(String),
    /// An IPv4 or IPv6 network.
    Cidr(String),
    /// Anything else: a group outside the model or a prefix list, by id.
    Other(String),
}

/// One rule as the design's table reads: group (role), egress, protocol, ports, peer.
type Row = (String, bool, String, i32, i32, Peer);

fn ingress(group: &str, port: i32, peer: Peer) -> Row {
    (group.to_owned(), false, "tcp".to_owned(), port, port, peer)
}

fn role(name: &str) -> Peer {
    Peer::Group(name.to_owned())
}

fn cidr(network: &str) -> Peer {
    Peer::Cidr(network.to_owned())
}

/// The design's table for `inputs`, written out rule by rule: the inbound rules, and
/// all traffic out to `0.0.0.0/0` from every group.
fn spec_matrix(inputs: &Inputs) -> BTreeSet<Row> {
    let mut rows = BTreeSet::new();
    for network in inputs.alb_ingress_cidrs {
        rows.insert(ingress("alb", 80, cidr(network)));
        rows.insert(ingress("alb", 443, cidr(network)));
    }
    rows.insert(ingress("ecs", 8080, role("alb")));
    rows.insert(ingress(
        "dashboard_backend",
        inputs.dashboard_target_port,
        role("alb"),
    ));
    rows.insert(ingress("scoring", 8083, role("alb")));
    rows.insert(ingress("scoring", 8083, role("dashboard_backend")));
    rows.insert(ingress("camunda", 8080, role("scoring")));
    for from in ["ecs", "dashboard_backend", "scoring", "camunda"] {
        rows.insert(ingress("valkey", 6379, role(from)));
    }
    // clickhouse_agent and msk_connect: no inbound rule at all.
    rows.insert(ingress("msk", 9098, role("ecs")));
    rows.insert(ingress("msk", 9098, role("msk_connect")));
    for network in inputs.msk_public_access_cidrs {
        rows.insert(ingress("msk", 9198, cidr(network)));
    }
    for network in inputs.rds_allowed_cidrs {
        rows.insert(ingress("rds", 5432, cidr(network)));
    }
    rows.insert(ingress("rds", 5432, role(inputs.rds_access_from)));
    for group in ROLES {
        rows.insert((
            group.to_owned(),
            true,
            "-1".to_owned(),
            -1,
            -1,
            cidr("0.0.0.0/0"),
        ));
    }
    rows
}

fn filter(name: &str, values: &[&str]) -> Filter {
    Filter::builder()
        .name(name)
        .set_values(Some(values.iter().map(|v| (*v).to_owned()).collect()))
        .build()
}

fn group_names(prefix: &str) -> Vec<String> {
    ROLES.iter().map(|r| format!("{prefix}-{r}")).collect()
}

/// The model as the EC2 API shows it.
#[derive(Debug, Clone)]
struct Observed {
    /// Group id by role.
    group_ids: BTreeMap<String, String>,
    /// Every rule of the model's groups, with its security group rule id.
    rules: BTreeMap<Row, String>,
}

impl Observed {
    fn rows(&self) -> BTreeSet<Row> {
        self.rules.keys().cloned().collect()
    }

    fn rule_id(&self, row: &Row) -> &str {
        self.rules
            .get(row)
            .unwrap_or_else(|| panic!("no rule {row:?} in {:?}", self.rules.keys()))
    }
}

/// Reads the groups of the VPC and the rules of the model's groups through the EC2 API.
/// The VPC must hold the ten groups of the model and its default group, nothing else.
async fn observe(ec2: &aws_sdk_ec2::Client, vpc_id: &str, prefix: &str) -> Observed {
    let groups = ec2
        .describe_security_groups()
        .filters(filter("vpc-id", &[vpc_id]))
        .send()
        .await
        .expect("DescribeSecurityGroups")
        .security_groups()
        .to_vec();
    let mut group_ids = BTreeMap::new();
    let mut names = BTreeSet::new();
    for group in &groups {
        let name = group.group_name().expect("group name");
        names.insert(name.to_owned());
        if let Some(role) = name.strip_prefix(prefix).and_then(|r| r.strip_prefix('-')) {
            group_ids.insert(role.to_owned(), group.group_id().unwrap().to_owned());
        }
    }
    let mut expected_names: BTreeSet<String> = group_names(prefix).into_iter().collect();
    expected_names.insert("default".to_owned());
    assert_eq!(names, expected_names, "the groups of VPC {vpc_id}");

    let roles: BTreeMap<&str, &str> = group_ids
        .iter()
        .map(|(role, id)| (id.as_str(), role.as_str()))
        .collect();
    let ids: Vec<&str> = roles.keys().copied().collect();
    let listed = ec2
        .describe_security_group_rules()
        .filters(filter("group-id", &ids))
        .send()
        .await
        .expect("DescribeSecurityGroupRules");
    let mut rules = BTreeMap::new();
    for rule in listed.security_group_rules() {
        let (row, id) = row_of(rule, &roles);
        if let Some(twice) = rules.insert(row.clone(), id) {
            panic!("rule {row:?} exists twice (also as {twice})");
        }
    }
    Observed { group_ids, rules }
}

fn row_of(rule: &SecurityGroupRule, roles: &BTreeMap<&str, &str>) -> (Row, String) {
    let group = rule.group_id().expect("rule group id");
    let role = roles
        .get(group)
        .unwrap_or_else(|| panic!("a rule of group {group}, outside the model"));
    let peer = if let Some(network) = rule.cidr_ipv4().or(rule.cidr_ipv6()) {
        cidr(network)
    } else if let Some(id) = rule.referenced_group_info().and_then(|g| g.group_id()) {
        match roles.get(id) {
            Some(role) => Peer::Group((*role).to_owned()),
            None => Peer::Other(id.to_owned()),
        }
    } else {
        Peer::Other(rule.prefix_list_id().unwrap_or("?").to_owned())
    };
    let row = (
        (*role).to_owned(),
        rule.is_egress().expect("is_egress"),
        rule.ip_protocol().expect("protocol").to_owned(),
        rule.from_port().unwrap_or(-1),
        rule.to_port().unwrap_or(-1),
        peer,
    );
    let id = rule.security_group_rule_id().expect("rule id").to_owned();
    (row, id)
}

/// The model's `rules` attribute as rows of the table.
fn state_rows(model: &Value) -> BTreeSet<Row> {
    model["rules"]
        .as_array()
        .unwrap_or_else(|| panic!("rules is not a list: {model}"))
        .iter()
        .map(|rule| {
            let text = |name: &str| rule[name].as_str().map(str::to_owned);
            let port = |name: &str| rule[name].as_i64().expect("port") as i32;
            let peer = match (text("source_group"), text("cidr")) {
                (Some(group), None) if ROLES.contains(&group.as_str()) => Peer::Group(group),
                (None, Some(network)) => Peer::Cidr(network),
                _ => panic!("a rule with neither or both peers: {rule}"),
            };
            (
                text("group").expect("group"),
                text("direction").as_deref() == Some("egress"),
                text("protocol").expect("protocol"),
                port("from_port"),
                port("to_port"),
                peer,
            )
        })
        .collect()
}

fn diff(want: &BTreeSet<Row>, have: &BTreeSet<Row>) -> String {
    format!(
        "missing: {:#?}\nunexpected: {:#?}",
        want.difference(have).collect::<Vec<_>>(),
        have.difference(want).collect::<Vec<_>>()
    )
}

/// The line of [`FIXTURE`]'s `main.tf` that sets `attribute` on the model.
fn fixture_line(attribute: &str) -> usize {
    let text = fs::read_to_string(repo_root().join(FIXTURE).join("main.tf")).unwrap();
    let found = text
        .lines()
        .position(|line| {
            line.trim_start()
                .strip_prefix(attribute)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .unwrap_or_else(|| panic!("main.tf sets no {attribute}"));
    found + 1
}

/// The diagnostic block of `output` that starts with `heading` (such as
/// `Warning: ALB Open to the World`), up to the next diagnostic.
fn diagnostic<'a>(output: &'a str, heading: &str) -> &'a str {
    let start = output
        .find(heading)
        .unwrap_or_else(|| panic!("no {heading:?} in:\n{output}"));
    let rest = &output[start + heading.len()..];
    let end = ["Warning: ", "Error: "]
        .iter()
        .filter_map(|next| rest.find(next))
        .min()
        .unwrap_or(rest.len());
    &output[start..start + heading.len() + end]
}

/// An applied [`FIXTURE`] and an EC2 client on its emulator.
struct Applied<'e> {
    workspace: Workspace<'e>,
    ec2: aws_sdk_ec2::Client,
    vpc_id: String,
}

async fn applied<'e>(emulator: &'e Emulator, inputs: &Inputs) -> Applied<'e> {
    let workspace = Workspace::copy_root(emulator, FIXTURE);
    workspace.write_file("terraform.tfvars", &inputs.tfvars());
    workspace.init();
    workspace.apply();
    let vpc_id = workspace.output("vpc_id").as_str().unwrap().to_owned();
    let ec2 = aws_sdk_ec2::Client::new(&emulator.sdk_config().await);
    Applied {
        workspace,
        ec2,
        vpc_id,
    }
}

impl Applied<'_> {
    async fn observe(&self) -> Observed {
        observe(&self.ec2, &self.vpc_id, PREFIX).await
    }

    /// The groups and rules in AWS are exactly the table for `inputs`, and the
    /// resource's `group_ids` and `rules` say the same.
    async fn assert_matrix(&self, inputs: &Inputs) -> Observed {
        let observed = self.observe().await;
        let want = spec_matrix(inputs);
        let have = observed.rows();
        assert_eq!(have, want, "{}", diff(&want, &have));

        let model = self.workspace.output("model");
        let state_ids: BTreeMap<String, String> =
            serde_json::from_value(model["group_ids"].clone()).expect("group_ids");
        assert_eq!(state_ids, observed.group_ids, "group_ids");
        let state = state_rows(&model);
        assert_eq!(state, want, "the rules attribute: {}", diff(&want, &state));
        observed
    }

    /// The next plan updates the model in place, replaces nothing, and mentions `needle`.
    fn plans_an_update(&self, what: &str, needle: &str) -> String {
        let PlanOutcome::Changes(plan) = self.workspace.plan_detailed_exitcode() else {
            panic!("{what}: the plan shows no change");
        };
        assert!(
            plan.contains(&format!("{ADDRESS} will be updated in-place")),
            "{what}:\n{plan}"
        );
        assert!(!plan.contains("must be replaced"), "{what}:\n{plan}");
        assert!(!plan.contains("will be destroyed"), "{what}:\n{plan}");
        assert!(plan.contains(needle), "{what}: no {needle:?} in\n{plan}");
        plan
    }

    fn assert_plan_empty(&self, when: &str) {
        assert_eq!(
            self.workspace.plan_detailed_exitcode(),
            PlanOutcome::NoChanges,
            "the plan {when} is not empty"
        );
    }
}

/// Every rule of `before` except `except` still exists in `after` with the same id.
fn assert_untouched(before: &Observed, after: &Observed, except: &BTreeSet<Row>) {
    for (row, id) in &before.rules {
        if except.contains(row) {
            continue;
        }
        assert_eq!(
            after.rules.get(row),
            Some(id),
            "rule {row:?} was replaced or removed"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn staging_matrix() {
    let emulator = Emulator::start();
    let model = applied(&emulator, &STAGING).await;
    let observed = model.assert_matrix(&STAGING).await;
    assert_eq!(observed.group_ids.len(), 10);
    model.assert_plan_empty("after the first apply");
}

#[tokio::test(flavor = "multi_thread")]
async fn production_matrix() {
    let emulator = Emulator::start();
    let model = applied(&emulator, &PRODUCTION).await;
    let observed = model.assert_matrix(&PRODUCTION).await;
    assert!(
        !observed
            .rows()
            .iter()
            .any(|row| row.0 == "rds" && !row.1 && matches!(row.5, Peer::Cidr(_))),
        "the production database is reachable from a network"
    );
    model.assert_plan_empty("after the first apply");
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_rule_added() {
    let emulator = Emulator::start();
    let model = applied(&emulator, &STAGING).await;
    let before = model.observe().await;
    model
        .ec2
        .authorize_security_group_ingress()
        .group_id(&before.group_ids["rds"])
        .ip_permissions(
            IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(22)
                .to_port(22)
                .ip_ranges(
                    IpRange::builder()
                        .cidr_ip("10.99.0.0/16")
                        .description("ssh added by hand")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("AuthorizeSecurityGroupIngress");
    let drifted = model.observe().await;
    assert!(drifted
        .rules
        .contains_key(&ingress("rds", 22, cidr("10.99.0.0/16"))));

    model.plans_an_update("a rule added outside Terraform", "10.99.0.0/16");
    model.workspace.apply();
    let after = model.assert_matrix(&STAGING).await;
    assert_untouched(&before, &after, &BTreeSet::new());
    assert_eq!(after.group_ids, before.group_ids, "a group was replaced");
    model.assert_plan_empty("after the repair");
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_rule_revoked() {
    let emulator = Emulator::start();
    let model = applied(&emulator, &STAGING).await;
    let before = model.observe().await;
    let revoked = ingress("valkey", 6379, role("camunda"));
    model
        .ec2
        .revoke_security_group_ingress()
        .group_id(&before.group_ids["valkey"])
        .security_group_rule_ids(before.rule_id(&revoked))
        .send()
        .await
        .expect("RevokeSecurityGroupIngress");
    let drifted = model.observe().await;
    assert!(
        !drifted.rules.contains_key(&revoked),
        "the rule is still there"
    );

    model.plans_an_update("a rule revoked outside Terraform", "6379");
    model.workspace.apply();
    let after = model.assert_matrix(&STAGING).await;
    assert_untouched(&before, &after, &BTreeSet::from([revoked]));
    assert_eq!(after.group_ids, before.group_ids, "a group was replaced");
    model.assert_plan_empty("after the repair");
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_rule_reworded() {
    let emulator = Emulator::start();
    let model = applied(&emulator, &STAGING).await;
    let before = model.observe().await;
    model
        .ec2
        .update_security_group_rule_descriptions_ingress()
        .group_id(&before.group_ids["alb"])
        .ip_permissions(
            IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(443)
                .to_port(443)
                .ip_ranges(
                    IpRange::builder()
                        .cidr_ip("0.0.0.0/0")
                        .description("reworded by hand")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("UpdateSecurityGroupRuleDescriptionsIngress");

    model.plans_an_update("a rule reworded outside Terraform", "reworded by hand");
    model.workspace.apply();
    let after = model.assert_matrix(&STAGING).await;
    assert_untouched(&before, &after, &BTreeSet::new());
    let alb = model
        .ec2
        .describe_security_groups()
        .group_ids(&after.group_ids["alb"])
        .send()
        .await
        .unwrap();
    let descriptions: Vec<Option<&str>> = alb.security_groups()[0]
        .ip_permissions()
        .iter()
        .flat_map(|p| p.ip_ranges())
        .map(|r| r.description())
        .collect();
    assert!(
        !descriptions.contains(&Some("reworded by hand")),
        "the description was not restored: {descriptions:?}"
    );
    model.assert_plan_empty("after the repair");
}

#[tokio::test(flavor = "multi_thread")]
async fn alb_ingress_cidrs_change_touches_only_its_rules() {
    let emulator = Emulator::start();
    let model = applied(&emulator, &STAGING).await;
    let before = model.observe().await;

    let narrowed = Inputs {
        alb_ingress_cidrs: &["198.51.100.0/24", "2001:db8::/32"],
        ..STAGING
    };
    model
        .workspace
        .write_file("terraform.tfvars", &narrowed.tfvars());
    model.plans_an_update("a changed alb_ingress_cidrs", "198.51.100.0/24");
    model.workspace.apply();

    let after = model.assert_matrix(&narrowed).await;
    assert_eq!(after.group_ids, before.group_ids, "a group was replaced");
    let alb_cidr_rules: BTreeSet<Row> = spec_matrix(&STAGING)
        .into_iter()
        .filter(|row| row.0 == "alb" && !row.1)
        .collect();
    assert_eq!(alb_cidr_rules.len(), 2, "{alb_cidr_rules:?}");
    assert_untouched(&before, &after, &alb_cidr_rules);
    model.assert_plan_empty("after the change");
}

#[tokio::test(flavor = "multi_thread")]
async fn exposure_warnings_for_staging() {
    let emulator = Emulator::start();
    let workspace = Workspace::copy_root(&emulator, FIXTURE);
    workspace.write_file("terraform.tfvars", &STAGING.tfvars());
    workspace.init();
    let out = workspace.tf(&["plan", "-input=false", "-no-color"]);
    let text = format!("{}\n{}", out.stdout, out.stderr);

    // The three findings of the source page, each on the input that opens the path.
    for (title, attribute, words) in [
        (
            "ALB Open to the World",
            "alb_ingress_cidrs",
            &["alb", "80", "443", "0.0.0.0/0"],
        ),
        (
            "MSK Public Path Open",
            "msk_public_access_cidrs",
            &["msk", "9198", "203.0.113.0/24", "IAM"],
        ),
        (
            "Database Open to the World",
            "rds_allowed_cidrs",
            &["rds", "5432", "0.0.0.0/0", "forbidden_findings"],
        ),
    ] {
        let block = diagnostic(&text, &format!("Warning: {title}\n"));
        let line = fixture_line(attribute);
        assert!(
            block.contains(&format!("on main.tf line {line},")),
            "{title} is not on line {line} ({attribute}):\n{block}"
        );
        for word in words {
            assert!(block.contains(word), "{title} lacks {word:?}:\n{block}");
        }
    }
    assert!(!text.contains("Error:"), "{text}");

    // The same findings, as data.
    workspace.apply();
    let model = workspace.output("model");
    let ids: BTreeSet<&str> = model["exposure"]
        .as_array()
        .expect("exposure")
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        BTreeSet::from(["alb_world_open", "msk_cidrs", "rds_world_open"]),
        "{model}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn forbidden_finding_fails_the_plan() {
    let emulator = Emulator::start();
    let workspace = Workspace::copy_root(&emulator, FIXTURE);
    let forbidding = Inputs {
        forbidden_findings: &["rds_world_open"],
        ..STAGING
    };
    workspace.write_file("terraform.tfvars", &forbidding.tfvars());
    workspace.init();

    let output = workspace.try_tf(&["plan", "-input=false", "-no-color"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    let text = format!("{stdout}\n{stderr}");
    let block = diagnostic(&text, "Error: Database Open to the World\n");
    let line = fixture_line("rds_allowed_cidrs");
    assert!(
        block.contains(&format!("on main.tf line {line},")),
        "the error is not on line {line} (rds_allowed_cidrs):\n{block}"
    );
    assert!(block.contains("rds_world_open"), "{block}");
    // The findings that are not forbidden stay warnings.
    diagnostic(&text, "Warning: ALB Open to the World\n");
    assert!(!text.contains("Error: ALB"), "{text}");
    assert_eq!(emulator.count("ec2", "CreateSecurityGroup"), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn import_by_vpc_id_and_name_prefix() {
    let emulator = Emulator::start();
    let model = applied(&emulator, &STAGING).await;
    let before = model.observe().await;
    let created = model.workspace.output("model");
    let workspace = &model.workspace;
    workspace.tf(&["state", "rm", "-no-color", ADDRESS]);

    workspace.write_file(
        "import.tf",
        &format!(
            "import {{\n  to = {ADDRESS}\n  id = \"${{atlas_network.this.vpc_id}}/{PREFIX}\"\n}}\n"
        ),
    );
    workspace.tf(&["plan", "-input=false", "-no-color", "-out=import.tfplan"]);
    let shown = workspace.tf(&["show", "-json", "-no-color", "import.tfplan"]);
    let plan: Value = serde_json::from_str(&shown.stdout).expect("plan JSON");
    let changes = plan["resource_changes"]
        .as_array()
        .expect("resource_changes");
    let change = changes
        .iter()
        .find(|c| c["address"] == ADDRESS)
        .unwrap_or_else(|| panic!("no change for {ADDRESS}: {plan}"))["change"]
        .clone();
    assert_eq!(
        change["importing"]["id"],
        format!("{}/{PREFIX}", model.vpc_id),
        "{change}"
    );
    let (imported, planned) = (&change["before"], &change["after"]);
    let differing: Vec<&String> = planned
        .as_object()
        .expect("after")
        .iter()
        .filter(|(name, value)| imported.get(*name) != Some(*value))
        .map(|(name, _)| name)
        .collect();
    eprintln!(
        "import plan: actions {}, attributes that differ: {differing:?}",
        change["actions"]
    );
    for (name, value) in planned.as_object().unwrap() {
        if imported.get(name) != Some(value) {
            eprintln!("  {name}: {} -> {value}", imported[name]);
        }
    }
    // The groups cannot tell whether the cluster has public access on, so an import
    // reads msk_public_access_enabled as false, and the exposure report follows it.
    let inputs_only = ["exposure", "msk_public_access_enabled"];
    assert!(
        differing
            .iter()
            .all(|name| inputs_only.contains(&name.as_str())),
        "the import plan changes {differing:?}"
    );
    assert!(
        change["actions"] == serde_json::json!(["no-op"])
            || change["actions"] == serde_json::json!(["update"]),
        "the import plan would {}",
        change["actions"]
    );
    for name in ["id", "group_ids", "rules", "tags_all"] {
        assert_eq!(
            imported[name], created[name],
            "import read {name} differently from what apply recorded"
        );
        assert_eq!(
            imported[name], planned[name],
            "the import plan changes {name}"
        );
    }
    // Every other plan of the root is empty.
    for other in changes.iter().filter(|c| c["address"] != ADDRESS) {
        assert_eq!(
            other["change"]["actions"],
            serde_json::json!(["no-op"]),
            "{other}"
        );
    }

    workspace.tf(&["apply", "-input=false", "-no-color", "import.tfplan"]);
    let after = model.assert_matrix(&STAGING).await;
    assert_untouched(&before, &after, &BTreeSet::new());
    assert_eq!(after.group_ids, before.group_ids);
    model.assert_plan_empty("after the import");
}

#[tokio::test(flavor = "multi_thread")]
async fn destroy_leaves_no_group() {
    let emulator = Emulator::start();
    let model = applied(&emulator, &STAGING).await;
    let before = model.observe().await;
    let names = group_names(PREFIX);
    let names: Vec<&str> = names.iter().map(String::as_str).collect();

    // The model alone first, so that the VPC that would take its groups with it stays.
    let target = format!("-target={ADDRESS}");
    model.workspace.tf(&[
        "destroy",
        "-auto-approve",
        "-input=false",
        "-no-color",
        &target,
    ]);
    let left = model
        .ec2
        .describe_security_groups()
        .filters(filter("vpc-id", &[&model.vpc_id]))
        .send()
        .await
        .unwrap();
    let left: Vec<&str> = left
        .security_groups()
        .iter()
        .map(|g| g.group_name().unwrap())
        .collect();
    assert_eq!(left, ["default"], "groups left in the VPC");
    let rules = model
        .ec2
        .describe_security_group_rules()
        .send()
        .await
        .unwrap();
    let ours: Vec<&SecurityGroupRule> = rules
        .security_group_rules()
        .iter()
        .filter(|r| {
            before
                .group_ids
                .values()
                .any(|id| r.group_id() == Some(id.as_str()))
        })
        .collect();
    assert!(ours.is_empty(), "rules left: {ours:?}");

    model.workspace.destroy();
    let anywhere = model
        .ec2
        .describe_security_groups()
        .filters(filter("group-name", &names))
        .send()
        .await
        .unwrap();
    assert!(
        anywhere.security_groups().is_empty(),
        "{:?}",
        anywhere.security_groups()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn refresh_of_an_unchanged_model_makes_at_most_three_aws_calls() {
    let emulator = Emulator::start();
    let ec2 = aws_sdk_ec2::Client::new(&emulator.sdk_config().await);
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.70.0.0/16")
        .send()
        .await
        .expect("CreateVpc");
    let vpc_id = vpc.vpc().and_then(|v| v.vpc_id()).unwrap().to_owned();

    let workspace = Workspace::copy_root(&emulator, VPC_FIXTURE);
    workspace.write_file("terraform.tfvars", &format!("vpc_id = {vpc_id:?}\n"));
    workspace.init();
    workspace.apply();
    let observed = observe(&ec2, &vpc_id, VPC_PREFIX).await;
    assert_eq!(observed.rows(), spec_matrix(&STAGING));

    let before = emulator.requests().len();
    let out = workspace.tf(&["plan", "-refresh-only", "-input=false", "-no-color"]);
    assert!(
        out.stdout.contains("No changes"),
        "a refresh of an unchanged model found changes:\n{}",
        out.stdout
    );
    let calls: Vec<String> = emulator.requests()[before..]
        .iter()
        .filter(|r| r.service.as_deref() != Some("s3"))
        .map(|r| {
            format!(
                "{}:{}",
                r.service.as_deref().unwrap_or("?"),
                r.operation.as_deref().unwrap_or("?")
            )
        })
        .collect();
    eprintln!("refresh made {} AWS calls: {calls:?}", calls.len());
    assert!(
        calls.len() <= 3,
        "a refresh made {} AWS calls: {calls:?}",
        calls.len()
    );
}
