//! `atlas_network`: the VPC foundation of one environment.
//!
//! Two zones, a public and a private subnet in each, an internet gateway, a NAT gateway
//! with its own Elastic IP per zone, per-zone private route tables, the S3 gateway
//! endpoint on the private route tables and REJECT flow logs. This file declares the
//! schema and maps Terraform values to the typed model; `ops` talks to AWS.
//!
//! Drift that no id in state shows (a private default route removed or changed, the
//! endpoint detached from a private route table) is recorded by the read in the
//! resource's private state; the plan then marks the attributes the repair may change as
//! unknown, so Terraform shows an update, and the update repairs in place.

mod data_source;
mod model;
mod ops;

pub(crate) use data_source::NetworkDataSource;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tfplugin::diag::Diagnostics;
use tfplugin::resource::{Context, Plan, Resource, Timeouts};
use tfplugin::schema::{Attribute, Block, Schema};
use tfplugin::validate;
use tfplugin::value::{AttributePath, Number, Type, Value};

use crate::convert;
use crate::provider::Shared;
use crate::tags::{merge, plan_tags_all, TagsValidator};
use model::{Drift, NetworkSpec, NetworkState};

const ZONES: usize = 2;

/// The `atlas_network` resource.
#[derive(Debug)]
pub(crate) struct NetworkResource {
    shared: Arc<Shared>,
}

impl NetworkResource {
    /// The resource, reading the provider configuration from `shared`.
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        NetworkResource { shared }
    }
}

fn computed_id(name: &str, description: &str) -> Attribute {
    Attribute::computed(name, Type::String)
        .description(description)
        .use_state_for_unknown()
}

fn computed_ids(name: &str, description: &str) -> Attribute {
    Attribute::computed(name, Type::list(Type::String))
        .description(description)
        .use_state_for_unknown()
}

