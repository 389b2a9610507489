//! `atlas_security_model`: the ten security groups of the Atlas design and all their rules.
//!
//! The resource owns its rules exclusively. The plan always holds the matrix the inputs
//! ask for and the state holds what AWS has, so a rule added, removed or reworded outside
//! Terraform shows as an in-place update that touches only that rule. The exposure report
//! is computed at plan time from the inputs alone and shown as warnings, or as errors for
//! the findings a root forbids. This file declares the schema and maps Terraform values
//! to the typed model; `model` holds the matrix and `ops` talks to AWS.

mod model;
mod ops;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tfplugin::diag::Diagnostics;
use tfplugin::resource::{split_import_id, Context, Plan, Resource, Timeouts};
use tfplugin::schema::{Attribute, Block, Nesting, Schema};
use tfplugin::validate;
use tfplugin::value::{AttributePath, Type, Value};

use crate::convert;
use crate::provider::Shared;
use crate::tags::{merge, plan_tags_all, TagsValidator};
use model::{Direction, Finding, Inputs, Role, Rule, RuleDiff, Source, FINDING_IDS};
use ops::Target;

/// The `atlas_security_model` resource.
#[derive(Debug)]
pub(crate) struct SecurityModelResource {
    shared: Arc<Shared>,
}

impl SecurityModelResource {
    /// The resource, reading the provider configuration from `shared`.
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        SecurityModelResource { shared }
    }
}

fn cidr_list(name: &str, description: &str) -> Attribute {
    Attribute::optional(name, Type::list(Type::String))
        .description(description)
        .default(Value::List(Vec::new()))
        .validate(validate::each(validate::cidr()))
}

fn computed(name: &str, ty: Type, description: &str) -> Attribute {
    Attribute::computed(name, ty).description(description)
}

