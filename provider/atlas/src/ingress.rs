//! `atlas_ingress`: the internet-facing application load balancer of one environment.
//!
//! One ALB in the public subnets, a listener on port 80 that only redirects to HTTPS
//! (`HTTP_301`), a listener on port 443 with the certificate and TLS policy that forwards
//! by default to the resource's own default target group (target type `ip`). Services
//! add their host rules to the HTTPS listener themselves (`atlas_service`).
//!
//! The two listeners are shown in the computed `listeners` attribute: planned from the
//! inputs and read from AWS, so a listener changed or deleted outside Terraform shows as
//! an in-place update, and the apply puts it back. Listeners on other ports are not
//! the resource's and are left alone.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, Certificate, IpAddressType, Listener, LoadBalancer,
    LoadBalancerSchemeEnum, LoadBalancerStateEnum, LoadBalancerTypeEnum, ProtocolEnum,
    RedirectActionConfig, RedirectActionStatusCodeEnum, Tag, TargetGroup, TargetTypeEnum,
};
use tfplugin::diag::Diagnostics;
use tfplugin::resource::{Context, Plan, Resource, Timeouts};
use tfplugin::schema::{Attribute, Block, Schema};
use tfplugin::validate::{self, Validator};
use tfplugin::value::{AttributePath, Type, Value};

use crate::aws::{elb_claim, pause, retry_while, AwsError, Claim, ElbKind, Interrupted, TagDiff};
use crate::convert;
use crate::provider::Shared;
use crate::tags::{merge, plan_tags_all, TagsValidator};

type Elbv2 = aws_sdk_elasticloadbalancingv2::Client;

/// The tag that marks the load balancer and the default target group with the ingress
/// that created them (its name), kept out of `tags_all`. What a create interrupted before
/// Terraform saved its state left is taken over by the next create; a load balancer or
/// target group of the name without it is refused.
const OWNER_TAG: &str = "atlas:ingress";

/// The TLS policy used when `ssl_policy` is not set: TLS 1.3 and 1.2 only.
const DEFAULT_SSL_POLICY: &str = "ELBSecurityPolicy-TLS13-1-2-2021-06";

/// The port of the listener that redirects.
const HTTP_PORT: i32 = 80;

/// The port of the listener that terminates TLS.
const HTTPS_PORT: i32 = 443;

/// AWS's defaults for the parts of a redirect that keep the request's own value.
const REDIRECT_HOST: &str = "#{host}";
const REDIRECT_PATH: &str = "/#{path}";
const REDIRECT_QUERY: &str = "#{query}";

/// The `atlas_ingress` resource.
#[derive(Debug)]
pub(crate) struct IngressResource {
    shared: Arc<Shared>,
}

impl IngressResource {
    /// The resource, reading the provider configuration from `shared`.
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        IngressResource { shared }
    }
}

fn computed_id(name: &str, description: &str) -> Attribute {
    Attribute::computed(name, Type::String)
        .description(description)
        .use_state_for_unknown()
}

fn listener_type() -> Type {
    Type::object([
        ("port", Type::Number),
        ("protocol", Type::String),
        ("action", Type::String),
        ("redirect", Type::String),
        ("target_group_arn", Type::String),
        ("certificate_arn", Type::String),
        ("ssl_policy", Type::String),
    ])
}

