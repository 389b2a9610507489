//! `atlas_service`: one Fargate service of the Atlas design, with its task definition,
//! its Service Connect settings and its optional route on the ingress's HTTPS listener.
//!
//! The resource owns the task family named after the service, the listener rule for its
//! host names and, unless it is given one, the target group it registers with. What AWS
//! would reject only late in a deployment (a per-request timeout on a TCP port, a Service
//! Connect port name the task does not have, a client alias missing) and two services
//! claiming one host name fail at plan time, at the attribute concerned. This file holds
//! the schema and the Terraform side; `model` the pure logic and `ops` the AWS calls.

mod model;
mod ops;

pub(crate) use ops::RuleView;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tfplugin::diag::Diagnostics;
use tfplugin::resource::{split_import_id, Context, Plan, Resource, Timeouts};
use tfplugin::schema::{Attribute, Block, NestedBlock, Schema};
use tfplugin::validate;
use tfplugin::value::{AttributePath, Type, Value};

use crate::aws::AwsError;
use crate::convert;
use crate::provider::Shared;
use crate::tags::{merge, plan_tags_all, TagsValidator};
use model::{
    ClientAlias, Container, ContainerDraft, Field, HostnameClaims, Route, RouteDraft, ScService,
    ScServiceDraft, ServiceConnect,
};
use ops::{ServiceSpec, ServiceView};

/// The `atlas_service` resource.
#[derive(Debug)]
pub(crate) struct ServiceResource {
    shared: Arc<Shared>,
    claims: HostnameClaims,
}

impl ServiceResource {
    /// The resource, reading the provider configuration from `shared`.
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        ServiceResource {
            shared,
            claims: HostnameClaims::default(),
        }
    }
}

fn computed(name: &str, ty: Type, description: &str) -> Attribute {
    Attribute::computed(name, ty).description(description)
}

fn container_block() -> Block {
    Block::new(vec![
        Attribute::required("image", Type::String)
            .description("The container image, such as `123456789012.dkr.ecr.eu-west-1.amazonaws.com/scoring:1.4.2`.")
            .validate(validate::string_length(1, 1024)),
        Attribute::required("cpu", Type::Number)
            .description("CPU units of the task: 256, 512, 1024, 2048, 4096, 8192 or 16384."),
        Attribute::required("memory", Type::Number)
            .description("Memory of the task in MiB, one of the values Fargate offers with `cpu`."),
        Attribute::optional("port", Type::Number)
            .description("The container port; null for a container that serves nothing.")
            .validate(validate::port()),
        Attribute::optional("port_name", Type::String)
            .description("The name of the port, which Service Connect refers to. Null means `http`.")
            .validate(validate::regex(r"^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$", "lowercase letters, digits and inner hyphens, 1 to 64 characters")),
        Attribute::optional("app_protocol", Type::String)
            .description("The application protocol of the port: `http`, `http2` or `grpc`. Null means plain TCP.")
            .validate(validate::one_of(&["http", "http2", "grpc"])),
        Attribute::optional("environment", Type::map(Type::String))
            .description("Environment variables."),
        Attribute::optional("secrets", Type::map(Type::String))
            .description("Environment variables read from Secrets Manager secrets or SSM parameters, by ARN.")
            .validate(validate::each(validate::regex(r"^arn:[a-z-]+:(secretsmanager|ssm):", "the ARN of a Secrets Manager secret or an SSM parameter"))),
        Attribute::optional("log_group", Type::String)
            .description("The CloudWatch Logs group of the `awslogs` driver (stream prefix: the service name). Null means no log configuration.")
            .validate(validate::string_length(1, 512)),
    ])
    .description("The one container of the task.")
}

fn service_connect_block() -> Block {
    let alias = Block::new(vec![
        Attribute::required("dns_name", Type::String)
            .description("The DNS name clients use, such as `scoring`.")
            .validate(validate::string_length(1, 255)),
        Attribute::required("port", Type::Number)
            .description("The port clients use.")
            .validate(validate::port()),
    ]);
    let service = Block::new(vec![
        Attribute::required("port_name", Type::String)
            .description("The container port served: must equal `container.port_name` (`http` when that is null)."),
        Attribute::optional("discovery_name", Type::String)
            .description("The Cloud Map service name; null means the port name.")
            .validate(validate::string_length(1, 64)),
        Attribute::optional("per_request_timeout_seconds", Type::Number)
            .description("The per-request timeout; only for ports with an `app_protocol`.")
            .validate(validate::int_between(0, 2_147_483_647)),
        Attribute::optional("idle_timeout_seconds", Type::Number)
            .description("How long a connection may stay idle.")
            .validate(validate::int_between(0, 2_147_483_647)),
    ])
    .with_block(NestedBlock::list("client_alias", alias, 0, 0));
    Block::new(vec![Attribute::optional("namespace", Type::String)
        .description(
        "The Cloud Map namespace (name or ARN); null means the cluster's Service Connect default.",
    )])
    .with_block(NestedBlock::list("service", service, 0, 0))
    .description("Service Connect. Without `service` blocks the service is a client only.")
}

fn route_block() -> Block {
    Block::new(vec![
        Attribute::optional("listener_arn", Type::String)
            .description("The HTTPS listener the host-name rule goes on; required with `hostnames`."),
        Attribute::optional("hostnames", Type::list(Type::String))
            .description("Host names the rule matches (1 to 5); null or empty means no rule.")
            .validate(validate::size_between(0, 5)),
        Attribute::optional("target_group_arn", Type::String)
            .description("An existing target group to register with, such as the ingress's default target group. Null means the service creates and owns one (target type `ip`, HTTP, the container port)."),
        Attribute::optional("health_check_path", Type::String)
            .description("The health check path of the owned target group; null means `/health`.")
            .validate(validate::string_length(1, 1024)),
    ])
    .description("The service's place behind the application load balancer.")
}