#[async_trait]
impl Resource for SecurityModelResource {
    fn type_name(&self) -> &'static str {
        "atlas_security_model"
    }

    fn schema(&self) -> Schema {
        let rule = Type::Object(
            [
                ("group", Type::String),
                ("direction", Type::String),
                ("protocol", Type::String),
                ("from_port", Type::Number),
                ("to_port", Type::Number),
                ("source_group", Type::String),
                ("cidr", Type::String),
                ("description", Type::String),
            ]
            .into_iter()
            .map(|(name, ty)| (name.to_owned(), ty))
            .collect(),
        );
        let finding = vec![
            computed(
                "id",
                Type::String,
                "The finding's id, usable in `forbidden_findings`.",
            ),
            computed("group", Type::String, "The role of the group reached."),
            computed(
                "ports",
                Type::List(Box::new(Type::Number)),
                "The TCP ports reached.",
            ),
            computed(
                "cidrs",
                Type::list(Type::String),
                "The networks they are reached from.",
            ),
            computed("message", Type::String, "Why it matters."),
        ];
        Schema::new(Block::new(vec![
            computed("id", Type::String, "`<vpc_id>/<name_prefix>`, also the import id."),
            Attribute::required("vpc_id", Type::String)
                .description("The VPC of the groups, such as `atlas_network.this.vpc_id`.")
                .requires_replace()
                .validate(validate::string_length(5, 64))
                .validate(validate::chars(|c| c.is_ascii_alphanumeric() || c == '-', "letters, digits and hyphens")),
            Attribute::required("name_prefix", Type::String)
                .description("Prefix of every group name (`<name_prefix>-<role>`), such as `atlas-staging`; also the value of the `atlas:security-model` tag.")
                .requires_replace()
                .validate(validate::string_length(1, 64))
                .validate(validate::chars(|c| c.is_ascii_alphanumeric() || "-_.".contains(c), "letters, digits, hyphens, underscores and periods")),
            cidr_list("alb_ingress_cidrs", "Networks that may reach the ALB on TCP 80 and 443 (IPv4 or IPv6). Empty opens nothing."),
            cidr_list("msk_public_access_cidrs", "Networks that may use the brokers' public IAM + TLS listener on TCP 9198 (IPv4 or IPv6). Empty opens nothing."),
            Attribute::optional("msk_public_access_enabled", Type::Bool)
                .description("Whether the MSK cluster has public access on (see `atlas_msk_public_access`). Changes no rule; the exposure report compares it with `msk_public_access_cidrs`.")
                .default(Value::Bool(false)),
            cidr_list("rds_allowed_cidrs", "Networks that may reach the database on TCP 5432 (IPv4 or IPv6). Empty opens nothing."),
            Attribute::optional("rds_access_from", Type::String)
                .description("The workload whose group reaches the database on TCP 5432: `dashboard_backend` or `camunda`.")
                .default(Value::string("dashboard_backend"))
                .validate(validate::one_of(&["dashboard_backend", "camunda"])),
            Attribute::required("dashboard_target_port", Type::Number)
                .description("The dashboard backend's target port, opened to the ALB.")
                .validate(validate::port()),
            Attribute::optional("forbidden_findings", Type::list(Type::String))
                .description("Exposure findings that fail the plan instead of warning, such as `rds_world_open` in production.")
                .default(Value::List(Vec::new()))
                .validate(validate::each(validate::one_of(&FINDING_IDS))),
            Attribute::optional("tags", Type::map(Type::String))
                .description("Tags of every group, over the provider's `default_tags`.")
                .validate(TagsValidator),
            computed("tags_all", Type::map(Type::String), "The tags on every group: `default_tags` merged with `tags`."),
            computed("group_ids", Type::map(Type::String), "The group id of each role: `alb`, `ecs`, `dashboard_backend`, `scoring`, `camunda`, `valkey`, `clickhouse_agent`, `msk_connect`, `msk`, `rds`.")
                .use_state_for_unknown(),
            // A plain list of objects rather than a nested attribute: Terraform shows an
            // added or removed rule of such a list as one element, not as a shifted list.
            computed("rules", Type::List(Box::new(rule)), "Every rule of every group, one object per peer, sorted by group: `group` (its role), `direction` (`ingress` or `egress`), `protocol` (`tcp`, or `-1` for all traffic), `from_port` and `to_port` (-1 for all traffic), `source_group` (a role of this model, or the id of a group outside it) or `cidr` (an IPv4 or IPv6 network, or a managed prefix list id), and `description` (null on the egress rule AWS creates). Planned from the inputs and read from AWS, so a rule changed outside Terraform shows as a difference."),
            computed("exposure", Type::String, "Every path by which something outside the VPC reaches a group, and every disagreement about MSK public access. Each is also a plan-time warning.")
                .nested(Nesting::List, finding),
        ])
        .description("The ten security groups of the Atlas design and exactly their rules: the inbound matrix, unrestricted egress, nothing else; with an exposure report of every path from outside the VPC."))
    }

    fn timeouts(&self) -> Option<Timeouts> {
        Some(Timeouts {
            create: Duration::from_secs(10 * 60),
            read: Duration::from_secs(5 * 60),
            update: Duration::from_secs(10 * 60),
            delete: Duration::from_secs(20 * 60),
        })
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        if let Some(prefix) = config.get("name_prefix").and_then(Value::as_str) {
            if prefix.to_ascii_lowercase().starts_with("sg-") {
                diags.error_at(
                    AttributePath::new().attr("name_prefix"),
                    "Invalid Name Prefix",
                    format!(
                        "name_prefix {prefix:?} starts with \"sg-\", which AWS reserves for group \
                         ids. Choose another prefix."
                    ),
                );
            }
        }
    }

    async fn modify_plan(&self, _ctx: &Context, plan: &mut Plan<'_>, diags: &mut Diagnostics) {
        let vpc_id = plan.get("vpc_id").as_str().map(str::to_owned);
        let prefix = plan.get("name_prefix").as_str().map(str::to_owned);
        if let (Some(vpc_id), Some(prefix)) = (&vpc_id, &prefix) {
            plan.set("id", Value::string(format!("{vpc_id}/{prefix}")));
        }

        // tags_all is known whenever the tags are.
        plan_tags_all(plan, &self.shared.default_tags());

        // New groups when replacing, or when one was deleted outside Terraform.
        let replacing = !plan.is_create()
            && (plan.prior.get("vpc_id") != plan.planned.get("vpc_id")
                || plan.prior.get("name_prefix") != plan.planned.get("name_prefix"));
        let prior_ids = group_ids_from(plan.prior);
        if plan.is_create() || replacing || prior_ids.len() < Role::ALL.len() {
            plan.set("group_ids", Value::unknown());
        } else {
            plan.set("group_ids", group_ids_value(&prior_ids));
        }

        // The matrix and the exposure report are known whenever the inputs are.
        let Some(inputs) = inputs_from(plan.planned) else {
            plan.set("rules", Value::unknown());
            plan.set("exposure", Value::unknown());
            return;
        };
        let keep = if plan.is_create() || replacing {
            BTreeSet::new()
        } else {
            let prior_rules = plan.prior.get("rules").and_then(rules_from);
            model::ipv6_egress_groups(&prior_rules.unwrap_or_default())
        };
        plan.set("rules", rules_value(&model::matrix(&inputs, &keep)));
        let findings = model::exposure(&inputs);
        plan.set("exposure", findings_value(&findings));
        let forbidden: BTreeSet<String> =
            convert::opt_string_list(plan.planned, "forbidden_findings")
                .unwrap_or_default()
                .into_iter()
                .collect();
        report(&findings, &forbidden, diags);
    }

    async fn create(
        &self,
        ctx: &Context,
        planned: &Value,
        _config: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let configured = self.shared.get(diags)?;
        let aws = &configured.aws;
        let target = target_from(planned);
        let Some(desired) = desired_from(planned, &BTreeSet::new()) else {
            diags.bug("The planned atlas_security_model has unknown inputs at apply");
            return None;
        };
        let tags = merge(
            &configured.default_tags,
            &convert::string_map(planned.get("tags")),
        );

        tracing::debug!(vpc_id = %target.vpc_id, name_prefix = %target.name_prefix, "creating security model");
        let (group_ids, created) = ops::create_groups(
            aws,
            &target,
            &Role::ALL,
            &tags,
            ctx.cancel_token(),
            ctx.deadline(),
        )
        .await;
        if let Err(e) = created {
            creation_failed(diags, &target, &e);
            return (!group_ids.is_empty()).then(|| partial_state(planned, &group_ids));
        }

        // Every new group starts with AWS's default egress rule and nothing else.
        let actual: Vec<Rule> = Role::ALL.into_iter().map(Rule::default_egress).collect();
        let diff = RuleDiff::between(&actual, &desired);
        if let Err(e) = ops::apply_diff(
            aws,
            &target,
            &group_ids,
            &diff,
            ctx.cancel_token(),
            ctx.deadline(),
        )
        .await
        {
            creation_failed(diags, &target, &e);
            return Some(partial_state(planned, &group_ids));
        }
        Some(state_value(planned, &group_ids, &desired, &tags))
    }

    async fn read(
        &self,
        _ctx: &Context,
        current: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let configured = self.shared.get(diags)?;
        let target = target_from(current);
        match ops::read(&configured.aws, &target).await {
            Ok(Some(found)) => Some(state_value(
                current,
                &found.group_ids,
                &found.rules,
                &found.tags,
            )),
            Ok(None) => {
                diags.warning(
                    "Security Model Gone",
                    format!(
                        "No security group of model {:?} exists in VPC {} any more, so this \
                         atlas_security_model was removed from state. The next apply creates it \
                         again.",
                        target.name_prefix, target.vpc_id
                    ),
                );
                None
            }
            Err(e) => {
                diags.error(
                    "Cannot Read Security Model",
                    format!(
                        "Reading the security groups of model {:?} failed: {e}.",
                        target.name_prefix
                    ),
                );
                Some(current.clone())
            }
        }
    }

    async fn update(
        &self,
        ctx: &Context,
        prior: &Value,
        planned: &Value,
        _config: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let configured = self.shared.get(diags)?;
        let aws = &configured.aws;
        let target = target_from(planned);
        let tags = merge(
            &configured.default_tags,
            &convert::string_map(planned.get("tags")),
        );
        let failed = |diags: &mut Diagnostics, what: &str, e: &dyn std::fmt::Display| {
            diags.error(
                "Security Model Update Failed",
                format!(
                    "{what} of model {:?} failed: {e}. The state keeps what was there before; \
                     the next plan shows what still differs.",
                    target.name_prefix
                ),
            );
        };

        // 1. What AWS has now, and the groups that are missing.
        let found = match ops::read(aws, &target).await {
            Ok(found) => found.unwrap_or_default(),
            Err(e) => {
                failed(diags, "Reading the groups", &e);
                return Some(prior.clone());
            }
        };
        let mut group_ids = found.group_ids;
        let mut actual = found.rules;
        let missing: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|role| !group_ids.contains_key(role))
            .collect();

        // 2. Tags, in place on the groups that exist.
        let old_tags = convert::string_map(prior.get("tags_all"));
        if old_tags != tags || found.tags != tags {
            if let Err(e) = ops::update_tags(aws, &group_ids, &found.tags, &tags).await {
                failed(diags, "Updating the tags", &e);
                return Some(prior.clone());
            }
        }

        // 3. Groups deleted outside Terraform come back, with AWS's default egress rule.
        if !missing.is_empty() {
            tracing::debug!(roles = ?missing.iter().map(|r| r.name()).collect::<Vec<_>>(), "recreating missing security groups");
            let (created, result) = ops::create_groups(
                aws,
                &target,
                &missing,
                &tags,
                ctx.cancel_token(),
                ctx.deadline(),
            )
            .await;
            actual.extend(created.keys().map(|role| Rule::default_egress(*role)));
            group_ids.extend(created);
            if let Err(e) = result {
                failed(diags, "Recreating missing groups", &e);
                return Some(partial_state(prior, &group_ids));
            }
        }

        // 4. Only the rules that differ.
        let Some(desired) = desired_from(planned, &model::ipv6_egress_groups(&actual)) else {
            diags.bug("The planned atlas_security_model has unknown inputs at apply");
            return Some(prior.clone());
        };
        let diff = RuleDiff::between(&actual, &desired);
        tracing::debug!(
            authorize = diff.authorize.len(),
            revoke = diff.revoke.len(),
            reword = diff.describe.len(),
            "syncing security group rules"
        );
        if diff.is_empty() {
            return Some(state_value(planned, &group_ids, &desired, &tags));
        }
        if let Err(e) = ops::apply_diff(
            aws,
            &target,
            &group_ids,
            &diff,
            ctx.cancel_token(),
            ctx.deadline(),
        )
        .await
        {
            failed(diags, "Changing the rules", &e);
            return Some(state_value(prior, &group_ids, &actual, &tags));
        }
        Some(state_value(planned, &group_ids, &desired, &tags))
    }

    async fn delete(&self, ctx: &Context, prior: &Value, diags: &mut Diagnostics) {
        let Some(configured) = self.shared.get(diags) else {
            return;
        };
        let target = target_from(prior);
        tracing::debug!(vpc_id = %target.vpc_id, name_prefix = %target.name_prefix, "deleting security model");
        if let Err(e) =
            ops::delete(&configured.aws, &target, ctx.cancel_token(), ctx.deadline()).await
        {
            diags.error(
                "Security Model Deletion Failed",
                format!(
                    "Deleting the security groups of model {:?} failed: {e}. Detach the groups \
                     from whatever still uses them, or wait for it to be deleted, then destroy \
                     again.",
                    target.name_prefix
                ),
            );
        }
    }

    async fn import(&self, _ctx: &Context, id: &str, diags: &mut Diagnostics) -> Option<Value> {
        let parts = split_import_id(id, '/', &["vpc_id", "name_prefix"], diags)?;
        let target = Target {
            vpc_id: parts[0].to_owned(),
            name_prefix: parts[1].to_owned(),
        };
        let configured = self.shared.get(diags)?;
        let found = match ops::read(&configured.aws, &target).await {
            Ok(Some(found)) => found,
            Ok(None) => {
                diags.error(
                    "Cannot Import Security Model",
                    format!(
                        "No security group named {:?} or like it exists in VPC {}.",
                        Role::Alb.group_name(&target.name_prefix),
                        target.vpc_id
                    ),
                );
                return None;
            }
            Err(e) => {
                diags.error(
                    "Cannot Import Security Model",
                    format!("Reading the security groups of {id:?} failed: {e}."),
                );
                return None;
            }
        };

        // The inputs that give the rules found; the configuration then shows what differs.
        let inputs = model::infer_inputs(&found.rules);
        let mut base = tfplugin::plan::null_object(&self.schema().value_type());
        let set =
            |v: &mut Value, name: &str, value: Value| tfplugin::plan::set_attr(v, name, value);
        // The runtime adds the timeouts block to the schema; it must be present, null.
        set(&mut base, tfplugin::plan::TIMEOUTS_BLOCK, Value::Null);
        set(&mut base, "id", Value::string(id));
        set(&mut base, "vpc_id", Value::string(&target.vpc_id));
        set(&mut base, "name_prefix", Value::string(&target.name_prefix));
        set(
            &mut base,
            "alb_ingress_cidrs",
            convert::strings(&inputs.alb_ingress_cidrs),
        );
        set(
            &mut base,
            "msk_public_access_cidrs",
            convert::strings(&inputs.msk_public_access_cidrs),
        );
        set(
            &mut base,
            "msk_public_access_enabled",
            Value::Bool(inputs.msk_public_access_enabled),
        );
        set(
            &mut base,
            "rds_allowed_cidrs",
            convert::strings(&inputs.rds_allowed_cidrs),
        );
        set(
            &mut base,
            "rds_access_from",
            Value::string(inputs.rds_access_from.name()),
        );
        set(
            &mut base,
            "dashboard_target_port",
            Value::number(inputs.dashboard_target_port),
        );
        set(&mut base, "forbidden_findings", Value::List(Vec::new()));
        // Tags that equal a provider default tag are taken to come from it.
        let defaults = &configured.default_tags;
        let own: BTreeMap<String, String> = found
            .tags
            .iter()
            .filter(|(key, value)| defaults.get(*key) != Some(*value))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        let own = if own.is_empty() {
            Value::Null
        } else {
            convert::map(&own)
        };
        set(&mut base, "tags", own);
        set(
            &mut base,
            "exposure",
            findings_value(&model::exposure(&inputs)),
        );
        Some(state_value(
            &base,
            &found.group_ids,
            &found.rules,
            &found.tags,
        ))
    }
}