#[async_trait]
impl Resource for IngressResource {
    fn type_name(&self) -> &'static str {
        "atlas_ingress"
    }

    fn schema(&self) -> Schema {
        Schema::new(Block::new(vec![
            computed_id("id", "The load balancer's ARN, also the import id."),
            Attribute::required("name", Type::String)
                .description("The load balancer's name: 1 to 32 letters, digits and hyphens, not starting or ending with a hyphen, not starting with `internal-`.")
                .requires_replace()
                .validate(validate::string_length(1, 32))
                .validate(AlbName),
            Attribute::required("vpc_id", Type::String)
                .description("The VPC of the default target group, such as `atlas_network.this.vpc_id`.")
                .requires_replace()
                .validate(validate::string_length(5, 64)),
            Attribute::required("subnet_ids", Type::list(Type::String))
                .description("The public subnets, at least two in different availability zones. Changes in place.")
                .validate(validate::size_between(2, 32))
                .validate(validate::each(validate::string_length(8, 64))),
            Attribute::required("security_group_ids", Type::list(Type::String))
                .description("The load balancer's security groups, one to five. Changes in place.")
                .validate(validate::size_between(1, 5))
                .validate(validate::each(validate::string_length(4, 64))),
            Attribute::required("certificate_arn", Type::String)
                .description("The ARN of the HTTPS listener's certificate (ACM, or IAM). Changes in place.")
                .validate(validate::regex(r"^arn:[a-z-]+:(acm|iam):[^:]*:[0-9]*:(certificate/|server-certificate/)\S+$", "an ACM or IAM certificate ARN")),
            Attribute::optional("ssl_policy", Type::String)
                .description("The HTTPS listener's security policy. Changes in place.")
                .default(Value::string(DEFAULT_SSL_POLICY))
                .validate(validate::string_length(1, 128)),
            Attribute::optional("default_target_port", Type::Number)
                .description("The port of the default target group. A change replaces the target group only.")
                .default(Value::number(8080))
                .validate(validate::port()),
            Attribute::optional("default_health_check_path", Type::String)
                .description("The health check path of the default target group. Changes in place.")
                .default(Value::string("/health"))
                .validate(validate::string_length(1, 1024))
                .validate(validate::regex(r"^/", "a path starting with /")),
            Attribute::optional("tags", Type::map(Type::String))
                .description("Tags of the load balancer, its listeners and the default target group, over the provider's `default_tags`.")
                .validate(TagsValidator),
            Attribute::computed("tags_all", Type::map(Type::String))
                .description("The tags on every object: `default_tags` merged with `tags`."),
            computed_id("arn", "The load balancer's ARN."),
            computed_id("dns_name", "The load balancer's DNS name."),
            computed_id("zone_id", "The Route 53 hosted zone id of the load balancer, for alias records."),
            computed_id("http_listener_arn", "The ARN of the listener on port 80."),
            computed_id("https_listener_arn", "The ARN of the listener on port 443, where services add their rules."),
            computed_id("default_target_group_arn", "The ARN of the default target group (target type `ip`, HTTP)."),
            Attribute::computed("listeners", Type::list(listener_type()))
                .description("The two listeners, port 80 then 443: `port`, `protocol`, the default `action` (`redirect` or `forward`), `redirect` (`PROTOCOL://host:port/path?query STATUS`), `target_group_arn`, `certificate_arn` and `ssl_policy`. Planned from the inputs and read from AWS, so a listener changed outside Terraform shows as a difference."),
        ])
        .description("An internet-facing application load balancer: HTTP redirected to HTTPS, HTTPS with the certificate and TLS policy, forwarding by default to a default target group."))
    }

    fn timeouts(&self) -> Option<Timeouts> {
        Some(Timeouts {
            create: Duration::from_secs(15 * 60),
            read: Duration::from_secs(5 * 60),
            update: Duration::from_secs(15 * 60),
            delete: Duration::from_secs(15 * 60),
        })
    }

    async fn modify_plan(&self, _ctx: &Context, plan: &mut Plan<'_>, _diags: &mut Diagnostics) {
        plan_tags_all(plan, &self.shared.default_tags());

        // Objects found gone, and the target group on a new port, get new ARNs.
        if !plan.is_create() {
            let port_changed =
                plan.prior.get("default_target_port") != plan.planned.get("default_target_port");
            let gone = |name: &str| plan.prior.get(name).is_none_or(Value::is_null);
            if port_changed || gone("default_target_group_arn") {
                plan.set("default_target_group_arn", Value::unknown());
            }
            for name in ["http_listener_arn", "https_listener_arn"] {
                if gone(name) {
                    plan.set(name, Value::unknown());
                }
            }
        }

        let listeners = Desired::from_value(plan.planned).map(|d| listeners_value(&d.listeners()));
        plan.set("listeners", listeners.unwrap_or_else(Value::unknown));
    }

    async fn create(
        &self,
        ctx: &Context,
        planned: &Value,
        _config: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let configured = self.shared.get(diags)?;
        let elbv2 = &configured.aws.elbv2;
        let Some(spec) = Spec::from_value(planned, &configured.default_tags) else {
            diags.bug("The planned atlas_ingress has unknown inputs at apply");
            return None;
        };
        let mut found = Found::default();

        // 0. What a create interrupted before Terraform saved its state left, looked up
        // by name: taken over when it carries this ingress's owner tag, refused otherwise.
        let tg_name = target_group_name(&spec.name, spec.target_port);
        let (left_tg, left_lb) = tokio::join!(
            leftover(elbv2, ElbKind::TargetGroup, &tg_name, &spec.name),
            leftover(elbv2, ElbKind::LoadBalancer, &spec.name, &spec.name),
        );
        let (left_tg, left_lb) = match (left_tg, left_lb) {
            (Ok(tg), Ok(lb)) => (tg, lb),
            (Err(e), _) | (_, Err(e)) => {
                creation_failed(diags, &spec, &e);
                return None;
            }
        };

        // 1. The default target group.
        let made_tg = match left_tg {
            Some(arn) => {
                tracing::info!(target_group_arn = %arn, "taking over the target group of an interrupted create");
                found.target_group = Some(arn);
                false
            }
            None => {
                tracing::debug!(name = %spec.name, port = spec.target_port, "creating default target group");
                match create_target_group(elbv2, &spec).await {
                    Ok(arn) => found.target_group = Some(arn),
                    Err(e) => {
                        creation_failed(diags, &spec, &e);
                        return None;
                    }
                }
                true
            }
        };

        // 2. The load balancer.
        let created = match &left_lb {
            Some(arn) => {
                tracing::info!(load_balancer_arn = %arn, "taking over the load balancer of an interrupted create");
                Ok(arn.clone())
            }
            None => {
                tracing::debug!(name = %spec.name, "creating load balancer");
                create_load_balancer(elbv2, &spec).await
            }
        };
        let lb_arn = match created {
            Ok(arn) => arn,
            Err(e) => {
                creation_failed(diags, &spec, &e);
                // Nothing holds the target group yet: remove it rather than leave it.
                if let (Some(arn), true) = (&found.target_group, made_tg) {
                    if let Err(cleanup) = delete_target_group(elbv2, arn, ctx).await {
                        diags.error(
                            "Target Group Left Behind",
                            format!(
                                "Removing target group {arn} after the failure failed too: \
                                 {cleanup}. Delete it by hand."
                            ),
                        );
                    }
                }
                return None;
            }
        };

        // 3. Active. A load balancer that exists is kept in state whatever happens next.
        match wait_active(elbv2, &lb_arn, ctx).await {
            Ok(lb) => found.lb = Some(lb),
            Err(e) => {
                creation_failed(diags, &spec, &e);
                found.lb = Some(LbView {
                    arn: lb_arn,
                    ..LbView::default()
                });
                return Some(state_value(planned, &found));
            }
        }

        // 4. The listeners; on a load balancer taken over, those it has are set as asked.
        let existing = match &left_lb {
            Some(_) => match listeners_by_port(elbv2, &lb_arn).await {
                Ok(existing) => existing,
                Err(e) => {
                    creation_failed(diags, &spec, &e);
                    return Some(state_value(planned, &found));
                }
            },
            None => BTreeMap::new(),
        };
        let desired = spec.desired(found.target_group.as_deref());
        for want in desired.listeners() {
            let made = match existing.get(&want.port) {
                Some(arn) => modify_listener(elbv2, arn, &want)
                    .await
                    .map(|()| arn.clone()),
                None => {
                    tracing::debug!(load_balancer = %lb_arn, port = want.port, "creating listener");
                    create_listener(elbv2, &lb_arn, &want, &spec.tags).await
                }
            };
            match made {
                Ok(arn) => {
                    let mut have = want.clone();
                    have.arn = Some(arn);
                    found.listeners.push(have);
                }
                Err(e) => {
                    creation_failed(diags, &spec, &e);
                    return Some(state_value(planned, &found));
                }
            }
        }
        Some(state_value(planned, &found))
    }

    async fn read(
        &self,
        _ctx: &Context,
        current: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let configured = self.shared.get(diags)?;
        let Some(arn) = convert::opt_string(current, "id") else {
            diags.bug("The state of this atlas_ingress has no id");
            return Some(current.clone());
        };
        let tg = convert::opt_string(current, "default_target_group_arn");
        match read_all(&configured.aws.elbv2, &arn, tg.as_deref()).await {
            Ok(Some(found)) => {
                let mut state = state_value(current, &found);
                keep_order(
                    &mut state,
                    current,
                    "subnet_ids",
                    &found
                        .lb
                        .as_ref()
                        .map(|lb| lb.subnets.clone())
                        .unwrap_or_default(),
                );
                keep_order(
                    &mut state,
                    current,
                    "security_group_ids",
                    &found
                        .lb
                        .as_ref()
                        .map(|lb| lb.groups.clone())
                        .unwrap_or_default(),
                );
                Some(state)
            }
            Ok(None) => {
                diags.warning(
                    "Load Balancer Gone",
                    format!(
                        "The load balancer {arn} no longer exists, so this atlas_ingress was \
                         removed from state. The next apply creates it again."
                    ),
                );
                None
            }
            Err(e) => {
                diags.error(
                    "Cannot Read Load Balancer",
                    format!("Reading load balancer {arn} failed: {e}."),
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
        let elbv2 = &configured.aws.elbv2;
        let Some(spec) = Spec::from_value(planned, &configured.default_tags) else {
            diags.bug("The planned atlas_ingress has unknown inputs at apply");
            return Some(prior.clone());
        };
        let lb_arn = convert::string(prior, "id");
        let failed = |diags: &mut Diagnostics, what: &str, e: &AwsError| {
            diags.error(
                "Load Balancer Update Failed",
                format!(
                    "{what} of load balancer {:?} failed: {e}. The next plan shows what still \
                     differs; apply again once the cause is fixed.",
                    spec.name
                ),
            );
        };

        // 1. What AWS has now.
        let old_tg = convert::opt_string(prior, "default_target_group_arn");
        let mut found = match read_all(elbv2, &lb_arn, old_tg.as_deref()).await {
            Ok(Some(found)) => found,
            Ok(None) => {
                diags.error(
                    "Load Balancer Gone",
                    format!(
                        "The load balancer {lb_arn} was deleted outside Terraform during \
                         the update."
                    ),
                );
                return None;
            }
            Err(e) => {
                failed(diags, "Reading", &e);
                return Some(prior.clone());
            }
        };
        let partial = |found: &Found| Some(state_value(prior, found));

        // 2. Tags, on every object that exists.
        let old_tags = convert::string_map(prior.get("tags_all"));
        if old_tags != spec.tags {
            let mut arns = vec![lb_arn.clone()];
            arns.extend(found.listeners.iter().filter_map(|l| l.arn.clone()));
            arns.extend(found.target_group.clone());
            if let Err(e) =
                update_tags(elbv2, &arns, &TagDiff::between(&old_tags, &spec.tags)).await
            {
                failed(diags, "Updating the tags", &e);
                return partial(&found);
            }
        }
        found.tags = Some(spec.tags.clone());

        // 3. The default target group: a new one on a new port, or when it is gone.
        let port_changed =
            convert::opt_i64(prior, "default_target_port") != Some(i64::from(spec.target_port));
        let mut retired_tg = None;
        if port_changed || found.target_group.is_none() {
            tracing::debug!(name = %spec.name, port = spec.target_port, "creating default target group");
            match create_target_group(elbv2, &spec).await {
                Ok(arn) => {
                    retired_tg = found.target_group.replace(arn);
                }
                Err(e) => {
                    failed(diags, "Creating the default target group", &e);
                    return partial(&found);
                }
            }
        } else if found.health_check_path.as_deref() != Some(spec.health_check_path.as_str()) {
            let tg = found.target_group.clone().unwrap_or_default();
            tracing::debug!(target_group = %tg, path = %spec.health_check_path, "updating health check path");
            let result = elbv2
                .modify_target_group()
                .target_group_arn(&tg)
                .health_check_path(&spec.health_check_path)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("ModifyTargetGroup", Some(&tg), e));
            if let Err(e) = result {
                failed(diags, "Changing the health check path", &e);
                return partial(&found);
            }
        }
        found.health_check_path = Some(spec.health_check_path.clone());
        found.target_port = Some(spec.target_port);

        // 4. Subnets and security groups.
        let lb = found.lb.clone().unwrap_or_default();
        if !same_set(&lb.subnets, &spec.subnet_ids) {
            tracing::debug!(load_balancer = %lb_arn, subnets = ?spec.subnet_ids, "setting subnets");
            let result = elbv2
                .set_subnets()
                .load_balancer_arn(&lb_arn)
                .set_subnets(Some(spec.subnet_ids.clone()))
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("SetSubnets", Some(&lb_arn), e));
            if let Err(e) = result {
                failed(diags, "Setting the subnets", &e);
                return partial(&found);
            }
        }
        if !same_set(&lb.groups, &spec.security_group_ids) {
            tracing::debug!(load_balancer = %lb_arn, groups = ?spec.security_group_ids, "setting security groups");
            let result = elbv2
                .set_security_groups()
                .load_balancer_arn(&lb_arn)
                .set_security_groups(Some(spec.security_group_ids.clone()))
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("SetSecurityGroups", Some(&lb_arn), e));
            if let Err(e) = result {
                failed(diags, "Setting the security groups", &e);
                return partial(&found);
            }
        }
        if let Some(lb) = found.lb.as_mut() {
            lb.subnets = spec.subnet_ids.clone();
            lb.groups = spec.security_group_ids.clone();
        }

        // 5. The listeners: created when gone, changed when they differ.
        let desired = spec.desired(found.target_group.as_deref());
        for want in desired.listeners() {
            let have = found.listeners.iter().position(|l| l.port == want.port);
            let result = match have.map(|i| &found.listeners[i]) {
                Some(have) if have.same_as(&want) => continue,
                Some(have) => {
                    let arn = have.arn.clone().unwrap_or_default();
                    tracing::debug!(listener = %arn, port = want.port, "repairing listener");
                    modify_listener(elbv2, &arn, &want).await.map(|()| arn)
                }
                None => {
                    tracing::debug!(load_balancer = %lb_arn, port = want.port, "creating listener");
                    create_listener(elbv2, &lb_arn, &want, &spec.tags).await
                }
            };
            match result {
                Ok(arn) => {
                    let mut now = want.clone();
                    now.arn = Some(arn);
                    match have {
                        Some(i) => found.listeners[i] = now,
                        None => found.listeners.push(now),
                    }
                }
                Err(e) => {
                    failed(
                        diags,
                        &format!("Setting the listener on port {}", want.port),
                        &e,
                    );
                    return partial(&found);
                }
            }
        }

        // 6. The old target group, once no listener forwards to it.
        if let Some(old) = retired_tg {
            tracing::debug!(target_group = %old, "deleting replaced target group");
            if let Err(e) = delete_target_group(elbv2, &old, ctx).await {
                diags.warning(
                    "Old Target Group Left Behind",
                    format!(
                        "The replaced default target group {old} could not be deleted: \
                         {e}. Delete it once nothing uses it."
                    ),
                );
            }
        }
        Some(state_value(planned, &found))
    }

    async fn delete(&self, ctx: &Context, prior: &Value, diags: &mut Diagnostics) {
        let Some(configured) = self.shared.get(diags) else {
            return;
        };
        let elbv2 = &configured.aws.elbv2;
        let lb_arn = convert::string(prior, "id");
        let tg = convert::opt_string(prior, "default_target_group_arn");
        if let Err(e) = delete_all(elbv2, prior, &lb_arn, tg.as_deref(), ctx).await {
            diags.error(
                "Load Balancer Deletion Failed",
                format!(
                    "Deleting load balancer {lb_arn} failed: {e}. Destroy again once the \
                     cause is fixed."
                ),
            );
        }
    }

    async fn import(&self, _ctx: &Context, id: &str, diags: &mut Diagnostics) -> Option<Value> {
        if !id.starts_with("arn:") || !id.contains(":loadbalancer/app/") {
            diags.error(
                "Invalid Import ID",
                format!(
                    "The import id must be the ARN of an application load balancer, but \
                     it is {id:?}."
                ),
            );
            return None;
        }
        let configured = self.shared.get(diags)?;
        let elbv2 = &configured.aws.elbv2;
        let found = match read_all(elbv2, id, None).await {
            Ok(Some(found)) => found,
            Ok(None) => {
                diags.error(
                    "Cannot Import Load Balancer",
                    format!("No load balancer {id} exists in this region."),
                );
                return None;
            }
            Err(e) => {
                diags.error(
                    "Cannot Import Load Balancer",
                    format!("Reading load balancer {id} failed: {e}."),
                );
                return None;
            }
        };
        let lb = found.lb.clone().unwrap_or_default();
        let https = found.listeners.iter().find(|l| l.port == HTTPS_PORT);
        let tags = match lb_tags(elbv2, id).await {
            Ok(tags) => tags,
            Err(e) => {
                diags.error(
                    "Cannot Import Load Balancer",
                    format!("Reading the tags of {id} failed: {e}."),
                );
                return None;
            }
        };

        let mut base = tfplugin::plan::null_object(&self.schema().value_type());
        let set =
            |v: &mut Value, name: &str, value: Value| tfplugin::plan::set_attr(v, name, value);
        // The runtime adds the timeouts block to the schema; it must be present, null.
        set(&mut base, tfplugin::plan::TIMEOUTS_BLOCK, Value::Null);
        set(&mut base, "id", Value::string(id));
        set(&mut base, "name", Value::string(&lb.name));
        set(&mut base, "vpc_id", Value::string(&lb.vpc_id));
        set(&mut base, "subnet_ids", convert::strings(&lb.subnets));
        set(
            &mut base,
            "security_group_ids",
            convert::strings(&lb.groups),
        );
        set(
            &mut base,
            "certificate_arn",
            convert::opt(&https.and_then(|l| l.certificate_arn.clone())),
        );
        set(
            &mut base,
            "ssl_policy",
            Value::string(
                https
                    .and_then(|l| l.ssl_policy.clone())
                    .unwrap_or_else(|| DEFAULT_SSL_POLICY.to_owned()),
            ),
        );
        set(
            &mut base,
            "default_target_port",
            Value::number(found.target_port.unwrap_or(8080)),
        );
        set(
            &mut base,
            "default_health_check_path",
            Value::string(
                found
                    .health_check_path
                    .clone()
                    .unwrap_or_else(|| "/health".to_owned()),
            ),
        );
        // Tags that equal a provider default tag are taken to come from it.
        let defaults = &configured.default_tags;
        let own: BTreeMap<String, String> = tags
            .iter()
            .filter(|(key, value)| defaults.get(*key) != Some(*value))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        set(
            &mut base,
            "tags",
            if own.is_empty() {
                Value::Null
            } else {
                convert::map(&own)
            },
        );
        set(&mut base, "tags_all", convert::map(&tags));
        Some(state_value(&base, &found))
    }
}