#[async_trait]
impl Resource for ServiceResource {
    fn type_name(&self) -> &'static str {
        "atlas_service"
    }

    fn schema(&self) -> Schema {
        let mut container = NestedBlock::single("container", container_block());
        container.min_items = 1;
        container.max_items = 1;
        Schema::new(
            Block::new(vec![
                computed("id", Type::String, "The service ARN. Import with `<cluster name>/<service name>`.")
                    .use_state_for_unknown(),
                computed("arn", Type::String, "The service ARN.").use_state_for_unknown(),
                Attribute::required("name", Type::String)
                    .description("The service name, also its task family and container name.")
                    .requires_replace()
                    .validate(validate::string_length(1, 255))
                    .validate(validate::chars(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_', "letters, digits, hyphens and underscores")),
                Attribute::required("cluster_arn", Type::String)
                    .description("The ECS cluster, such as `atlas_cluster.this.arn`.")
                    .requires_replace()
                    .validate(validate::string_length(1, 2048)),
                Attribute::required("subnet_ids", Type::list(Type::String))
                    .description("The private subnets of the tasks. Tasks never get a public IP.")
                    .validate(validate::size_between(1, 16)),
                Attribute::required("security_group_ids", Type::list(Type::String))
                    .description("The security groups of the tasks.")
                    .validate(validate::size_between(1, 5)),
                Attribute::optional("desired_count", Type::Number)
                    .description("How many tasks run.")
                    .default(Value::number(1i64))
                    .validate(validate::int_between(0, 1000)),
                Attribute::optional("execution_role_arn", Type::String)
                    .description("The role ECS uses to pull the image, read secrets and write logs."),
                Attribute::optional("task_role_arn", Type::String)
                    .description("The role the container's code runs as."),
                Attribute::optional("wait_for_steady_state", Type::Bool)
                    .description("Whether create and update wait until the deployment is steady, within their timeouts.")
                    .default(Value::Bool(false)),
                Attribute::optional("tags", Type::map(Type::String))
                    .description("Tags of the service, task definition, target group and rule, over the provider's `default_tags`.")
                    .validate(TagsValidator),
                computed("tags_all", Type::map(Type::String), "`default_tags` merged with `tags`."),
                computed("task_definition_arn", Type::String, "The task definition revision the service runs."),
                computed("target_group_arn", Type::String, "The target group the service registers with (owned or given); null without a route."),
                computed("rule_arn", Type::String, "The listener rule; null without host names."),
                computed("rule_priority", Type::Number, "The rule's priority, derived from the host names and kept; null without host names.")
                    .use_state_for_unknown(),
            ])
            .with_block(container)
            .with_block(NestedBlock::single("service_connect", service_connect_block()))
            .with_block(NestedBlock::single("route", route_block()))
            .description("One Fargate service: task definition, Service Connect and an optional host-name route on the ingress."),
        )
    }

    fn timeouts(&self) -> Option<Timeouts> {
        Some(Timeouts {
            create: Duration::from_secs(20 * 60),
            read: Duration::from_secs(5 * 60),
            update: Duration::from_secs(20 * 60),
            delete: Duration::from_secs(20 * 60),
        })
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let Some(container) = config.get("container").filter(|c| c.is_known()) else {
            return;
        };
        if container.is_null() {
            diags.error_at(
                AttributePath::new().attr("container"),
                "Missing Container",
                "atlas_service needs a container block: image, cpu and memory at least.",
            );
            return;
        }
        let draft = container_draft(container);
        let sc = config
            .get("service_connect")
            .filter(|v| v.is_known() && !v.is_null());
        let services: Option<Vec<ScServiceDraft>> = match sc {
            None => None,
            Some(sc) => match sc.get("service") {
                Some(Value::List(items)) => Some(items.iter().map(sc_service_draft).collect()),
                Some(v) if !v.is_known() => None,
                _ => Some(Vec::new()),
            },
        };
        let route = config
            .get("route")
            .filter(|v| v.is_known() && !v.is_null())
            .map(route_draft);
        for problem in model::check(&draft, services.as_deref(), route.as_ref()) {
            diags.error_at(problem.path, problem.summary, problem.detail);
        }
    }

    async fn modify_plan(&self, _ctx: &Context, plan: &mut Plan<'_>, diags: &mut Diagnostics) {
        // tags_all is known whenever the tags are.
        plan_tags_all(plan, &self.shared.default_tags());

        let creating = plan.is_create();
        let prior = plan.prior.clone();
        let prior_get = |name: &str| prior.get(name).cloned().unwrap_or(Value::Null);

        // A new revision whenever the task's inputs change.
        let task_inputs = ["container", "execution_role_arn", "task_role_arn"];
        let task_changed = creating
            || task_inputs
                .iter()
                .any(|name| plan.planned.get(name) != prior.get(name));
        plan.set(
            "task_definition_arn",
            if task_changed {
                Value::unknown()
            } else {
                prior_get("task_definition_arn")
            },
        );

        // The target group: given, owned (kept once created) or none.
        let route = plan.get("route").clone();
        let prior_route = prior_get("route");
        let prior_owned = !prior_route.is_null()
            && prior_route
                .get("target_group_arn")
                .is_some_and(Value::is_null);
        let target_group = if route.is_null() {
            Value::Null
        } else if !route.is_known() {
            Value::unknown()
        } else {
            match route.get("target_group_arn") {
                Some(Value::Null) | None if prior_owned && !creating => {
                    let kept = prior_get("target_group_arn");
                    if kept.is_null() {
                        Value::unknown()
                    } else {
                        kept
                    }
                }
                Some(Value::Null) | None => Value::unknown(),
                Some(given) => given.clone(),
            }
        };
        plan.set("target_group_arn", target_group);

        // The rule: kept while its listener stays, created when there is none.
        let hostnames = if route.is_null() {
            Field::Null
        } else {
            match route.get("hostnames") {
                Some(v) if !v.is_wholly_known() => Field::Unknown,
                Some(Value::List(items)) if !items.is_empty() => Field::Set(
                    items
                        .iter()
                        .filter_map(|h| h.as_str().map(str::to_owned))
                        .collect::<Vec<_>>(),
                ),
                _ => Field::Null,
            }
        };
        let same_listener = route.get("listener_arn") == prior_route.get("listener_arn");
        let prior_rule = prior_get("rule_arn");
        match &hostnames {
            Field::Null => {
                plan.set("rule_arn", Value::Null);
                plan.set("rule_priority", Value::Null);
            }
            _ if !creating && same_listener && !prior_rule.is_null() => {
                plan.set("rule_arn", prior_rule);
                plan.set("rule_priority", prior_get("rule_priority"));
            }
            _ => {
                plan.set("rule_arn", Value::unknown());
                plan.set("rule_priority", Value::unknown());
            }
        }

        // Host names claimed by two services of this configuration.
        let Field::Set(hostnames) = hostnames else {
            return;
        };
        let name = plan.get("name").as_str().unwrap_or_default().to_owned();
        let cluster = plan
            .get("cluster_arn")
            .as_str()
            .map_or("(known after apply)", model::cluster_name)
            .to_owned();
        let owner = format!("{cluster}/{name}");
        let path = AttributePath::new().attr("route").attr("hostnames");
        for (host, other) in self.claims.claim(&owner, &hostnames) {
            diags.error_at(
                path.clone(),
                "Hostname Claimed Twice",
                format!(
                    "The host name {host:?} is claimed by atlas_service {owner} and by \
                     atlas_service {other}. A listener rule sends a host name to one service \
                     only; remove it from one of the two."
                ),
            );
        }

        // A rule of the listener that this service does not own, matching a host name,
        // checked on every plan (a rule made elsewhere later can take the traffic); the
        // services on one listener share the read.
        let Some(listener) = route.get("listener_arn").and_then(Value::as_str) else {
            return;
        };
        let mut scratch = Diagnostics::new();
        let Some(configured) = self.shared.get(&mut scratch) else {
            return;
        };
        let own_rule = prior_get("rule_arn");
        let wanted = model::normalized_hostnames(&hostnames);
        let conflicts =
            match conflicting_rules(&configured.aws, listener, &own_rule, &wanted, &owner).await {
                Ok(conflicts) => conflicts,
                // The listener may be created in the same apply; the rule's creation checks
                // the priority again, and the plan after it the host names.
                Err(e) => {
                    tracing::debug!(error = %e, "listener rules not readable at plan time");
                    Vec::new()
                }
            };
        for (arn, host) in conflicts {
            diags.error_at(
                path.clone(),
                "Hostname Already Routed",
                format!(
                    "The listener already has rule {arn} for the host name {host:?}, and this \
                     service does not own it. Remove that rule or this host name."
                ),
            );
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
        let aws = &configured.aws;
        let Some(inputs) = Inputs::from(planned) else {
            diags.bug("The planned atlas_service has unknown inputs at apply");
            return None;
        };
        let tags = merge(
            &configured.default_tags,
            &convert::string_map(planned.get("tags")),
        );
        let mut made = Made::default();
        let failed = |diags: &mut Diagnostics, what: &str, e: &AwsError| {
            diags.error(
                "Service Creation Failed",
                format!(
                    "{what} for atlas_service {:?} failed: {e}. What was created is in state \
                     (tainted): the next apply replaces it, and destroy removes it.",
                    inputs.name
                ),
            );
        };

        // 1. The task definition, and beside it a look for a service of this name in the
        // cluster. One this resource made (its owner tag) is what a create interrupted
        // before Terraform saved its state left: it is taken over below. Any other is
        // refused, and the revision just registered deregistered, before anything else
        // is made.
        let owner = inputs.owner();
        let task = inputs.task(&tags);
        let (found, registered) = tokio::join!(
            ops::describe_service(aws, &inputs.cluster, &inputs.name),
            ops::register_task_definition(aws, &task),
        );
        let leftover = match found {
            Ok(Some(view)) if view.owner.as_deref() == Some(owner.as_str()) => {
                tracing::info!(service_arn = %view.arn, "taking over the service of an interrupted create");
                Ok(Some(view))
            }
            Ok(None) => Ok(None),
            Ok(Some(view)) => {
                diags.error_at(
                    AttributePath::new().attr("name"),
                    "Service Already Exists",
                    format!(
                        "The cluster already has an ECS service named {:?} ({}), which this \
                         atlas_service did not create. Choose another name, delete that \
                         service, or bring it under Terraform with `terraform import \
                         <address> {}/{}`.",
                        inputs.name,
                        view.arn,
                        model::cluster_name(&inputs.cluster),
                        inputs.name
                    ),
                );
                Err(())
            }
            Err(e) => {
                failed(diags, "Looking for a service of the same name", &e);
                Err(())
            }
        };
        let Ok(leftover) = leftover else {
            if let Ok(arn) = &registered {
                if let Err(e) = ops::deregister_revision(aws, arn).await {
                    failed(
                        diags,
                        "Deregistering the task definition just registered",
                        &e,
                    );
                }
            }
            return None;
        };
        match registered {
            Ok(arn) => made.task_definition = Some(arn),
            Err(e) => {
                failed(diags, "Registering the task definition", &e);
                return None;
            }
        }

        // 2. The owned target group, when the route has none.
        if let Some(route) = &inputs.route {
            match &route.target_group_arn {
                Some(given) => made.target_group = Some(given.clone()),
                None => match create_owned_group(aws, &inputs, route, &tags).await {
                    Ok(arn) => {
                        made.target_group = Some(arn.clone());
                        made.owned_group = Some(arn);
                    }
                    Err(e) => {
                        failed(diags, "Creating the target group", &e);
                        return Some(state_value(planned, &made, &tags));
                    }
                },
            }
        }

        // 3. The host-name rule.
        if let (Some(route), Some(target_group)) = (&inputs.route, &made.target_group) {
            if let (Some(listener), false) = (&route.listener_arn, route.hostnames.is_empty()) {
                match ops::create_rule(
                    aws,
                    listener,
                    &route.hostnames,
                    target_group,
                    &inputs.owner(),
                    &tags,
                )
                .await
                {
                    Ok((arn, priority)) => made.rule = Some((arn, priority)),
                    Err(e) => {
                        failed(diags, "Creating the listener rule", &e);
                        return Some(state_value(planned, &made, &tags));
                    }
                }
            }
        }

        // 4. The service, or the leftover rolled to what is asked; beside it (off the
        // critical path) the revisions an interrupted create registered and no service
        // runs are deregistered.
        let spec = inputs.spec(&made, &tags);
        let current = made.task_definition.clone().unwrap_or_default();
        let keep = [current.as_str()];
        let service = async {
            match &leftover {
                Some(view) => adopt_service(aws, view, &spec).await,
                None => ops::create_service(aws, &spec).await,
            }
        };
        let stale = ops::deregister_stale_revisions(aws, &inputs.name, &owner, &keep);
        let (outcome, cleaned) = tokio::join!(service, stale);
        match outcome {
            Ok(arn) => made.service = Some(arn),
            Err(e) => {
                failed(diags, "Creating the ECS service", &e);
                return Some(state_value(planned, &made, &tags));
            }
        }
        if let Err(e) = cleaned {
            failed(diags, "Deregistering leftover task definitions", &e);
            return Some(state_value(planned, &made, &tags));
        }

        // 5. The wait, when asked for.
        if inputs.wait {
            wait(ctx, aws, &inputs, &made, diags).await;
        }
        Some(state_value(planned, &made, &tags))
    }

    async fn read(
        &self,
        _ctx: &Context,
        current: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let configured = self.shared.get(diags)?;
        let aws = &configured.aws;
        let (cluster, service) = match convert::opt_string(current, "arn") {
            Some(arn) => (convert::string(current, "cluster_arn"), arn),
            None => match convert::opt_string(current, "id") {
                // An import: `<cluster name>/<service name>`.
                Some(id) if !id.starts_with("arn:") => {
                    let (cluster, name) = id.split_once('/').unwrap_or(("", &id));
                    (cluster.to_owned(), name.to_owned())
                }
                Some(id) => (convert::string(current, "cluster_arn"), id),
                // Created halfway: no service exists, the rest is removed by destroy.
                None => return Some(current.clone()),
            },
        };
        let failed = |diags: &mut Diagnostics, e: &AwsError| {
            diags.error(
                "Cannot Read Service",
                format!("Reading atlas_service {service}: {e}."),
            );
        };

        let view = match ops::describe_service(aws, &cluster, &service).await {
            Ok(Some(view)) => view,
            Ok(None) => {
                diags.warning(
                    "Service Gone",
                    format!(
                        "The ECS service {service} no longer exists (or is no longer ACTIVE), so \
                         it was removed from state. The next apply creates it again."
                    ),
                );
                return None;
            }
            Err(e) => {
                failed(diags, &e);
                return Some(current.clone());
            }
        };
        // A revision never changes once registered: while the service runs the revision
        // state records, the container in state is what AWS has, and reading it again
        // would only cost a call per service on every plan.
        let recorded = convert::opt_string(current, "task_definition_arn");
        let task = if recorded.as_deref() == Some(view.task_definition.as_str()) {
            None
        } else {
            match ops::describe_task_definition(aws, &view.task_definition).await {
                Ok(task) => task,
                Err(e) => {
                    failed(diags, &e);
                    return Some(current.clone());
                }
            }
        };
        let rule = match convert::opt_string(current, "rule_arn") {
            Some(arn) => match ops::describe_rule(aws, &arn).await {
                Ok(rule) => rule.map(|r| (arn, r)),
                Err(e) => {
                    failed(diags, &e);
                    return Some(current.clone());
                }
            },
            None => None,
        };
        let prior_route = route_from(current.get("route"));
        let owned = prior_route
            .as_ref()
            .is_some_and(|r| r.target_group_arn.is_none());
        let health = match (&view.target_group, owned) {
            (Some(tg), true) => match ops::target_group_health_path(aws, tg).await {
                Ok(path) => path.flatten(),
                Err(e) => {
                    failed(diags, &e);
                    return Some(current.clone());
                }
            },
            _ => None,
        };
        Some(read_state(
            current,
            &cluster,
            &view,
            task.as_ref(),
            rule,
            health,
        ))
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
        let Some(inputs) = Inputs::from(planned) else {
            diags.bug("The planned atlas_service has unknown inputs at apply");
            return Some(prior.clone());
        };
        let tags = merge(
            &configured.default_tags,
            &convert::string_map(planned.get("tags")),
        );
        let prior_route = route_from(prior.get("route"));
        let prior_owned = prior_route
            .as_ref()
            .filter(|r| r.target_group_arn.is_none())
            .and_then(|_| convert::opt_string(prior, "target_group_arn"));
        let prior_rule = convert::opt_string(prior, "rule_arn");
        let mut made = Made {
            service: convert::opt_string(prior, "arn"),
            task_definition: convert::opt_string(prior, "task_definition_arn"),
            target_group: convert::opt_string(prior, "target_group_arn"),
            owned_group: prior_owned.clone(),
            rule: prior_rule
                .clone()
                .zip(convert::opt_i64(prior, "rule_priority")),
        };
        let failed = |diags: &mut Diagnostics, what: &str, e: &AwsError| {
            diags.error(
                "Service Update Failed",
                format!(
                    "{what} for atlas_service {:?} failed: {e}. The state records what was \
                     done; the next plan shows what still differs.",
                    inputs.name
                ),
            );
        };

        // 1. A new task definition revision when the task changed.
        if !planned
            .get("task_definition_arn")
            .is_some_and(Value::is_known)
        {
            match ops::register_task_definition(aws, &inputs.task(&tags)).await {
                Ok(arn) => made.task_definition = Some(arn),
                Err(e) => {
                    failed(diags, "Registering the task definition", &e);
                    return Some(prior.clone());
                }
            }
        }

        // 2. The target group: the given one, the owned one (created if missing) or none.
        made.target_group = None;
        let mut drop_owned = prior_owned.clone();
        if let Some(route) = &inputs.route {
            match &route.target_group_arn {
                Some(given) => made.target_group = Some(given.clone()),
                None => {
                    let owned = match &prior_owned {
                        Some(arn) => arn.clone(),
                        None => match create_owned_group(aws, &inputs, route, &tags).await {
                            Ok(arn) => arn,
                            Err(e) => {
                                failed(diags, "Creating the target group", &e);
                                return Some(state_value(prior, &made, &tags));
                            }
                        },
                    };
                    drop_owned = None;
                    let path = route
                        .health_check_path
                        .as_deref()
                        .unwrap_or(model::DEFAULT_HEALTH_CHECK_PATH);
                    let prior_path = prior_route
                        .as_ref()
                        .and_then(|r| r.health_check_path.as_deref())
                        .unwrap_or(model::DEFAULT_HEALTH_CHECK_PATH);
                    if prior_owned.is_some() && path != prior_path {
                        if let Err(e) = ops::set_health_check_path(aws, &owned, path).await {
                            failed(diags, "Changing the health check path", &e);
                            return Some(state_value(prior, &made, &tags));
                        }
                    }
                    made.target_group = Some(owned.clone());
                    made.owned_group = Some(owned);
                }
            }
        }
        if drop_owned.is_some() {
            made.owned_group = None;
        }

        // 3. The rule: changed in place while the listener stays, else replaced.
        let mut drop_rule = None;
        let wanted_rule = inputs.route.as_ref().and_then(|r| {
            let listener = r.listener_arn.as_ref()?;
            (!r.hostnames.is_empty()).then_some((listener, &r.hostnames))
        });
        let keep_rule = planned.get("rule_arn").and_then(Value::as_str);
        match (wanted_rule, &made.target_group) {
            (Some((listener, hostnames)), Some(target_group)) => match keep_rule {
                Some(arn) => {
                    if let Err(e) = ops::modify_rule(aws, arn, hostnames, target_group).await {
                        failed(diags, "Changing the listener rule", &e);
                        return Some(state_value(prior, &made, &tags));
                    }
                }
                None => {
                    drop_rule = prior_rule.clone();
                    match ops::create_rule(
                        aws,
                        listener,
                        hostnames,
                        target_group,
                        &inputs.owner(),
                        &tags,
                    )
                    .await
                    {
                        Ok(rule) => made.rule = Some(rule),
                        Err(e) => {
                            failed(diags, "Creating the listener rule", &e);
                            return Some(state_value(prior, &made, &tags));
                        }
                    }
                }
            },
            _ => {
                drop_rule = prior_rule.clone();
                made.rule = None;
            }
        }

        // 4. The service, rolled in place.
        let spec = inputs.spec(&made, &tags);
        let Some(arn) = made.service.clone() else {
            diags.bug("atlas_service has no service ARN to update");
            return Some(prior.clone());
        };
        if let Err(e) = ops::update_service(aws, &arn, &spec).await {
            failed(diags, "Updating the ECS service", &e);
            return Some(state_value(prior, &made, &tags));
        }
        let have = convert::string_map(prior.get("tags_all"));
        if let Err(e) = ops::sync_tags(aws, &arn, &have, &tags).await {
            failed(diags, "Tagging the ECS service", &e);
            return Some(state_value(prior, &made, &tags));
        }
        // The revision the service ran before stays, for the circuit breaker's rollback;
        // older ones, and any an interrupted update registered, go.
        let current = made.task_definition.clone().unwrap_or_default();
        let previous = convert::opt_string(prior, "task_definition_arn").unwrap_or_default();
        if let Err(e) = ops::deregister_stale_revisions(
            aws,
            &inputs.name,
            &inputs.owner(),
            &[&current, &previous],
        )
        .await
        {
            failed(diags, "Deregistering old task definitions", &e);
            return Some(state_value(planned, &made, &tags));
        }

        // 5. What the service no longer uses.
        if let Some(rule) = drop_rule.filter(|r| Some(r) != made.rule.as_ref().map(|m| &m.0)) {
            if let Err(e) = ops::delete_rule(aws, &rule).await {
                failed(diags, "Deleting the old listener rule", &e);
            }
        }
        if let Some(group) = drop_owned {
            if let Err(e) =
                ops::delete_target_group(aws, &group, ctx.deadline(), ctx.cancel_token()).await
            {
                failed(diags, "Deleting the old target group", &e);
            }
        }

        // 6. The wait, when asked for.
        if inputs.wait {
            wait(ctx, aws, &inputs, &made, diags).await;
        }
        Some(state_value(planned, &made, &tags))
    }

    async fn delete(&self, ctx: &Context, prior: &Value, diags: &mut Diagnostics) {
        let Some(configured) = self.shared.get(diags) else {
            return;
        };
        let aws = &configured.aws;
        let name = convert::string(prior, "name");
        let cluster = convert::string(prior, "cluster_arn");
        let failed = |diags: &mut Diagnostics, what: &str, e: &AwsError| {
            diags.error(
                "Service Deletion Failed",
                format!(
                    "{what} of atlas_service {name:?} failed: {e}. It stays in state; destroy \
                     again to finish."
                ),
            );
        };

        // 1. The service: scaled to zero, deleted, INACTIVE.
        if let Some(arn) = convert::opt_string(prior, "arn") {
            if let Err(e) =
                ops::delete_service(aws, &cluster, &arn, ctx.deadline(), ctx.cancel_token()).await
            {
                failed(diags, "Deleting the ECS service", &e);
                return;
            }
        }

        // 2. The rule, then the owned target group it forwarded to.
        if let Some(rule) = convert::opt_string(prior, "rule_arn") {
            if let Err(e) = ops::delete_rule(aws, &rule).await {
                failed(diags, "Deleting the listener rule", &e);
                return;
            }
        }
        let owned = route_from(prior.get("route")).is_some_and(|r| r.target_group_arn.is_none());
        if let (true, Some(group)) = (owned, convert::opt_string(prior, "target_group_arn")) {
            if let Err(e) =
                ops::delete_target_group(aws, &group, ctx.deadline(), ctx.cancel_token()).await
            {
                failed(diags, "Deleting the target group", &e);
                return;
            }
        }

        // 3. Every revision of the task family.
        let owner = format!("{}/{name}", model::cluster_name(&cluster));
        if let Err(e) = ops::deregister_family(aws, &name, &owner).await {
            failed(diags, "Deregistering the task definitions", &e);
        }
    }

    async fn import(&self, _ctx: &Context, id: &str, diags: &mut Diagnostics) -> Option<Value> {
        let parts = split_import_id(id, '/', &["cluster name", "service name"], diags)?;
        let mut state = tfplugin::plan::null_object(&self.schema().value_type());
        tfplugin::plan::set_attr(&mut state, tfplugin::plan::TIMEOUTS_BLOCK, Value::Null);
        tfplugin::plan::set_attr(&mut state, "id", Value::string(id));
        tfplugin::plan::set_attr(&mut state, "name", Value::string(parts[1]));
        tfplugin::plan::set_attr(&mut state, "cluster_arn", Value::string(parts[0]));
        tfplugin::plan::set_attr(&mut state, "wait_for_steady_state", Value::Bool(false));
        Some(state)
    }
}

/// The rules of `listener`, other than `own_rule` and those tagged as created by
/// `owner`, that match one of `wanted`: `(rule ARN, host name)`.
async fn conflicting_rules(
    aws: &crate::aws::AwsClients,
    listener: &str,
    own_rule: &Value,
    wanted: &[String],
    owner: &str,
) -> Result<Vec<(String, String)>, AwsError> {
    let mut conflicts = Vec::new();
    for (arn, rule) in ops::shared_listener_rules(aws, listener).await? {
        if own_rule.as_str() == Some(arn.as_str()) {
            continue;
        }
        let theirs = model::normalized_hostnames(&rule.hostnames);
        for host in wanted.iter().filter(|h| theirs.contains(h)) {
            conflicts.push((arn.clone(), host.clone()));
        }
    }
    if conflicts.is_empty() {
        return Ok(conflicts);
    }
    let arns: Vec<String> = conflicts.iter().map(|(arn, _)| arn.clone()).collect();
    let owners = ops::rule_owners(aws, &arns).await?;
    conflicts.retain(|(arn, _)| owners.get(arn).map(String::as_str) != Some(owner));
    Ok(conflicts)
}

/// The inputs of a plan or state, all known.
#[derive(Debug, Clone)]
struct Inputs {
    name: String,
    cluster: String,
    subnets: Vec<String>,
    groups: Vec<String>,
    desired_count: i64,
    execution_role_arn: Option<String>,
    task_role_arn: Option<String>,
    wait: bool,
    container: Container,
    service_connect: Option<ServiceConnect>,
    route: Option<Route>,
}

impl Inputs {
    fn from(v: &Value) -> Option<Inputs> {
        let inputs = [
            "name",
            "cluster_arn",
            "subnet_ids",
            "security_group_ids",
            "desired_count",
            "execution_role_arn",
            "task_role_arn",
            "container",
            "service_connect",
            "route",
        ];
        if inputs
            .iter()
            .any(|name| !v.get(name).is_some_and(Value::is_wholly_known))
        {
            return None;
        }
        Some(Inputs {
            name: convert::string(v, "name"),
            cluster: convert::string(v, "cluster_arn"),
            subnets: convert::opt_string_list(v, "subnet_ids").unwrap_or_default(),
            groups: convert::opt_string_list(v, "security_group_ids").unwrap_or_default(),
            desired_count: convert::opt_i64(v, "desired_count").unwrap_or(1),
            execution_role_arn: convert::opt_string(v, "execution_role_arn"),
            task_role_arn: convert::opt_string(v, "task_role_arn"),
            wait: convert::bool_or(v, "wait_for_steady_state", false),
            container: container_from(v.get("container")?)?,
            service_connect: service_connect_from(v.get("service_connect")),
            route: route_from(v.get("route")),
        })
    }

    /// `<cluster name>/<service name>`, the value of the rule's owner tag.
    fn owner(&self) -> String {
        format!("{}/{}", model::cluster_name(&self.cluster), self.name)
    }

    fn spec(&self, made: &Made, tags: &BTreeMap<String, String>) -> ServiceSpec {
        ServiceSpec {
            name: self.name.clone(),
            cluster: self.cluster.clone(),
            subnets: self.subnets.clone(),
            groups: self.groups.clone(),
            desired_count: self.desired_count,
            task_definition: made.task_definition.clone().unwrap_or_default(),
            service_connect: self.service_connect.clone(),
            load_balancer: made.target_group.clone().zip(self.container.port),
            tags: tags.clone(),
            owner: self.owner(),
        }
    }

    fn task<'a>(&'a self, tags: &'a BTreeMap<String, String>) -> ops::TaskSpec<'a> {
        ops::TaskSpec {
            name: &self.name,
            container: &self.container,
            execution_role_arn: self.execution_role_arn.as_deref(),
            task_role_arn: self.task_role_arn.as_deref(),
            tags,
            owner: self.owner(),
        }
    }
}

/// What exists in AWS for the service.
#[derive(Debug, Clone, Default)]
struct Made {
    service: Option<String>,
    task_definition: Option<String>,
    target_group: Option<String>,
    owned_group: Option<String>,
    rule: Option<(String, i64)>,
}

/// Rolls the service an interrupted create left to `spec`, with `spec`'s tags; returns its
/// ARN.
async fn adopt_service(
    aws: &crate::aws::AwsClients,
    view: &ops::ServiceView,
    spec: &ops::ServiceSpec,
) -> Result<String, AwsError> {
    ops::update_service(aws, &view.arn, spec).await?;
    ops::sync_tags(aws, &view.arn, &view.tags, &spec.tags).await?;
    Ok(view.arn.clone())
}

async fn create_owned_group(
    aws: &crate::aws::AwsClients,
    inputs: &Inputs,
    route: &Route,
    tags: &BTreeMap<String, String>,
) -> Result<String, AwsError> {
    let subnet = inputs.subnets.first().cloned().unwrap_or_default();
    let vpc = ops::subnet_vpc(aws, &subnet).await?;
    ops::create_target_group(
        aws,
        &model::target_group_name(&inputs.cluster, &inputs.name),
        &vpc,
        inputs.container.port.unwrap_or(80),
        route
            .health_check_path
            .as_deref()
            .unwrap_or(model::DEFAULT_HEALTH_CHECK_PATH),
        tags,
        &inputs.owner(),
    )
    .await
}

async fn wait(
    ctx: &Context,
    aws: &crate::aws::AwsClients,
    inputs: &Inputs,
    made: &Made,
    diags: &mut Diagnostics,
) {
    let Some(arn) = &made.service else { return };
    if let Err(e) = ops::wait_steady(
        aws,
        &inputs.cluster,
        arn,
        ctx.deadline(),
        ctx.cancel_token(),
    )
    .await
    {
        diags.error(
            "Service Not Steady",
            format!(
                "The ECS service {arn} did not reach a steady deployment within the timeout: \
                 {e}. The service exists and is in state (tainted). Look at the service's \
                 events and stopped tasks for why its tasks do not start, raise the \
                 create/update timeout, or set wait_for_steady_state = false."
            ),
        );
    }
}

/// The state after create or update: `base` with every computed value known.
fn state_value(base: &Value, made: &Made, tags: &BTreeMap<String, String>) -> Value {
    let mut v = base.clone();
    let mut set = |name: &str, value: Value| tfplugin::plan::set_attr(&mut v, name, value);
    set("id", convert::opt(&made.service));
    set("arn", convert::opt(&made.service));
    set("task_definition_arn", convert::opt(&made.task_definition));
    set("target_group_arn", convert::opt(&made.target_group));
    set(
        "rule_arn",
        convert::opt(&made.rule.as_ref().map(|r| r.0.clone())),
    );
    set(
        "rule_priority",
        made.rule
            .as_ref()
            .map_or(Value::Null, |r| Value::number(r.1)),
    );
    set("tags_all", convert::map(tags));
    v
}

/// The state as AWS has it, keeping `current`'s inputs where AWS shows their defaults.
fn read_state(
    current: &Value,
    cluster: &str,
    view: &ServiceView,
    // `None` when the revision was not read (unchanged) or no longer exists: the
    // container in `current` stays.
    task: Option<&aws_sdk_ecs::types::TaskDefinition>,
    rule: Option<(String, ops::RuleView)>,
    health_check_path: Option<String>,
) -> Value {
    let mut v = current.clone();
    let name = view.arn.rsplit('/').next().unwrap_or_default().to_owned();
    let mut set = |name: &str, value: Value| tfplugin::plan::set_attr(&mut v, name, value);
    set("id", Value::string(&view.arn));
    set("arn", Value::string(&view.arn));
    set("name", Value::string(&name));
    // An import knows only the cluster's name.
    let imported = current.get("cluster_arn").and_then(Value::as_str) == Some(cluster)
        && !cluster.starts_with("arn:");
    if let (true, Some(arn)) = (imported, &view.cluster_arn) {
        set("cluster_arn", Value::string(arn));
    }
    set("desired_count", Value::number(view.desired_count));
    set("subnet_ids", convert::strings(&view.subnets));
    set("security_group_ids", convert::strings(&view.groups));
    set("task_definition_arn", Value::string(&view.task_definition));
    set("target_group_arn", convert::opt(&view.target_group));

    let prior_container = current.get("container").and_then(container_from);
    if let Some(container) =
        task.and_then(|t| model::container_from_task_definition(&name, t, prior_container.as_ref()))
    {
        set("container", container_value(&container));
    }
    let prior_sc = service_connect_from(current.get("service_connect"));
    let sc = model::service_connect_from_aws(view.service_connect.as_ref(), prior_sc.as_ref());
    set("service_connect", service_connect_value(sc.as_ref()));

    let prior_route = route_from(current.get("route"));
    let route = model::route_from_aws(
        prior_route.as_ref(),
        view.target_group.as_deref(),
        rule.as_ref().map(|(_, r)| r.hostnames.as_slice()),
        health_check_path.as_deref(),
    );
    let prior_hostnames_null = current
        .get("route")
        .and_then(|r| r.get("hostnames"))
        .is_none_or(Value::is_null);
    set("route", route_value(route.as_ref(), prior_hostnames_null));
    match &rule {
        Some((arn, r)) => {
            // A rule turned to another target group shows as a target group change.
            if r.target_group.is_some() && r.target_group != view.target_group {
                set("target_group_arn", convert::opt(&r.target_group));
            }
            set("rule_arn", Value::string(arn));
            if let Some(p) = r.priority {
                set("rule_priority", Value::number(p));
            }
        }
        None => set("rule_arn", Value::Null),
    }
    let tags: BTreeMap<String, String> = view.tags.clone();
    set("tags_all", convert::map(&tags));
    v
}

fn field_str(v: &Value, name: &str) -> Field<String> {
    match v.get(name) {
        None | Some(Value::Null) => Field::Null,
        Some(x) if !x.is_known() => Field::Unknown,
        Some(x) => x.as_str().map_or(Field::Null, |s| Field::Set(s.to_owned())),
    }
}

fn field_i64(v: &Value, name: &str) -> Field<i64> {
    match v.get(name) {
        None | Some(Value::Null) => Field::Null,
        Some(x) if !x.is_known() => Field::Unknown,
        Some(x) => x.as_i64().map_or(Field::Null, Field::Set),
    }
}

fn container_draft(v: &Value) -> ContainerDraft {
    ContainerDraft {
        cpu: field_i64(v, "cpu"),
        memory: field_i64(v, "memory"),
        port: field_i64(v, "port"),
        port_name: field_str(v, "port_name"),
        app_protocol: field_str(v, "app_protocol"),
    }
}

fn sc_service_draft(v: &Value) -> ScServiceDraft {
    ScServiceDraft {
        port_name: field_str(v, "port_name"),
        per_request_timeout_seconds: field_i64(v, "per_request_timeout_seconds"),
        client_aliases: v
            .get("client_alias")
            .and_then(Value::as_list)
            .map_or(1, <[Value]>::len),
    }
}

fn route_draft(v: &Value) -> RouteDraft {
    let hostnames = match v.get("hostnames") {
        None | Some(Value::Null) => Field::Null,
        Some(x) if !x.is_known() => Field::Unknown,
        Some(x) => Field::Set(
            x.as_list()
                .unwrap_or_default()
                .iter()
                .map(|h| match h {
                    Value::Null => Field::Null,
                    h if !h.is_known() => Field::Unknown,
                    h => h.as_str().map_or(Field::Null, |s| Field::Set(s.to_owned())),
                })
                .collect(),
        ),
    };
    RouteDraft {
        listener_arn: field_str(v, "listener_arn"),
        hostnames,
        target_group_arn: field_str(v, "target_group_arn"),
        health_check_path: field_str(v, "health_check_path"),
    }
}

fn opt_map(v: &Value, name: &str) -> Option<BTreeMap<String, String>> {
    v.get(name)
        .filter(|m| !m.is_null())
        .map(|m| convert::string_map(Some(m)))
}

fn container_from(v: &Value) -> Option<Container> {
    if v.is_null() || !v.is_wholly_known() {
        return None;
    }
    Some(Container {
        image: convert::string(v, "image"),
        cpu: convert::opt_i64(v, "cpu")?,
        memory: convert::opt_i64(v, "memory")?,
        port: convert::opt_i64(v, "port"),
        port_name: convert::opt_string(v, "port_name"),
        app_protocol: convert::opt_string(v, "app_protocol"),
        environment: opt_map(v, "environment"),
        secrets: opt_map(v, "secrets"),
        log_group: convert::opt_string(v, "log_group"),
    })
}

fn service_connect_from(v: Option<&Value>) -> Option<ServiceConnect> {
    let v = v.filter(|v| !v.is_null())?;
    let services = v
        .get("service")
        .and_then(Value::as_list)
        .unwrap_or_default()
        .iter()
        .map(|s| ScService {
            port_name: convert::string(s, "port_name"),
            discovery_name: convert::opt_string(s, "discovery_name"),
            per_request_timeout_seconds: convert::opt_i64(s, "per_request_timeout_seconds"),
            idle_timeout_seconds: convert::opt_i64(s, "idle_timeout_seconds"),
            client_aliases: s
                .get("client_alias")
                .and_then(Value::as_list)
                .unwrap_or_default()
                .iter()
                .map(|a| ClientAlias {
                    dns_name: convert::string(a, "dns_name"),
                    port: convert::opt_i64(a, "port").unwrap_or_default(),
                })
                .collect(),
        })
        .collect();
    Some(ServiceConnect {
        namespace: convert::opt_string(v, "namespace"),
        services,
    })
}

fn route_from(v: Option<&Value>) -> Option<Route> {
    let v = v.filter(|v| !v.is_null())?;
    Some(Route {
        listener_arn: convert::opt_string(v, "listener_arn"),
        hostnames: convert::opt_string_list(v, "hostnames").unwrap_or_default(),
        target_group_arn: convert::opt_string(v, "target_group_arn"),
        health_check_path: convert::opt_string(v, "health_check_path"),
    })
}

fn opt_number(n: Option<i64>) -> Value {
    n.map_or(Value::Null, Value::number)
}

fn opt_map_value(m: &Option<BTreeMap<String, String>>) -> Value {
    m.as_ref().map_or(Value::Null, convert::map)
}

fn container_value(c: &Container) -> Value {
    Value::object([
        ("image", Value::string(&c.image)),
        ("cpu", Value::number(c.cpu)),
        ("memory", Value::number(c.memory)),
        ("port", opt_number(c.port)),
        ("port_name", convert::opt(&c.port_name)),
        ("app_protocol", convert::opt(&c.app_protocol)),
        ("environment", opt_map_value(&c.environment)),
        ("secrets", opt_map_value(&c.secrets)),
        ("log_group", convert::opt(&c.log_group)),
    ])
}

fn service_connect_value(sc: Option<&ServiceConnect>) -> Value {
    let Some(sc) = sc else { return Value::Null };
    let services = sc
        .services
        .iter()
        .map(|s| {
            Value::object([
                ("port_name", Value::string(&s.port_name)),
                ("discovery_name", convert::opt(&s.discovery_name)),
                (
                    "per_request_timeout_seconds",
                    opt_number(s.per_request_timeout_seconds),
                ),
                ("idle_timeout_seconds", opt_number(s.idle_timeout_seconds)),
                (
                    "client_alias",
                    Value::List(
                        s.client_aliases
                            .iter()
                            .map(|a| {
                                Value::object([
                                    ("dns_name", Value::string(&a.dns_name)),
                                    ("port", Value::number(a.port)),
                                ])
                            })
                            .collect(),
                    ),
                ),
            ])
        })
        .collect();
    Value::object([
        ("namespace", convert::opt(&sc.namespace)),
        ("service", Value::List(services)),
    ])
}

fn route_value(route: Option<&Route>, hostnames_null_when_empty: bool) -> Value {
    let Some(r) = route else { return Value::Null };
    let hostnames = if r.hostnames.is_empty() && hostnames_null_when_empty {
        Value::Null
    } else {
        convert::strings(&r.hostnames)
    };
    Value::object([
        ("listener_arn", convert::opt(&r.listener_arn)),
        ("hostnames", hostnames),
        ("target_group_arn", convert::opt(&r.target_group_arn)),
        ("health_check_path", convert::opt(&r.health_check_path)),
    ])
}