// ---------------------------------------------------------------------------------------
// diagnostics

fn creation_failed(diags: &mut Diagnostics, target: &Target, e: &crate::aws::AwsError) {
    let hint = if e.is_code(&["InvalidGroup.Duplicate"]) {
        format!(
            " A group of this name already exists in the VPC: import the model with \
             `terraform import <address> {}/{}`, or choose another name_prefix.",
            target.vpc_id, target.name_prefix
        )
    } else {
        " What was created so far is kept in state, so a destroy removes it and the next \
         apply replaces it."
            .to_owned()
    };
    diags.error(
        "Security Model Creation Failed",
        format!(
            "Creating the security groups of model {:?} failed: {e}.{hint}",
            target.name_prefix
        ),
    );
}

/// Shows each finding as a warning on the input that opens it, or as an error when the
/// configuration forbids it.
fn report(findings: &[Finding], forbidden: &BTreeSet<String>, diags: &mut Diagnostics) {
    for finding in findings {
        let mut path = AttributePath::new().attr(finding.attribute);
        if let Some(index) = finding.index {
            path = path.index(index as u64);
        }
        let summary = finding_title(finding.id);
        if forbidden.contains(finding.id) {
            diags.error_at(
                path,
                summary,
                format!(
                    "{} The finding {:?} is listed in forbidden_findings, so the plan stops \
                     here: close the path, or remove the id from forbidden_findings.",
                    finding.message, finding.id
                ),
            );
        } else {
            tracing::debug!(finding = finding.id, "exposure finding");
            diags.warning_at(
                path,
                summary,
                format!(
                    "{} To make this an error, add {:?} to forbidden_findings.",
                    finding.message, finding.id
                ),
            );
        }
    }
}