// ---------------------------------------------------------------------------------------
// validation

/// The load balancer name rules beyond length and characters.
#[derive(Debug, Clone, Copy)]
struct AlbName;

impl Validator for AlbName {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let Some(name) = value.as_str() else { return };
        for problem in alb_name_problems(name) {
            diags.error_at(
                path.clone(),
                "Invalid Load Balancer Name",
                format!("{path} {problem}, but it is {name:?}."),
            );
        }
    }
}

/// What is wrong with an ALB name, as AWS's rules say, each as a sentence fragment.
fn alb_name_problems(name: &str) -> Vec<&'static str> {
    let mut problems = Vec::new();
    if name.is_empty() || name.chars().count() > 32 {
        problems.push("must be 1 to 32 characters long");
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        problems.push("may only contain letters, digits and hyphens");
    }
    if name.starts_with('-') || name.ends_with('-') {
        problems.push("must not start or end with a hyphen");
    }
    if name.to_ascii_lowercase().starts_with("internal-") {
        problems.push(
            "must not start with \"internal-\", which AWS reserves for internal load balancers",
        );
    }
    problems
}

/// The default target group's name: the ALB's name (shortened) and the port, within the
/// 32 characters AWS allows; a new port gives a new name, so the replacement can exist
/// beside the old group until the listener has moved.
fn target_group_name(alb_name: &str, port: i32) -> String {
    let suffix = format!("-{port}");
    let room = 32 - suffix.len();
    let stem: String = alb_name.chars().take(room).collect();
    format!("{}{suffix}", stem.trim_end_matches('-'))
}