#[async_trait]
impl Resource for NetworkResource {
    fn type_name(&self) -> &'static str {
        "atlas_network"
    }

    fn schema(&self) -> Schema {
        Schema::new(Block::new(vec![
            computed_id("id", "The VPC id."),
            Attribute::required("name", Type::String)
                .description("Name prefix of every object, such as `atlas-staging`; also the value of the `atlas:network` tag that finds them again.")
                .requires_replace()
                .validate(validate::string_length(1, 40))
                .validate(validate::chars(|c| c.is_ascii_alphanumeric() || c == '-', "letters, digits and hyphens")),
            Attribute::required("cidr_block", Type::String)
                .description("The VPC's IPv4 CIDR block, from /16 to /28.")
                .requires_replace()
                .validate(validate::ipv4_cidr()),
            Attribute::optional_computed("availability_zones", Type::list(Type::String))
                .description("The two availability zones by name. Chosen from the region's available zones that need no opt-in when not set, and kept in state afterwards.")
                .requires_replace()
                .use_state_for_unknown()
                .validate(validate::size_between(ZONES, ZONES))
                .validate(validate::each(validate::string_length(1, 64))),
            Attribute::optional_computed("public_subnet_cidrs", Type::list(Type::String))
                .description("The public subnets' CIDR blocks, one per zone in zone order. Derived from `cidr_block` when not set.")
                .requires_replace()
                .use_state_for_unknown()
                .validate(validate::size_between(ZONES, ZONES))
                .validate(validate::each(validate::ipv4_cidr())),
            Attribute::optional_computed("private_subnet_cidrs", Type::list(Type::String))
                .description("The private subnets' CIDR blocks, one per zone in zone order. Derived from `cidr_block` when not set.")
                .requires_replace()
                .use_state_for_unknown()
                .validate(validate::size_between(ZONES, ZONES))
                .validate(validate::each(validate::ipv4_cidr())),
            Attribute::optional("enable_dns_support", Type::Bool)
                .description("Whether the VPC resolves DNS through the Amazon-provided server; changes in place.")
                .default(Value::Bool(true)),
            Attribute::optional("enable_dns_hostnames", Type::Bool)
                .description("Whether instances with public addresses get DNS hostnames; needs `enable_dns_support`, changes in place.")
                .default(Value::Bool(true)),
            Attribute::optional("flow_logs", Type::Bool)
                .description("Whether REJECT flow logs go to CloudWatch Logs.")
                .default(Value::Bool(true)),
            Attribute::optional("flow_log_retention_days", Type::Number)
                .description("How many days the flow log group keeps events; one of CloudWatch Logs' retention values (0 keeps them forever).")
                .default(Value::Number(Number::from_i64(30)))
                .validate(RetentionValidator),
            Attribute::optional("tags", Type::map(Type::String))
                .description("Tags of every object, over the provider's `default_tags`.")
                .validate(TagsValidator),
            Attribute::computed("tags_all", Type::map(Type::String))
                .description("The tags on every object: `default_tags` merged with `tags`."),
            computed_id("vpc_id", "The VPC id."),
            computed_ids("availability_zone_ids", "The zone ids, in zone order (the same physical zones in every account)."),
            computed_ids("public_subnet_ids", "The public subnet ids, in zone order."),
            computed_ids("private_subnet_ids", "The private subnet ids, in zone order."),
            computed_id("internet_gateway_id", "The internet gateway id."),
            computed_id("public_route_table_id", "The public route table id."),
            computed_ids("private_route_table_ids", "The private route table ids, in zone order."),
            computed_ids("nat_gateway_ids", "The NAT gateway ids, in zone order."),
            computed_ids("nat_public_ips", "The NAT gateways' public IP addresses, in zone order."),
            computed_ids("eip_allocation_ids", "The allocation ids of the NAT gateways' Elastic IPs, in zone order."),
            computed_id("s3_endpoint_id", "The S3 gateway endpoint id."),
            computed_id("flow_log_id", "The flow log id; null when flow logs are off."),
            computed_id("flow_log_group_name", "The flow log group's name; null when flow logs are off."),
            computed_id("flow_log_role_arn", "The ARN of the role that delivers flow logs; null when flow logs are off."),
        ])
        .description("The VPC foundation of one environment: two zones, public and private subnets, a NAT gateway per zone, the S3 gateway endpoint and REJECT flow logs."))
    }

    fn timeouts(&self) -> Option<Timeouts> {
        Some(Timeouts {
            create: Duration::from_secs(30 * 60),
            read: Duration::from_secs(5 * 60),
            update: Duration::from_secs(20 * 60),
            delete: Duration::from_secs(30 * 60),
        })
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let support = config.get("enable_dns_support").and_then(Value::as_bool);
        let hostnames = config.get("enable_dns_hostnames").and_then(Value::as_bool);
        if support == Some(false) && hostnames != Some(false) {
            diags.error_at(
                AttributePath::new().attr("enable_dns_hostnames"),
                "DNS Hostnames Need DNS Support",
                "AWS gives instances DNS hostnames only while DNS support is on. Set \
                 enable_dns_hostnames = false together with enable_dns_support = false.",
            );
        }
        let Some(cidr) = config.get("cidr_block").and_then(Value::as_str) else {
            return;
        };
        let public = convert::opt_string_list(config, "public_subnet_cidrs");
        let private = convert::opt_string_list(config, "private_subnet_cidrs");
        let known = |name: &str| config.get(name).is_none_or(Value::is_wholly_known);
        if !known("public_subnet_cidrs") || !known("private_subnet_cidrs") {
            return;
        }
        for problem in model::validate_cidrs(cidr, ZONES, public.as_deref(), private.as_deref()) {
            let mut path = AttributePath::new().attr(problem.attribute);
            if let Some(i) = problem.index {
                path = path.clone().index(i as u64);
            }
            diags.error_at(path, "Invalid Network Layout", problem.message);
        }
    }

    async fn modify_plan(&self, ctx: &Context, plan: &mut Plan<'_>, diags: &mut Diagnostics) {
        // Show the derived subnet CIDRs in the plan instead of "known after apply".
        if let Some(cidr) = plan.get("cidr_block").as_str().map(str::to_owned) {
            if let Ok((public, private)) = model::plan_cidrs(&cidr, ZONES) {
                if !plan.get("public_subnet_cidrs").is_known() {
                    plan.set("public_subnet_cidrs", convert::strings(&public));
                }
                if !plan.get("private_subnet_cidrs").is_known() {
                    plan.set("private_subnet_cidrs", convert::strings(&private));
                }
            }
        }

        // tags_all is known whenever the tags are; an unknown tag value leaves it unknown.
        plan_tags_all(plan, &self.shared.default_tags());

        // Flow log objects come and go with `flow_logs`; otherwise they keep their ids.
        if !plan.is_create() {
            let before = plan.prior.get("flow_logs").and_then(Value::as_bool);
            let after = plan.get("flow_logs").as_bool();
            if before != after {
                let value = if after == Some(false) {
                    Value::Null
                } else {
                    Value::unknown()
                };
                for name in FLOW_LOG_ATTRIBUTES {
                    plan.set(name, value.clone());
                }
            } else if after == Some(true)
                && FLOW_LOG_ATTRIBUTES
                    .iter()
                    .any(|name| plan.prior.get(name).is_none_or(Value::is_null))
            {
                // On, but the log group or the role was found gone: the update puts them
                // back, which may change these values.
                for name in FLOW_LOG_ATTRIBUTES {
                    plan.set(name, Value::unknown());
                }
            }
        }

        // Drift the refresh found: plan the repair as an in-place update.
        if !plan.is_create() {
            let drift = drift_from(&ctx.private());
            for found in &drift {
                for name in found.attributes() {
                    plan.set(name, Value::unknown());
                }
            }
            if !drift.is_empty() {
                let list: Vec<String> = drift.iter().map(|d| format!("- {d}")).collect();
                diags.warning(
                    "Network Drift Found",
                    format!(
                        "Parts of this network were changed outside of Terraform:\n{}\nThe \
                         apply repairs them in place.",
                        list.join("\n")
                    ),
                );
            }
        }
    }

    async fn create(
        &self,
        ctx: &Context,
        planned: &Value,
        _config: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let configured = self.shared.get(diags)?;
        let spec = spec_from(planned, &configured.default_tags);
        tracing::debug!(name = %spec.name, cidr_block = %spec.cidr_block, "creating network");
        match ops::create(&configured.aws, &spec, ctx.cancel_token(), ctx.deadline()).await {
            Ok(state) => Some(state_value(planned, &state)),
            Err(failure) => {
                diags.error(
                    "Network Creation Failed",
                    format!(
                        "Creating network {:?} failed: {}. What was created so far is kept in \
                         state, so the next apply continues from it and a destroy removes it.",
                        spec.name, failure.error
                    ),
                );
                failure
                    .partial
                    .vpc_id
                    .is_some()
                    .then(|| state_value(planned, &failure.partial))
            }
        }
    }

    async fn read(&self, ctx: &Context, current: &Value, diags: &mut Diagnostics) -> Option<Value> {
        let configured = self.shared.get(diags)?;
        let Some(vpc_id) = convert::opt_string(current, "id") else {
            diags.bug("The state of this atlas_network has no id");
            return Some(current.clone());
        };
        // Keep the zone order of the state: a user may have listed zones out of name order.
        let zones = convert::opt_string_list(current, "availability_zones").unwrap_or_default();
        match ops::read_in_order(&configured.aws, &vpc_id, &zones).await {
            Ok(Some(found)) => {
                ctx.set_private(private_from(&found.drift));
                Some(state_value(current, &found))
            }
            Ok(None) => {
                diags.warning(
                    "Network Gone",
                    format!(
                        "VPC {vpc_id} no longer exists, so this atlas_network was removed from \
                         state. The next apply creates it again."
                    ),
                );
                None
            }
            Err(e) => {
                diags.error(
                    "Cannot Read Network",
                    format!("Reading VPC {vpc_id} failed: {e}."),
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
        let mut state = state_from(prior);
        let spec = spec_from(planned, &configured.default_tags);

        let old_tags = convert::string_map(prior.get("tags_all"));
        if old_tags != spec.tags {
            if let Err(e) = ops::update_tags(aws, &state, &old_tags, &spec.tags).await {
                diags.error(
                    "Cannot Update Tags",
                    format!("Updating the network's tags failed: {e}."),
                );
                return Some(prior.clone());
            }
            state.tags = spec.tags.clone();
        }

        let drift = drift_from(&ctx.private());
        if !drift.is_empty() {
            tracing::debug!(vpc_id = ?state.vpc_id, drift = ?drift, "repairing drift");
            let repaired =
                ops::repair(aws, &state, &spec, ctx.cancel_token(), ctx.deadline()).await;
            if let Err(e) = repaired {
                diags.error(
                    "Cannot Repair Network",
                    format!(
                        "Repairing the network failed: {e}. Objects created so far are tagged \
                         with the network's name; the next refresh finds them and the next \
                         apply continues."
                    ),
                );
                return Some(state_value(prior, &state));
            }
        }

        let dns_changed = convert::bool_or(prior, "enable_dns_support", true)
            != spec.enable_dns_support
            || convert::bool_or(prior, "enable_dns_hostnames", true) != spec.enable_dns_hostnames;
        if dns_changed {
            let cancel = ctx.cancel_token();
            if let Err(e) = ops::update_dns(aws, &state, &spec, cancel, ctx.deadline()).await {
                diags.error(
                    "Cannot Update DNS Settings",
                    format!("Changing the VPC's DNS settings failed: {e}."),
                );
                return Some(prior.clone());
            }
        }

        let flow_log_incomplete = state.flow_log_id.is_none()
            || state.flow_log_group_name.is_none()
            || state.flow_log_role_arn.is_none();
        let flow_logs_changed = convert::bool_or(prior, "flow_logs", true) != spec.flow_logs
            || convert::opt_i64(prior, "flow_log_retention_days")
                != Some(i64::from(spec.flow_log_retention_days))
            || (spec.flow_logs && flow_log_incomplete);
        if flow_logs_changed {
            match ops::set_flow_logs(aws, &state, &spec, ctx.cancel_token(), ctx.deadline()).await {
                Ok(next) => state = next,
                Err(e) => {
                    diags.error(
                        "Cannot Update Flow Logs",
                        format!("Changing the flow logs failed: {e}."),
                    );
                    return Some(state_value(prior, &state));
                }
            }
        }

        if !drift.is_empty() {
            let vpc_id = state.vpc_id.clone().unwrap_or_default();
            match ops::read_in_order(aws, &vpc_id, &state.availability_zones).await {
                Ok(Some(found)) => {
                    if !found.drift.is_empty() {
                        let left: Vec<String> = found.drift.iter().map(|d| d.to_string()).collect();
                        diags.error(
                            "Network Not Repaired",
                            format!(
                                "After the repair, AWS still shows: {}. This is a bug in the \
                                 provider.",
                                left.join("; ")
                            ),
                        );
                    }
                    ctx.set_private(private_from(&found.drift));
                    state = found;
                }
                Ok(None) => {
                    diags.error(
                        "Network Gone",
                        format!("VPC {vpc_id} disappeared during the repair."),
                    );
                    return Some(state_value(prior, &state));
                }
                Err(e) => {
                    diags.error(
                        "Cannot Read Network",
                        format!("Reading VPC {vpc_id} after the repair failed: {e}."),
                    );
                    return Some(state_value(prior, &state));
                }
            }
        }
        Some(state_value(planned, &state))
    }

    async fn delete(&self, ctx: &Context, prior: &Value, diags: &mut Diagnostics) {
        let Some(configured) = self.shared.get(diags) else {
            return;
        };
        let state = state_from(prior);
        tracing::debug!(vpc_id = ?state.vpc_id, "deleting network");
        if let Err(e) =
            ops::delete(&configured.aws, &state, ctx.cancel_token(), ctx.deadline()).await
        {
            diags.error(
                "Network Deletion Failed",
                format!("Deleting the network failed: {e}."),
            );
        }
    }

    async fn import(&self, _ctx: &Context, id: &str, diags: &mut Diagnostics) -> Option<Value> {
        let configured = self.shared.get(diags)?;
        match ops::read(&configured.aws, id).await {
            Ok(Some(found)) => {
                let mut base = tfplugin::plan::null_object(&self.schema().value_type());
                // The runtime adds the timeouts block to the schema; the state has it too.
                tfplugin::plan::set_attr(&mut base, tfplugin::plan::TIMEOUTS_BLOCK, Value::Null);
                let name = found
                    .tags
                    .get(model::NETWORK_TAG)
                    .cloned()
                    .unwrap_or_default();
                tfplugin::plan::set_attr(&mut base, "name", Value::String(name));
                // Tags that the provider's default_tags set with the same value are not
                // the resource's own: leaving them out keeps the next plan empty.
                let defaults = configured.default_tags.clone();
                let own: std::collections::BTreeMap<_, _> = found
                    .tags
                    .iter()
                    .filter(|(k, _)| !model::is_reserved_tag(k))
                    .filter(|(k, v)| defaults.get(*k) != Some(*v))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                let own = if own.is_empty() {
                    Value::Null
                } else {
                    convert::map(&own)
                };
                tfplugin::plan::set_attr(&mut base, "tags", own);
                Some(state_value(&base, &found))
            }
            Ok(None) => {
                diags.error(
                    "Cannot Import Network",
                    format!("No VPC {id:?} exists in this region."),
                );
                None
            }
            Err(e) => {
                diags.error(
                    "Cannot Import Network",
                    format!("Reading VPC {id:?} failed: {e}."),
                );
                None
            }
        }
    }
}

/// The typed request from a planned state; `default_tags` merged under the resource's own.
fn spec_from(
    planned: &Value,
    default_tags: &std::collections::BTreeMap<String, String>,
) -> NetworkSpec {
    NetworkSpec {
        name: convert::string(planned, "name"),
        cidr_block: convert::string(planned, "cidr_block"),
        availability_zones: convert::opt_string_list(planned, "availability_zones"),
        public_subnet_cidrs: convert::opt_string_list(planned, "public_subnet_cidrs"),
        private_subnet_cidrs: convert::opt_string_list(planned, "private_subnet_cidrs"),
        flow_logs: convert::bool_or(planned, "flow_logs", true),
        enable_dns_support: convert::bool_or(planned, "enable_dns_support", true),
        enable_dns_hostnames: convert::bool_or(planned, "enable_dns_hostnames", true),
        flow_log_retention_days: convert::opt_i64(planned, "flow_log_retention_days")
            .and_then(|d| i32::try_from(d).ok())
            .unwrap_or(30),
        tags: merge(default_tags, &convert::string_map(planned.get("tags"))),
    }
}

/// The typed model from a stored state.
fn state_from(value: &Value) -> NetworkState {
    let list = |name: &str| convert::opt_string_list(value, name).unwrap_or_default();
    NetworkState {
        vpc_id: convert::opt_string(value, "vpc_id").or_else(|| convert::opt_string(value, "id")),
        cidr_block: convert::string(value, "cidr_block"),
        availability_zones: list("availability_zones"),
        availability_zone_ids: list("availability_zone_ids"),
        public_subnet_cidrs: list("public_subnet_cidrs"),
        private_subnet_cidrs: list("private_subnet_cidrs"),
        public_subnet_ids: list("public_subnet_ids"),
        private_subnet_ids: list("private_subnet_ids"),
        internet_gateway_id: convert::opt_string(value, "internet_gateway_id"),
        public_route_table_id: convert::opt_string(value, "public_route_table_id"),
        private_route_table_ids: list("private_route_table_ids"),
        nat_gateway_ids: list("nat_gateway_ids"),
        nat_public_ips: list("nat_public_ips"),
        eip_allocation_ids: list("eip_allocation_ids"),
        s3_endpoint_id: convert::opt_string(value, "s3_endpoint_id"),
        flow_log_id: convert::opt_string(value, "flow_log_id"),
        flow_log_group_name: convert::opt_string(value, "flow_log_group_name"),
        flow_log_role_arn: convert::opt_string(value, "flow_log_role_arn"),
        flow_log_retention_days: convert::opt_i64(value, "flow_log_retention_days")
            .and_then(|d| i32::try_from(d).ok())
            .unwrap_or(30),
        tags: convert::string_map(value.get("tags_all")),
        drift: Vec::new(),
    }
}

/// The Terraform state for `found`, keeping the user's own inputs from `base` (the plan or
/// the prior state) where AWS does not hold them.
fn state_value(base: &Value, found: &NetworkState) -> Value {
    let mut v = base.clone();
    let set = |v: &mut Value, name: &str, value: Value| tfplugin::plan::set_attr(v, name, value);
    // DNS settings are not read back (two calls per refresh); an import assumes the
    // defaults, and the next apply sets them if the VPC differs.
    for dns in ["enable_dns_support", "enable_dns_hostnames"] {
        if base.get(dns).is_none_or(|b| !b.is_known() || b.is_null()) {
            set(&mut v, dns, Value::Bool(true));
        }
    }
    let vpc = convert::opt(&found.vpc_id);
    set(&mut v, "id", vpc.clone());
    set(&mut v, "vpc_id", vpc);
    set(
        &mut v,
        "cidr_block",
        Value::String(found.cidr_block.clone()),
    );
    set(
        &mut v,
        "availability_zones",
        convert::strings(&found.availability_zones),
    );
    set(
        &mut v,
        "availability_zone_ids",
        convert::strings(&found.availability_zone_ids),
    );
    set(
        &mut v,
        "public_subnet_cidrs",
        convert::strings(&found.public_subnet_cidrs),
    );
    set(
        &mut v,
        "private_subnet_cidrs",
        convert::strings(&found.private_subnet_cidrs),
    );
    set(
        &mut v,
        "public_subnet_ids",
        convert::strings(&found.public_subnet_ids),
    );
    set(
        &mut v,
        "private_subnet_ids",
        convert::strings(&found.private_subnet_ids),
    );
    set(
        &mut v,
        "internet_gateway_id",
        convert::opt(&found.internet_gateway_id),
    );
    set(
        &mut v,
        "public_route_table_id",
        convert::opt(&found.public_route_table_id),
    );
    set(
        &mut v,
        "private_route_table_ids",
        convert::strings(&found.private_route_table_ids),
    );
    set(
        &mut v,
        "nat_gateway_ids",
        convert::strings(&found.nat_gateway_ids),
    );
    set(
        &mut v,
        "nat_public_ips",
        convert::strings(&found.nat_public_ips),
    );
    set(
        &mut v,
        "eip_allocation_ids",
        convert::strings(&found.eip_allocation_ids),
    );
    set(
        &mut v,
        "s3_endpoint_id",
        convert::opt(&found.s3_endpoint_id),
    );
    set(
        &mut v,
        "flow_logs",
        Value::Bool(found.flow_log_id.is_some()),
    );
    set(&mut v, "flow_log_id", convert::opt(&found.flow_log_id));
    set(
        &mut v,
        "flow_log_group_name",
        convert::opt(&found.flow_log_group_name),
    );
    set(
        &mut v,
        "flow_log_role_arn",
        convert::opt(&found.flow_log_role_arn),
    );
    if found.flow_log_id.is_some() {
        set(
            &mut v,
            "flow_log_retention_days",
            Value::Number(Number::from_i64(i64::from(found.flow_log_retention_days))),
        );
    } else if base
        .get("flow_log_retention_days")
        .is_none_or(|r| !r.is_known() || r.is_null())
    {
        set(
            &mut v,
            "flow_log_retention_days",
            Value::Number(Number::from_i64(30)),
        );
    }
    let tags_all: std::collections::BTreeMap<_, _> = found
        .tags
        .iter()
        .filter(|(k, _)| !model::is_reserved_tag(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    set(&mut v, "tags_all", convert::map(&tags_all));
    v
}

/// The attributes that name the flow log objects.
const FLOW_LOG_ATTRIBUTES: [&str; 3] = ["flow_log_id", "flow_log_group_name", "flow_log_role_arn"];

/// What the resource keeps in its private state: the drift its last read found.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Private {
    #[serde(default)]
    drift: Vec<Drift>,
}

fn private_from(drift: &[Drift]) -> Vec<u8> {
    if drift.is_empty() {
        return Vec::new();
    }
    let private = Private {
        drift: drift.to_vec(),
    };
    serde_json::to_vec(&private).unwrap_or_default()
}

/// The drift recorded by the last read; none when the private state is empty or from an
/// older version of the provider.
fn drift_from(private: &[u8]) -> Vec<Drift> {
    if private.is_empty() {
        return Vec::new();
    }
    serde_json::from_slice::<Private>(private)
        .map(|p| p.drift)
        .unwrap_or_default()
}

#[derive(Debug)]
struct RetentionValidator;

impl validate::Validator for RetentionValidator {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let days = value.as_number().and_then(Number::as_i64);
        let problem = match days.and_then(|d| i32::try_from(d).ok()) {
            Some(d) => model::validate_retention(d),
            None => Some(format!(
                "{} is not a whole number of days.",
                value
                    .as_number()
                    .map(ToString::to_string)
                    .unwrap_or_default()
            )),
        };
        if let Some(message) = problem {
            diags.error_at(
                path.clone(),
                "Invalid Retention",
                format!("{path}: {message}"),
            );
        }
    }
}