fn finding_title(id: &str) -> &'static str {
    match id {
        "alb_world_open" => "ALB Open to the World",
        "alb_cidrs" => "ALB Reachable From Outside the VPC",
        "msk_world_open" => "MSK Public Path Open to the World",
        "msk_cidrs" => "MSK Public Path Open",
        "msk_cidrs_without_public_access" => "MSK Public Path Without Public Access",
        "msk_public_access_without_cidrs" => "MSK Public Access Without a Path",
        "rds_world_open" => "Database Open to the World",
        "rds_cidrs" => "Database Reachable From Outside the VPC",
        _ => "Exposure Finding",
    }
}

// ---------------------------------------------------------------------------------------
// converters

fn target_from(value: &Value) -> Target {
    Target {
        vpc_id: convert::string(value, "vpc_id"),
        name_prefix: convert::string(value, "name_prefix"),
    }
}

/// The inputs of a plan or state; `None` while any of them is unknown.
fn inputs_from(value: &Value) -> Option<Inputs> {
    let known_list = |name: &str| -> Option<Vec<String>> {
        let list = value.get(name)?;
        if !list.is_wholly_known() {
            return None;
        }
        Some(convert::opt_string_list(value, name).unwrap_or_default())
    };
    let known = |name: &str| value.get(name).filter(|v| v.is_known());
    Some(Inputs {
        alb_ingress_cidrs: known_list("alb_ingress_cidrs")?,
        msk_public_access_cidrs: known_list("msk_public_access_cidrs")?,
        msk_public_access_enabled: known("msk_public_access_enabled")?
            .as_bool()
            .unwrap_or(false),
        rds_allowed_cidrs: known_list("rds_allowed_cidrs")?,
        rds_access_from: Role::from_name(
            known("rds_access_from")?
                .as_str()
                .unwrap_or("dashboard_backend"),
        )?,
        dashboard_target_port: i32::try_from(known("dashboard_target_port")?.as_i64()?).ok()?,
    })
}