// ---------------------------------------------------------------------------------------
// the model

/// What the configuration asks for.
#[derive(Debug, Clone)]
struct Spec {
    name: String,
    vpc_id: String,
    subnet_ids: Vec<String>,
    security_group_ids: Vec<String>,
    target_port: i32,
    health_check_path: String,
    desired: Desired,
    /// `default_tags` merged with `tags`.
    tags: BTreeMap<String, String>,
}

impl Spec {
    /// The spec of a plan; `None` while an input is unknown.
    fn from_value(planned: &Value, default_tags: &BTreeMap<String, String>) -> Option<Self> {
        let known_list = |name: &str| {
            planned
                .get(name)
                .filter(|v| v.is_wholly_known())
                .and_then(|_| convert::opt_string_list(planned, name))
        };
        Some(Spec {
            name: convert::opt_string(planned, "name")?,
            vpc_id: convert::opt_string(planned, "vpc_id")?,
            subnet_ids: known_list("subnet_ids")?,
            security_group_ids: known_list("security_group_ids")?,
            target_port: i32::try_from(convert::opt_i64(planned, "default_target_port")?).ok()?,
            health_check_path: convert::opt_string(planned, "default_health_check_path")?,
            desired: Desired::from_value(planned)?,
            tags: merge(default_tags, &convert::string_map(planned.get("tags"))),
        })
    }

    /// `tags` and the [`OWNER_TAG`], for the load balancer and the target group.
    fn owned_tags(&self) -> BTreeMap<String, String> {
        let mut tags = self.tags.clone();
        tags.insert(OWNER_TAG.to_owned(), self.name.clone());
        tags
    }

    /// The listeners to have, forwarding to `target_group`.
    fn desired(&self, target_group: Option<&str>) -> Desired {
        Desired {
            target_group: target_group.map(str::to_owned),
            ..self.desired.clone()
        }
    }
}

/// The inputs the two listeners are made of.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Desired {
    certificate_arn: String,
    ssl_policy: String,
    /// The default target group; `None` while it is not known (planned as unknown).
    target_group: Option<String>,
}

impl Desired {
    /// From a plan or state; `None` while the certificate or policy is unknown.
    fn from_value(value: &Value) -> Option<Self> {
        let tg = value.get("default_target_group_arn");
        Some(Desired {
            certificate_arn: convert::opt_string(value, "certificate_arn")?,
            ssl_policy: convert::opt_string(value, "ssl_policy")?,
            target_group: tg
                .filter(|v| v.is_known())
                .and_then(Value::as_str)
                .map(str::to_owned),
        })
    }

    /// The HTTP listener, then the HTTPS one.
    fn listeners(&self) -> [ListenerView; 2] {
        [
            ListenerView {
                arn: None,
                port: HTTP_PORT,
                protocol: "HTTP".to_owned(),
                action: "redirect".to_owned(),
                redirect: Some(redirect_text("HTTPS", "443", None, None, None, "HTTP_301")),
                target_group_arn: None,
                certificate_arn: None,
                ssl_policy: None,
            },
            ListenerView {
                arn: None,
                port: HTTPS_PORT,
                protocol: "HTTPS".to_owned(),
                action: "forward".to_owned(),
                redirect: None,
                target_group_arn: self.target_group.clone(),
                certificate_arn: Some(self.certificate_arn.clone()),
                ssl_policy: Some(self.ssl_policy.clone()),
            },
        ]
    }
}

/// A listener as the resource compares it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ListenerView {
    arn: Option<String>,
    port: i32,
    protocol: String,
    /// The default action's type (`redirect`, `forward`, `fixed-response`, ...); `none`
    /// when there is none, and the types joined with `+` when there are several.
    action: String,
    redirect: Option<String>,
    target_group_arn: Option<String>,
    certificate_arn: Option<String>,
    ssl_policy: Option<String>,
}