/// The rules to converge on: the planned ones, else (when they could not be planned) the
/// matrix of the planned inputs.
fn desired_from(planned: &Value, ipv6_egress: &BTreeSet<Role>) -> Option<Vec<Rule>> {
    if let Some(rules) = planned
        .get("rules")
        .filter(|v| v.is_wholly_known())
        .and_then(rules_from)
    {
        return Some(rules);
    }
    inputs_from(planned).map(|inputs| model::matrix(&inputs, ipv6_egress))
}

fn group_ids_from(value: &Value) -> BTreeMap<Role, String> {
    convert::string_map(value.get("group_ids"))
        .into_iter()
        .filter_map(|(role, id)| Some((Role::from_name(&role)?, id)))
        .collect()
}

fn group_ids_value(ids: &BTreeMap<Role, String>) -> Value {
    Value::Map(
        ids.iter()
            .map(|(role, id)| (role.name().to_owned(), Value::string(id)))
            .collect(),
    )
}

fn rule_value(rule: &Rule) -> Value {
    let (source_group, cidr) = match &rule.source {
        Source::Group(role) => (Value::string(role.name()), Value::Null),
        Source::ForeignGroup(id) => (Value::string(id), Value::Null),
        Source::Cidr(cidr) => (Value::Null, Value::string(cidr)),
        Source::PrefixList(id) => (Value::Null, Value::string(id)),
    };
    Value::object([
        ("group", Value::string(rule.group.name())),
        ("direction", Value::string(rule.direction.name())),
        ("protocol", Value::string(&rule.protocol)),
        ("from_port", Value::number(rule.from_port)),
        ("to_port", Value::number(rule.to_port)),
        ("source_group", source_group),
        ("cidr", cidr),
        ("description", convert::opt(&rule.description)),
    ])
}

fn rules_value(rules: &[Rule]) -> Value {
    Value::List(rules.iter().map(rule_value).collect())
}

/// The rules of a `rules` value; `None` when it is unknown, null or unreadable.
fn rules_from(list: &Value) -> Option<Vec<Rule>> {
    let list = list.as_list()?;
    list.iter()
        .map(|item| {
            let text = |name: &str| item.get(name).and_then(Value::as_str);
            let port = |name: &str| item.get(name)?.as_i64().and_then(|p| i32::try_from(p).ok());
            let source = match (text("source_group"), text("cidr")) {
                (Some(group), None) => match Role::from_name(group) {
                    Some(role) => Source::Group(role),
                    None => Source::ForeignGroup(group.to_owned()),
                },
                (None, Some(id)) if id.starts_with("pl-") => Source::PrefixList(id.to_owned()),
                (None, Some(cidr)) => Source::Cidr(cidr.to_owned()),
                _ => return None,
            };
            Some(Rule {
                group: Role::from_name(text("group")?)?,
                direction: Direction::from_name(text("direction")?)?,
                from_port: port("from_port")?,
                to_port: port("to_port")?,
                protocol: text("protocol")?.to_owned(),
                source,
                description: text("description").map(str::to_owned),
            })
        })
        .collect()
}