impl ListenerView {
    fn from_listener(listener: &Listener) -> Self {
        let protocol = listener
            .protocol()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default();
        let tls = protocol == "HTTPS";
        let actions = listener.default_actions();
        let action = if actions.is_empty() {
            "none".to_owned()
        } else {
            actions
                .iter()
                .map(|a| a.r#type().map_or("unknown", |t| t.as_str()))
                .collect::<Vec<_>>()
                .join("+")
        };
        let single = (actions.len() == 1).then(|| &actions[0]);
        let redirect = single.and_then(Action::redirect_config).map(|r| {
            redirect_text(
                r.protocol().unwrap_or("#{protocol}"),
                r.port().unwrap_or("#{port}"),
                r.host(),
                r.path(),
                r.query(),
                r.status_code().map_or("", |s| s.as_str()),
            )
        });
        let target_group_arn = single.and_then(forward_target);
        ListenerView {
            arn: listener.listener_arn().map(str::to_owned),
            port: listener.port().unwrap_or_default(),
            protocol,
            action,
            redirect,
            target_group_arn,
            // AWS leaves these empty on HTTP listeners; some answers fill in defaults.
            certificate_arn: tls
                .then(|| {
                    listener
                        .certificates()
                        .first()
                        .and_then(|c| c.certificate_arn())
                })
                .flatten()
                .map(str::to_owned),
            ssl_policy: tls
                .then(|| listener.ssl_policy())
                .flatten()
                .map(str::to_owned),
        }
    }

    /// Whether two listeners do the same, whatever their ARNs.
    fn same_as(&self, other: &ListenerView) -> bool {
        ListenerView {
            arn: None,
            ..self.clone()
        } == ListenerView {
            arn: None,
            ..other.clone()
        }
    }

    /// The default action AWS is given for this listener.
    fn action(&self) -> Action {
        match &self.target_group_arn {
            Some(tg) => Action::builder()
                .r#type(ActionTypeEnum::Forward)
                .target_group_arn(tg)
                .build(),
            None => Action::builder()
                .r#type(ActionTypeEnum::Redirect)
                .redirect_config(
                    RedirectActionConfig::builder()
                        .protocol("HTTPS")
                        .port(HTTPS_PORT.to_string())
                        .status_code(RedirectActionStatusCodeEnum::Http301)
                        .build(),
                )
                .build(),
        }
    }
}

/// The one target group a forward action sends to, whichever way AWS spells it.
fn forward_target(action: &Action) -> Option<String> {
    if action.r#type() != Some(&ActionTypeEnum::Forward) {
        return None;
    }
    if let Some(arn) = action.target_group_arn() {
        return Some(arn.to_owned());
    }
    match action.forward_config().map(|f| f.target_groups()) {
        Some([only]) => only.target_group_arn().map(str::to_owned),
        _ => None,
    }
}

/// A redirect as one line: `PROTOCOL://host:port/path?query STATUS`, with AWS's
/// defaults for the parts that are not set.
fn redirect_text(
    protocol: &str,
    port: &str,
    host: Option<&str>,
    path: Option<&str>,
    query: Option<&str>,
    status: &str,
) -> String {
    format!(
        "{protocol}://{}:{port}{}?{} {status}",
        host.unwrap_or(REDIRECT_HOST),
        path.unwrap_or(REDIRECT_PATH),
        query.unwrap_or(REDIRECT_QUERY)
    )
}

/// The load balancer as the resource sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct LbView {
    arn: String,
    name: String,
    vpc_id: String,
    dns_name: String,
    zone_id: String,
    subnets: Vec<String>,
    groups: Vec<String>,
}

impl LbView {
    fn from_lb(lb: &LoadBalancer) -> Self {
        LbView {
            arn: lb.load_balancer_arn().unwrap_or_default().to_owned(),
            name: lb.load_balancer_name().unwrap_or_default().to_owned(),
            vpc_id: lb.vpc_id().unwrap_or_default().to_owned(),
            dns_name: lb.dns_name().unwrap_or_default().to_owned(),
            zone_id: lb.canonical_hosted_zone_id().unwrap_or_default().to_owned(),
            subnets: lb
                .availability_zones()
                .iter()
                .filter_map(|z| z.subnet_id().map(str::to_owned))
                .collect(),
            groups: lb.security_groups().to_vec(),
        }
    }
}

/// Everything the resource owns, as far as it exists.
#[derive(Debug, Clone, Default)]
struct Found {
    lb: Option<LbView>,
    /// The resource's listeners (ports 80 and 443) that exist.
    listeners: Vec<ListenerView>,
    target_group: Option<String>,
    target_port: Option<i32>,
    health_check_path: Option<String>,
    /// The load balancer's tags, when they were read.
    tags: Option<BTreeMap<String, String>>,
}

fn same_set(a: &[String], b: &[String]) -> bool {
    a.iter().collect::<BTreeSet<_>>() == b.iter().collect::<BTreeSet<_>>()
}

// ---------------------------------------------------------------------------------------
// AWS calls

fn elb_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

async fn create_target_group(elbv2: &Elbv2, spec: &Spec) -> Result<String, AwsError> {
    let operation = "CreateTargetGroup";
    let name = target_group_name(&spec.name, spec.target_port);
    let answer = elbv2
        .create_target_group()
        .name(&name)
        .protocol(ProtocolEnum::Http)
        .port(spec.target_port)
        .vpc_id(&spec.vpc_id)
        .target_type(TargetTypeEnum::Ip)
        .health_check_path(&spec.health_check_path)
        .set_tags(Some(elb_tags(&spec.owned_tags())))
        .send()
        .await
        .map_err(|e| AwsError::from_sdk(operation, Some(&name), e))?;
    answer
        .target_groups()
        .first()
        .and_then(TargetGroup::target_group_arn)
        .map(str::to_owned)
        .ok_or_else(|| AwsError::missing(operation, Some(&name), "TargetGroupArn"))
}

async fn create_load_balancer(elbv2: &Elbv2, spec: &Spec) -> Result<String, AwsError> {
    let operation = "CreateLoadBalancer";
    let answer = elbv2
        .create_load_balancer()
        .name(&spec.name)
        .r#type(LoadBalancerTypeEnum::Application)
        .scheme(LoadBalancerSchemeEnum::InternetFacing)
        .ip_address_type(IpAddressType::Ipv4)
        .set_subnets(Some(spec.subnet_ids.clone()))
        .set_security_groups(Some(spec.security_group_ids.clone()))
        .set_tags(Some(elb_tags(&spec.owned_tags())))
        .send()
        .await
        .map_err(|e| AwsError::from_sdk(operation, Some(&spec.name), e))?;
    let lb = answer
        .load_balancers()
        .first()
        .ok_or_else(|| AwsError::missing(operation, Some(&spec.name), "LoadBalancers"))?;
    let arn = lb
        .load_balancer_arn()
        .ok_or_else(|| AwsError::missing(operation, Some(&spec.name), "LoadBalancerArn"))?;
    Ok(arn.to_owned())
}

/// The ARN of the target group or load balancer named `name` when it carries `owner`
/// in [`OWNER_TAG`]; `None` when none of that name exists; an error naming it when one
/// exists that this ingress did not create.
async fn leftover(
    elbv2: &Elbv2,
    kind: ElbKind,
    name: &str,
    owner: &str,
) -> Result<Option<String>, AwsError> {
    match elb_claim(elbv2, kind, name, OWNER_TAG, owner).await? {
        Claim::Free => Ok(None),
        Claim::Ours(arn) => Ok(Some(arn)),
        Claim::Theirs(arn) => Err(AwsError::InvalidInput {
            detail: format!(
                "a {} named {name:?} already exists ({arn}) and this atlas_ingress did not \
                 create it; import it with `terraform import <address> <load balancer ARN>`, \
                 delete it, or choose another name",
                kind.noun()
            ),
        }),
    }
}

/// Every listener of a load balancer, page by page.
async fn describe_listeners(elbv2: &Elbv2, lb_arn: &str) -> Result<Vec<Listener>, AwsError> {
    let mut listeners = Vec::new();
    let mut pages = elbv2
        .describe_listeners()
        .load_balancer_arn(lb_arn)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("DescribeListeners", Some(lb_arn), e))?;
        listeners.extend_from_slice(page.listeners());
    }
    Ok(listeners)
}

/// The listeners of a load balancer, by port.
async fn listeners_by_port(elbv2: &Elbv2, lb_arn: &str) -> Result<BTreeMap<i32, String>, AwsError> {
    Ok(describe_listeners(elbv2, lb_arn)
        .await?
        .iter()
        .filter_map(|l| Some((l.port()?, l.listener_arn()?.to_owned())))
        .collect())
}

/// Polls the load balancer until it is `active`.
async fn wait_active(elbv2: &Elbv2, arn: &str, ctx: &Context) -> Result<LbView, AwsError> {
    let operation = "DescribeLoadBalancers";
    let mut delay = Duration::from_millis(500);
    loop {
        let lb = describe_lb(elbv2, arn).await?.ok_or_else(|| {
            AwsError::item(
                operation,
                Some(arn),
                Some("LoadBalancerNotFound"),
                Some("the load balancer was deleted while it was being created"),
            )
        })?;
        let state = lb.state().and_then(|s| s.code());
        match state {
            Some(LoadBalancerStateEnum::Active) => return Ok(LbView::from_lb(&lb)),
            Some(LoadBalancerStateEnum::Failed) => {
                let reason = lb.state().and_then(|s| s.reason());
                return Err(AwsError::item(operation, Some(arn), Some("failed"), reason));
            }
            _ => {}
        }
        tracing::debug!(load_balancer = %arn, state = ?state, "waiting for load balancer");
        if let Err(stop) = pause(delay, ctx.deadline(), ctx.cancel_token()).await {
            return Err(interrupted(
                stop,
                operation,
                arn,
                "the load balancer to be active",
            ));
        }
        delay = (delay * 2).min(Duration::from_secs(15));
    }
}

fn interrupted(
    stop: Interrupted,
    operation: &'static str,
    resource: &str,
    waiting_for: &str,
) -> AwsError {
    match stop {
        Interrupted::Cancelled => AwsError::Cancelled {
            operation,
            resource: Some(resource.to_owned()),
        },
        Interrupted::Deadline => AwsError::Timeout {
            operation,
            resource: Some(resource.to_owned()),
            waiting_for: waiting_for.to_owned(),
            last: None,
        },
    }
}

async fn describe_lb(elbv2: &Elbv2, arn: &str) -> Result<Option<LoadBalancer>, AwsError> {
    match elbv2
        .describe_load_balancers()
        .load_balancer_arns(arn)
        .send()
        .await
    {
        Ok(answer) => Ok(answer.load_balancers().first().cloned()),
        Err(e) => {
            let e = AwsError::from_sdk("DescribeLoadBalancers", Some(arn), e);
            // LoadBalancerNotFound: deleted, or never existed.
            if e.is_code(&["LoadBalancerNotFound"]) {
                Ok(None)
            } else {
                Err(e)
            }
        }
    }
}

async fn create_listener(
    elbv2: &Elbv2,
    lb_arn: &str,
    want: &ListenerView,
    tags: &BTreeMap<String, String>,
) -> Result<String, AwsError> {
    let operation = "CreateListener";
    let protocol = ProtocolEnum::from(want.protocol.as_str());
    let answer = elbv2
        .create_listener()
        .load_balancer_arn(lb_arn)
        .port(want.port)
        .protocol(protocol)
        .set_ssl_policy(want.ssl_policy.clone())
        .set_certificates(
            want.certificate_arn
                .as_ref()
                .map(|arn| vec![Certificate::builder().certificate_arn(arn).build()]),
        )
        .default_actions(want.action())
        .set_tags(Some(elb_tags(tags)))
        .send()
        .await
        .map_err(|e| AwsError::from_sdk(operation, Some(lb_arn), e))?;
    answer
        .listeners()
        .first()
        .and_then(Listener::listener_arn)
        .map(str::to_owned)
        .ok_or_else(|| AwsError::missing(operation, Some(lb_arn), "ListenerArn"))
}

async fn modify_listener(elbv2: &Elbv2, arn: &str, want: &ListenerView) -> Result<(), AwsError> {
    elbv2
        .modify_listener()
        .listener_arn(arn)
        .port(want.port)
        .protocol(ProtocolEnum::from(want.protocol.as_str()))
        .set_ssl_policy(want.ssl_policy.clone())
        .set_certificates(
            want.certificate_arn
                .as_ref()
                .map(|arn| vec![Certificate::builder().certificate_arn(arn).build()]),
        )
        .default_actions(want.action())
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("ModifyListener", Some(arn), e))?;
    Ok(())
}

/// The load balancer, its listeners on 80 and 443, and the default target group (`tg`,
/// else the HTTPS listener's forward target); `None` when the load balancer is gone.
async fn read_all(
    elbv2: &Elbv2,
    lb_arn: &str,
    tg: Option<&str>,
) -> Result<Option<Found>, AwsError> {
    let Some(lb) = describe_lb(elbv2, lb_arn).await? else {
        return Ok(None);
    };
    let mut found = Found {
        lb: Some(LbView::from_lb(&lb)),
        ..Found::default()
    };

    found.listeners.extend(
        describe_listeners(elbv2, lb_arn)
            .await?
            .iter()
            .map(ListenerView::from_listener)
            .filter(|l| l.port == HTTP_PORT || l.port == HTTPS_PORT),
    );
    found.listeners.sort_by_key(|l| l.port);
    found.tags = Some(lb_tags(elbv2, lb_arn).await?);

    let tg = tg.map(str::to_owned).or_else(|| {
        found
            .listeners
            .iter()
            .find(|l| l.port == HTTPS_PORT)
            .and_then(|l| l.target_group_arn.clone())
    });
    if let Some(tg) = tg {
        match elbv2
            .describe_target_groups()
            .target_group_arns(&tg)
            .send()
            .await
        {
            Ok(answer) => {
                if let Some(group) = answer.target_groups().first() {
                    found.target_group = group.target_group_arn().map(str::to_owned);
                    found.target_port = group.port();
                    found.health_check_path = group.health_check_path().map(str::to_owned);
                }
            }
            Err(e) => {
                let e = AwsError::from_sdk("DescribeTargetGroups", Some(&tg), e);
                // TargetGroupNotFound: deleted outside Terraform; the update makes a new one.
                if !e.is_code(&["TargetGroupNotFound"]) {
                    return Err(e);
                }
            }
        }
    }
    Ok(Some(found))
}