fn findings_value(findings: &[Finding]) -> Value {
    Value::List(
        findings
            .iter()
            .map(|f| {
                Value::object([
                    ("id", Value::string(f.id)),
                    ("group", Value::string(f.group.name())),
                    (
                        "ports",
                        Value::List(f.ports.iter().map(|p| Value::number(*p)).collect()),
                    ),
                    ("cidrs", convert::strings(&f.cidrs)),
                    ("message", Value::string(&f.message)),
                ])
            })
            .collect(),
    )
}

/// The state after a create or update that stopped part way: the groups that exist, and
/// no claim about their rules (the next refresh reads them).
fn partial_state(base: &Value, group_ids: &BTreeMap<Role, String>) -> Value {
    let tags = convert::string_map(base.get("tags_all"));
    state_value(base, group_ids, &[], &tags)
}

/// The Terraform state for what exists, keeping the inputs of `base` (plan or state).
fn state_value(
    base: &Value,
    group_ids: &BTreeMap<Role, String>,
    rules: &[Rule],
    tags: &BTreeMap<String, String>,
) -> Value {
    let mut v = base.clone();
    let set = |v: &mut Value, name: &str, value: Value| tfplugin::plan::set_attr(v, name, value);
    let target = target_from(base);
    set(
        &mut v,
        "id",
        Value::string(format!("{}/{}", target.vpc_id, target.name_prefix)),
    );
    set(&mut v, "group_ids", group_ids_value(group_ids));
    set(&mut v, "rules", rules_value(rules));
    let tags: BTreeMap<String, String> = tags
        .iter()
        .filter(|(key, _)| !ops::is_reserved_tag(key))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    set(&mut v, "tags_all", convert::map(&tags));
    if !v.get("exposure").is_some_and(Value::is_wholly_known) {
        let exposure = inputs_from(&v).map_or(Value::List(Vec::new()), |inputs| {
            findings_value(&model::exposure(&inputs))
        });
        set(&mut v, "exposure", exposure);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_round_trip_through_values() {
        let inputs = Inputs {
            alb_ingress_cidrs: vec!["0.0.0.0/0".into(), "2001:db8::/32".into()],
            msk_public_access_cidrs: vec![],
            msk_public_access_enabled: false,
            rds_allowed_cidrs: vec!["10.1.0.0/16".into()],
            rds_access_from: Role::Camunda,
            dashboard_target_port: 3000,
        };
        let mut rules = model::matrix(&inputs, &BTreeSet::from([Role::Msk]));
        rules.push(Rule {
            source: Source::ForeignGroup("sg-123".into()),
            ..rules[0].clone()
        });
        rules.push(Rule {
            source: Source::PrefixList("pl-123".into()),
            description: None,
            ..rules[0].clone()
        });
        assert_eq!(rules_from(&rules_value(&rules)), Some(rules));
    }

    #[test]
    fn forbidden_findings_become_errors_on_the_input() {
        let inputs = Inputs {
            alb_ingress_cidrs: vec!["10.0.0.0/8".into(), "0.0.0.0/0".into()],
            msk_public_access_cidrs: vec![],
            msk_public_access_enabled: false,
            rds_allowed_cidrs: vec!["0.0.0.0/0".into()],
            rds_access_from: Role::DashboardBackend,
            dashboard_target_port: 8080,
        };
        let mut diags = Diagnostics::new();
        let forbidden = BTreeSet::from(["rds_world_open".to_owned()]);
        report(&model::exposure(&inputs), &forbidden, &mut diags);
        let seen: Vec<(String, bool)> = diags
            .iter()
            .map(|d| {
                (
                    d.path.as_ref().map(ToString::to_string).unwrap_or_default(),
                    d.severity == tfplugin::diag::Severity::Error,
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("alb_ingress_cidrs[1]".to_owned(), false),
                ("alb_ingress_cidrs[0]".to_owned(), false),
                ("rds_allowed_cidrs[0]".to_owned(), true),
            ]
        );
    }

    #[test]
    fn every_finding_id_has_a_title() {
        for id in FINDING_IDS {
            assert_ne!(finding_title(id), "Exposure Finding", "{id}");
        }
    }
}