async fn lb_tags(elbv2: &Elbv2, arn: &str) -> Result<BTreeMap<String, String>, AwsError> {
    let answer = elbv2
        .describe_tags()
        .resource_arns(arn)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("DescribeTags", Some(arn), e))?;
    Ok(answer
        .tag_descriptions()
        .iter()
        .flat_map(|d| d.tags())
        .filter(|t| t.key() != Some(OWNER_TAG))
        .filter_map(|t| {
            Some((
                t.key()?.to_owned(),
                t.value().unwrap_or_default().to_owned(),
            ))
        })
        .collect())
}

async fn update_tags(elbv2: &Elbv2, arns: &[String], diff: &TagDiff) -> Result<(), AwsError> {
    // AddTags and RemoveTags take up to 20 resources per call.
    for chunk in arns.chunks(20) {
        if !diff.removed.is_empty() {
            elbv2
                .remove_tags()
                .set_resource_arns(Some(chunk.to_vec()))
                .set_tag_keys(Some(diff.removed.clone()))
                .send()
                .await
                .map_err(|e| {
                    AwsError::from_sdk("RemoveTags", chunk.first().map(String::as_str), e)
                })?;
        }
        if !diff.upserted.is_empty() {
            elbv2
                .add_tags()
                .set_resource_arns(Some(chunk.to_vec()))
                .set_tags(Some(elb_tags(&diff.upserted)))
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("AddTags", chunk.first().map(String::as_str), e))?;
        }
    }
    Ok(())
}

/// Listeners, then the load balancer (waiting until it is gone), then the target group.
async fn delete_all(
    elbv2: &Elbv2,
    prior: &Value,
    lb_arn: &str,
    tg: Option<&str>,
    ctx: &Context,
) -> Result<(), AwsError> {
    for name in ["http_listener_arn", "https_listener_arn"] {
        let Some(arn) = convert::opt_string(prior, name) else {
            continue;
        };
        tracing::debug!(listener = %arn, "deleting listener");
        match elbv2.delete_listener().listener_arn(&arn).send().await {
            Ok(_) => {}
            Err(e) => {
                let e = AwsError::from_sdk("DeleteListener", Some(&arn), e);
                // ListenerNotFound: already gone.
                if !e.is_code(&["ListenerNotFound"]) {
                    return Err(e);
                }
            }
        }
    }

    if !lb_arn.is_empty() {
        tracing::debug!(load_balancer = %lb_arn, "deleting load balancer");
        match elbv2
            .delete_load_balancer()
            .load_balancer_arn(lb_arn)
            .send()
            .await
        {
            Ok(_) => {}
            Err(e) => {
                let e = AwsError::from_sdk("DeleteLoadBalancer", Some(lb_arn), e);
                // LoadBalancerNotFound: already gone.
                if !e.is_code(&["LoadBalancerNotFound"]) {
                    return Err(e);
                }
            }
        }
        let mut delay = Duration::from_millis(500);
        while describe_lb(elbv2, lb_arn).await?.is_some() {
            tracing::debug!(load_balancer = %lb_arn, "waiting for load balancer to be deleted");
            if let Err(stop) = pause(delay, ctx.deadline(), ctx.cancel_token()).await {
                return Err(interrupted(
                    stop,
                    "DescribeLoadBalancers",
                    lb_arn,
                    "the load balancer to be deleted",
                ));
            }
            delay = (delay * 2).min(Duration::from_secs(15));
        }
    }

    if let Some(tg) = tg {
        tracing::debug!(target_group = %tg, "deleting default target group");
        delete_target_group(elbv2, tg, ctx).await?;
    }
    Ok(())
}

async fn delete_target_group(elbv2: &Elbv2, arn: &str, ctx: &Context) -> Result<(), AwsError> {
    let result = retry_while(
        // ResourceInUse: the load balancer's deletion releases the group a little later.
        &["ResourceInUse"],
        ctx.deadline(),
        ctx.cancel_token(),
        || async {
            elbv2
                .delete_target_group()
                .target_group_arn(arn)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("DeleteTargetGroup", Some(arn), e))
        },
    )
    .await;
    match result {
        Ok(_) => Ok(()),
        Err(e) if e.is_code(&["TargetGroupNotFound"]) => Ok(()),
        Err(e) => Err(e),
    }
}

// ---------------------------------------------------------------------------------------
// converters

fn listener_value(l: &ListenerView) -> Value {
    let opt = |v: &Option<String>| v.as_ref().map_or(Value::Null, Value::string);
    Value::object([
        ("port", Value::number(l.port)),
        ("protocol", Value::string(&l.protocol)),
        ("action", Value::string(&l.action)),
        ("redirect", opt(&l.redirect)),
        (
            "target_group_arn",
            // Forwarding to a group not known yet (planned): unknown, not null.
            if l.action == "forward" && l.target_group_arn.is_none() && l.arn.is_none() {
                Value::unknown()
            } else {
                opt(&l.target_group_arn)
            },
        ),
        ("certificate_arn", opt(&l.certificate_arn)),
        ("ssl_policy", opt(&l.ssl_policy)),
    ])
}

fn listeners_value(listeners: &[ListenerView]) -> Value {
    Value::List(listeners.iter().map(listener_value).collect())
}

/// Keeps the configured order of a list attribute when AWS has the same members.
fn keep_order(state: &mut Value, current: &Value, name: &str, actual: &[String]) {
    let configured = convert::opt_string_list(current, name).unwrap_or_default();
    let value = if same_set(&configured, actual) {
        convert::strings(&configured)
    } else {
        let mut sorted = actual.to_vec();
        sorted.sort();
        convert::strings(&sorted)
    };
    tfplugin::plan::set_attr(state, name, value);
}

/// The state for what exists, keeping the inputs of `base` (plan or state).
fn state_value(base: &Value, found: &Found) -> Value {
    let mut v = base.clone();
    let set = |v: &mut Value, name: &str, value: Value| tfplugin::plan::set_attr(v, name, value);
    if let Some(lb) = &found.lb {
        set(&mut v, "id", Value::string(&lb.arn));
        set(&mut v, "arn", Value::string(&lb.arn));
        set(&mut v, "dns_name", Value::string(&lb.dns_name));
        set(&mut v, "zone_id", Value::string(&lb.zone_id));
    }
    let arn_on = |port: i32| {
        found
            .listeners
            .iter()
            .find(|l| l.port == port)
            .and_then(|l| l.arn.clone())
    };
    set(
        &mut v,
        "http_listener_arn",
        convert::opt(&arn_on(HTTP_PORT)),
    );
    set(
        &mut v,
        "https_listener_arn",
        convert::opt(&arn_on(HTTPS_PORT)),
    );
    set(
        &mut v,
        "default_target_group_arn",
        convert::opt(&found.target_group),
    );
    if let Some(port) = found.target_port {
        set(&mut v, "default_target_port", Value::number(port));
    }
    if let Some(path) = &found.health_check_path {
        set(&mut v, "default_health_check_path", Value::string(path));
    }
    let mut listeners = found.listeners.clone();
    listeners.sort_by_key(|l| l.port);
    set(&mut v, "listeners", listeners_value(&listeners));
    // Tags added or changed outside Terraform show as a difference of tags_all.
    if let Some(tags) = &found.tags {
        set(&mut v, "tags_all", convert::map(tags));
    }
    v
}

fn creation_failed(diags: &mut Diagnostics, spec: &Spec, e: &AwsError) {
    let hint = if e.is_code(&["DuplicateLoadBalancerName", "DuplicateTargetGroupName"]) {
        " An object of this name already exists: import the load balancer with `terraform \
         import <address> <load balancer ARN>`, or choose another name."
    } else if e.is_code(&["CertificateNotFound"]) {
        " Check certificate_arn: the certificate must exist in ACM (or IAM) in this region."
    } else {
        " What was created so far is kept in state, so the next apply replaces it and a \
         destroy removes it."
    };
    diags.error(
        "Load Balancer Creation Failed",
        format!("Creating load balancer {:?} failed: {e}.{hint}", spec.name),
    );
}

#[cfg(test)]
mod tests {
    use aws_sdk_elasticloadbalancingv2::types::{ForwardActionConfig, TargetGroupTuple};

    use super::*;

    #[test]
    fn alb_names_follow_aws_rules() {
        assert!(alb_name_problems("atlas-staging").is_empty());
        assert!(alb_name_problems("a").is_empty());
        assert_eq!(alb_name_problems(&"a".repeat(33)).len(), 1);
        assert_eq!(alb_name_problems("atlas_staging").len(), 1);
        assert_eq!(alb_name_problems("-atlas").len(), 1);
        assert_eq!(alb_name_problems("atlas-").len(), 1);
        assert_eq!(alb_name_problems("internal-atlas").len(), 1);
        assert_eq!(alb_name_problems("Internal-atlas").len(), 1);
    }

    #[test]
    fn target_group_names_fit_in_32_characters() {
        assert_eq!(
            target_group_name("atlas-staging", 8080),
            "atlas-staging-8080"
        );
        let long = target_group_name(&"a".repeat(32), 65535);
        assert_eq!(long.len(), 32);
        assert!(long.ends_with("-65535"));
        // A cut that ends on a hyphen never gives a double hyphen.
        let cut = target_group_name(&format!("{}-{}", "a".repeat(26), "bbbb"), 8080);
        assert_eq!(cut, format!("{}-8080", "a".repeat(26)));
        assert!(alb_name_problems(&cut).is_empty());
    }

    fn desired() -> Desired {
        Desired {
            certificate_arn: "arn:aws:acm:eu-west-1:1:certificate/c".into(),
            ssl_policy: DEFAULT_SSL_POLICY.into(),
            target_group: Some("arn:tg".into()),
        }
    }

    fn listener(port: i32, protocol: ProtocolEnum, action: Action) -> Listener {
        let mut builder = Listener::builder()
            .listener_arn(format!("arn:listener/{port}"))
            .port(port)
            .protocol(protocol.clone())
            // Some answers carry a policy even on HTTP listeners.
            .ssl_policy(DEFAULT_SSL_POLICY)
            .default_actions(action);
        if protocol == ProtocolEnum::Https {
            builder = builder.certificates(
                Certificate::builder()
                    .certificate_arn("arn:aws:acm:eu-west-1:1:certificate/c")
                    .build(),
            );
        }
        builder.build()
    }

    #[test]
    fn listeners_as_created_match_the_desired_ones() {
        let [http, https] = desired().listeners();
        let read_http =
            ListenerView::from_listener(&listener(80, ProtocolEnum::Http, http.action()));
        let read_https =
            ListenerView::from_listener(&listener(443, ProtocolEnum::Https, https.action()));
        assert!(read_http.same_as(&http), "{read_http:?}");
        assert!(read_https.same_as(&https), "{read_https:?}");
        assert_eq!(
            read_http.redirect.as_deref(),
            Some("HTTPS://#{host}:443/#{path}?#{query} HTTP_301")
        );
    }

    #[test]
    fn a_forward_config_with_one_group_is_the_same_forward() {
        let [_, https] = desired().listeners();
        let action = Action::builder()
            .r#type(ActionTypeEnum::Forward)
            .forward_config(
                ForwardActionConfig::builder()
                    .target_groups(
                        TargetGroupTuple::builder()
                            .target_group_arn("arn:tg")
                            .weight(1)
                            .build(),
                    )
                    .build(),
            )
            .build();
        let read = ListenerView::from_listener(&listener(443, ProtocolEnum::Https, action));
        assert!(read.same_as(&https));
    }

    #[test]
    fn changed_default_actions_are_drift() {
        let [http, https] = desired().listeners();
        let fixed = Action::builder()
            .r#type(ActionTypeEnum::FixedResponse)
            .build();
        let read = ListenerView::from_listener(&listener(443, ProtocolEnum::Https, fixed.clone()));
        assert!(!read.same_as(&https));
        assert_eq!(read.action, "fixed-response");
        let read = ListenerView::from_listener(&listener(80, ProtocolEnum::Http, fixed));
        assert!(!read.same_as(&http));
        // A 302 instead of a 301.
        let found = Action::builder()
            .r#type(ActionTypeEnum::Redirect)
            .redirect_config(
                RedirectActionConfig::builder()
                    .protocol("HTTPS")
                    .port("443")
                    .status_code(RedirectActionStatusCodeEnum::Http302)
                    .build(),
            )
            .build();
        let read = ListenerView::from_listener(&listener(80, ProtocolEnum::Http, found));
        assert!(!read.same_as(&http));
        // Another certificate.
        let mut other = https.clone();
        other.certificate_arn = Some("arn:aws:acm:eu-west-1:1:certificate/other".into());
        assert!(!other.same_as(&https));
    }

    #[test]
    fn planned_forward_to_an_unknown_group_is_unknown() {
        let planned = Desired {
            target_group: None,
            ..desired()
        };
        let value = listeners_value(&planned.listeners());
        let https = &value.as_list().unwrap()[1];
        assert!(!https.get("target_group_arn").unwrap().is_known());
        assert_eq!(
            https.get("certificate_arn"),
            Some(&Value::string("arn:aws:acm:eu-west-1:1:certificate/c"))
        );
    }

    #[test]
    fn subnet_order_is_kept_when_the_members_are_the_same() {
        let current = Value::object([("subnet_ids", Value::strings(["subnet-b", "subnet-a"]))]);
        let mut state = current.clone();
        keep_order(
            &mut state,
            &current,
            "subnet_ids",
            &["subnet-a".into(), "subnet-b".into()],
        );
        assert_eq!(
            state.get("subnet_ids"),
            Some(&Value::strings(["subnet-b", "subnet-a"]))
        );
        keep_order(
            &mut state,
            &current,
            "subnet_ids",
            &["subnet-c".into(), "subnet-a".into()],
        );
        assert_eq!(
            state.get("subnet_ids"),
            Some(&Value::strings(["subnet-a", "subnet-c"]))
        );
    }
}
