//! The pure part of `atlas_service`: the typed inputs, the checks that catch at plan time
//! what AWS would reject late, the container definition and Service Connect configuration
//! sent to ECS, the rule priority, and the reading of AWS's answers back into inputs.
//!
//! Nothing here calls AWS, so all of it is unit-tested.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use aws_sdk_ecs::types::{
    ApplicationProtocol, ContainerDefinition, KeyValuePair, LogConfiguration, LogDriver,
    PortMapping, Secret, ServiceConnectClientAlias, ServiceConnectConfiguration,
    ServiceConnectService, TaskDefinition, TimeoutConfiguration, TransportProtocol,
};
use tfplugin::value::AttributePath;

/// The port name used when `container.port_name` is null.
pub(crate) const DEFAULT_PORT_NAME: &str = "http";

/// The health check path of an owned target group when none is given.
pub(crate) const DEFAULT_HEALTH_CHECK_PATH: &str = "/health";

/// The highest listener rule priority AWS accepts.
pub(crate) const MAX_PRIORITY: i64 = 50_000;

/// The Fargate task sizes: each CPU value (in CPU units) and the memory values (MiB) AWS
/// accepts with it.
pub(crate) fn fargate_memory_ok(cpu: i64, memory: i64) -> Option<bool> {
    let gib = |g: i64| g * 1024;
    let ok = match cpu {
        256 => [512, 1024, 2048].contains(&memory),
        512 => (1..=4).any(|g| gib(g) == memory),
        1024 => (2..=8).any(|g| gib(g) == memory),
        2048 => (4..=16).any(|g| gib(g) == memory),
        4096 => (8..=30).any(|g| gib(g) == memory),
        8192 => memory >= gib(16) && memory <= gib(60) && memory % gib(4) == 0,
        16384 => memory >= gib(32) && memory <= gib(120) && memory % gib(8) == 0,
        _ => return None,
    };
    Some(ok)
}

/// A value of the configuration that may not be known yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Field<T> {
    /// Unknown until apply.
    Unknown,
    /// Null: not set.
    Null,
    /// Set.
    Set(T),
}

impl<T> Field<T> {
    /// The value, when set.
    pub(crate) fn set(&self) -> Option<&T> {
        match self {
            Field::Set(v) => Some(v),
            _ => None,
        }
    }
}

/// The `container` block.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Container {
    /// The image.
    pub(crate) image: String,
    /// CPU units of the task and its container.
    pub(crate) cpu: i64,
    /// Memory of the task and its container, in MiB.
    pub(crate) memory: i64,
    /// The container port, if it has one.
    pub(crate) port: Option<i64>,
    /// The port's name as written (null = [`DEFAULT_PORT_NAME`]).
    pub(crate) port_name: Option<String>,
    /// `http`, `http2`, `grpc`, or none for plain TCP.
    pub(crate) app_protocol: Option<String>,
    /// Environment variables.
    pub(crate) environment: Option<BTreeMap<String, String>>,
    /// Secrets: variable name to the ARN of a Secrets Manager secret or SSM parameter.
    pub(crate) secrets: Option<BTreeMap<String, String>>,
    /// The CloudWatch Logs group of the awslogs driver, if any.
    pub(crate) log_group: Option<String>,
}

impl Container {
    /// The name of the container's port, defaulted.
    pub(crate) fn port_name(&self) -> &str {
        self.port_name.as_deref().unwrap_or(DEFAULT_PORT_NAME)
    }
}

/// One client alias of a Service Connect service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClientAlias {
    /// The DNS name clients use.
    pub(crate) dns_name: String,
    /// The port clients use.
    pub(crate) port: i64,
}

/// One `service_connect.service` block.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct ScService {
    /// The container port name it serves.
    pub(crate) port_name: String,
    /// The Cloud Map discovery name, if not the port name.
    pub(crate) discovery_name: Option<String>,
    /// Per-request timeout, HTTP-like protocols only.
    pub(crate) per_request_timeout_seconds: Option<i64>,
    /// Idle timeout.
    pub(crate) idle_timeout_seconds: Option<i64>,
    /// The client aliases.
    pub(crate) client_aliases: Vec<ClientAlias>,
}

/// The `service_connect` block.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct ServiceConnect {
    /// The namespace; none = the cluster's default.
    pub(crate) namespace: Option<String>,
    /// Server-mode services; empty = client only.
    pub(crate) services: Vec<ScService>,
}

/// The `route` block.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Route {
    /// The HTTPS listener the hostname rule goes on.
    pub(crate) listener_arn: Option<String>,
    /// The host names of the rule; empty = no rule.
    pub(crate) hostnames: Vec<String>,
    /// An existing target group; none = the service owns one.
    pub(crate) target_group_arn: Option<String>,
    /// The health check path of an owned target group.
    pub(crate) health_check_path: Option<String>,
}

/// A problem found at plan time, at the attribute it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    /// The attribute.
    pub(crate) path: AttributePath,
    /// Title Case summary.
    pub(crate) summary: &'static str,
    /// Full-sentence detail.
    pub(crate) detail: String,
}

impl Problem {
    fn new(path: AttributePath, summary: &'static str, detail: String) -> Self {
        Problem {
            path,
            summary,
            detail,
        }
    }
}

/// The container settings the cross-attribute checks need, each possibly unknown.
#[derive(Debug, Clone)]
pub(crate) struct ContainerDraft {
    /// `container.cpu`.
    pub(crate) cpu: Field<i64>,
    /// `container.memory`.
    pub(crate) memory: Field<i64>,
    /// `container.port`.
    pub(crate) port: Field<i64>,
    /// `container.port_name`.
    pub(crate) port_name: Field<String>,
    /// `container.app_protocol`.
    pub(crate) app_protocol: Field<String>,
}

/// One `service_connect.service` block as configured, possibly with unknowns.
#[derive(Debug, Clone)]
pub(crate) struct ScServiceDraft {
    /// `port_name`.
    pub(crate) port_name: Field<String>,
    /// `per_request_timeout_seconds`.
    pub(crate) per_request_timeout_seconds: Field<i64>,
    /// The number of `client_alias` blocks.
    pub(crate) client_aliases: usize,
}

/// The `route` block as configured, possibly with unknowns.
#[derive(Debug, Clone)]
pub(crate) struct RouteDraft {
    /// `listener_arn`.
    pub(crate) listener_arn: Field<String>,
    /// `hostnames`: unknown as a whole, or each element (unknown elements as `Unknown`).
    pub(crate) hostnames: Field<Vec<Field<String>>>,
    /// `target_group_arn`.
    pub(crate) target_group_arn: Field<String>,
    /// `health_check_path`.
    pub(crate) health_check_path: Field<String>,
}

/// Everything AWS would reject late, found from the configuration alone. Unknown values
/// are skipped: they are checked again when they are known.
pub(crate) fn check(
    container: &ContainerDraft,
    service_connect: Option<&[ScServiceDraft]>,
    route: Option<&RouteDraft>,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    let at = |steps: &[&str]| {
        steps
            .iter()
            .fold(AttributePath::new(), |path, step| path.attr(*step))
    };

    if let (Field::Set(cpu), Field::Set(memory)) = (&container.cpu, &container.memory) {
        match fargate_memory_ok(*cpu, *memory) {
            None => problems.push(Problem::new(
                at(&["container", "cpu"]),
                "Invalid Fargate CPU",
                format!(
                    "container.cpu is {cpu}, which Fargate does not offer. Use one of \
                     256, 512, 1024, 2048, 4096, 8192 or 16384."
                ),
            )),
            Some(false) => problems.push(Problem::new(
                at(&["container", "memory"]),
                "Invalid Fargate Memory",
                format!(
                    "container.memory is {memory} MiB, which Fargate does not offer with \
                     {cpu} CPU units. See the Fargate task sizes in the ECS documentation."
                ),
            )),
            Some(true) => {}
        }
    }

    let port_name = match &container.port_name {
        Field::Set(name) => Field::Set(name.clone()),
        Field::Null => Field::Set(DEFAULT_PORT_NAME.to_owned()),
        Field::Unknown => Field::Unknown,
    };
    if let Some(services) = service_connect {
        for (i, service) in services.iter().enumerate() {
            let base = AttributePath::new()
                .attr("service_connect")
                .attr("service")
                .index(i as u64);
            if container.port == Field::Null {
                problems.push(Problem::new(
                    base.clone().attr("port_name"),
                    "Service Connect Without A Port",
                    "A service_connect.service block serves a container port, but \
                     container.port is null. Set container.port, or remove the block for \
                     client-only Service Connect."
                        .to_owned(),
                ));
            }
            if let (Field::Set(wanted), Field::Set(have)) = (&service.port_name, &port_name) {
                if wanted != have {
                    problems.push(Problem::new(
                        base.clone().attr("port_name"),
                        "Unknown Port Name",
                        format!(
                            "service_connect.service[{i}].port_name is {wanted:?}, but the \
                             container's port is named {have:?}. ECS accepts only a port name \
                             of the task definition; use {have:?}."
                        ),
                    ));
                }
            }
            if service.per_request_timeout_seconds.set().is_some()
                && container.app_protocol == Field::Null
            {
                problems.push(Problem::new(
                    base.clone().attr("per_request_timeout_seconds"),
                    "Per-Request Timeout On A TCP Port",
                    format!(
                        "service_connect.service[{i}].per_request_timeout_seconds is set, but \
                         the container's port has no app_protocol, so it is plain TCP, where \
                         ECS rejects a per-request timeout. Set container.app_protocol to \
                         \"http\", \"http2\" or \"grpc\", or remove the timeout."
                    ),
                ));
            }
            if service.client_aliases != 1 {
                problems.push(Problem::new(
                    base.attr("client_alias"),
                    "Exactly One Client Alias Per Port",
                    format!(
                        "service_connect.service[{i}] has {} client_alias blocks; give exactly \
                         one per served port, the DNS name and port that clients use.",
                        service.client_aliases
                    ),
                ));
            }
        }
    }

    if let Some(route) = route {
        let base = AttributePath::new().attr("route");
        if container.port == Field::Null {
            problems.push(Problem::new(
                base.clone(),
                "Route Without A Port",
                "A route sends load balancer traffic to the container's port, but \
                 container.port is null. Set container.port or remove the route."
                    .to_owned(),
            ));
        }
        let hostnames_empty = matches!(&route.hostnames, Field::Null)
            || matches!(&route.hostnames, Field::Set(h) if h.is_empty());
        if hostnames_empty && route.target_group_arn == Field::Null {
            problems.push(Problem::new(
                base.clone(),
                "Route Without A Target",
                "The route has neither hostnames nor target_group_arn. Give hostnames for a \
                 listener rule, target_group_arn to register with an existing target group, \
                 or both."
                    .to_owned(),
            ));
        }
        if !hostnames_empty && route.listener_arn == Field::Null {
            problems.push(Problem::new(
                base.clone().attr("listener_arn"),
                "Missing Listener",
                "route.hostnames needs route.listener_arn, the HTTPS listener the rule goes on."
                    .to_owned(),
            ));
        }
        if route.target_group_arn.set().is_some() && route.health_check_path.set().is_some() {
            problems.push(Problem::new(
                base.clone().attr("health_check_path"),
                "Health Check Of A Target Group Not Owned",
                "route.health_check_path applies only to the target group the service owns; \
                 with route.target_group_arn set, that group's own health check applies. \
                 Remove one of the two."
                    .to_owned(),
            ));
        }
        if let Field::Set(hostnames) = &route.hostnames {
            let path = base.attr("hostnames");
            if hostnames.len() > 5 {
                problems.push(Problem::new(
                    path.clone(),
                    "Too Many Hostnames",
                    format!(
                        "route.hostnames has {} values; a listener rule condition takes at \
                         most 5.",
                        hostnames.len()
                    ),
                ));
            }
            let mut seen = Vec::new();
            for (i, host) in hostnames.iter().enumerate() {
                let Field::Set(host) = host else { continue };
                if !valid_hostname(host) {
                    problems.push(Problem::new(
                        path.clone().index(i as u64),
                        "Invalid Hostname",
                        format!(
                            "{host:?} is not a valid host name: use 1 to 128 characters of \
                             letters, digits, hyphens and dots, each label starting and ending \
                             with a letter or digit (a leading \"*.\" wildcard is allowed)."
                        ),
                    ));
                }
                let lower = host.to_ascii_lowercase();
                if seen.contains(&lower) {
                    problems.push(Problem::new(
                        path.clone().index(i as u64),
                        "Duplicate Hostname",
                        format!("route.hostnames lists {host:?} more than once."),
                    ));
                }
                seen.push(lower);
            }
        }
    }
    problems
}

/// Whether `host` is a host name a host-header condition can match.
pub(crate) fn valid_hostname(host: &str) -> bool {
    let host = host.strip_prefix("*.").unwrap_or(host);
    if host.is_empty() || host.len() > 128 {
        return false;
    }
    host.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    })
}

/// The host names in the form they are compared and hashed in: lowercase, sorted.
pub(crate) fn normalized_hostnames(hostnames: &[String]) -> Vec<String> {
    let mut hosts: Vec<String> = hostnames.iter().map(|h| h.to_ascii_lowercase()).collect();
    hosts.sort();
    hosts.dedup();
    hosts
}

/// The rule priority a set of host names starts its search from: a stable hash (FNV-1a)
/// of the sorted host names, in `1..=50000`. Stable across processes and releases, so
/// the same host names always ask for the same priority first.
pub(crate) fn preferred_priority(hostnames: &[String]) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in normalized_hostnames(hostnames).join(",").bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (hash % MAX_PRIORITY as u64) as i64 + 1
}

/// The first priority from [`preferred_priority`] upward (wrapping at 50000) that no rule
/// of the listener uses; `None` when every priority is taken.
pub(crate) fn first_free_priority(hostnames: &[String], taken: &[i64]) -> Option<i64> {
    let start = preferred_priority(hostnames);
    (0..MAX_PRIORITY)
        .map(|offset| (start - 1 + offset) % MAX_PRIORITY + 1)
        .find(|p| !taken.contains(p))
}

/// The claims of host names by the services planned in this provider process.
///
/// Terraform plans every resource of a configuration in one provider process, so two
/// `atlas_service` resources that claim one host name both pass through here.
#[derive(Debug, Default)]
pub(crate) struct HostnameClaims(Mutex<HashMap<String, String>>);

impl HostnameClaims {
    /// Records that `owner` (`<cluster>/<name>`) claims `hostnames`, replacing its earlier
    /// claims, and returns each host name already claimed by another owner, with that owner.
    pub(crate) fn claim(&self, owner: &str, hostnames: &[String]) -> Vec<(String, String)> {
        let Ok(mut claims) = self.0.lock() else {
            return Vec::new();
        };
        claims.retain(|_, o| o != owner);
        let mut conflicts = Vec::new();
        for host in normalized_hostnames(hostnames) {
            match claims.get(&host) {
                Some(other) => conflicts.push((host, other.clone())),
                None => {
                    claims.insert(host, owner.to_owned());
                }
            }
        }
        conflicts
    }
}

/// The `route` block as AWS has it: the target group the service registers with, the
/// host names of its rule (`None` when the rule is gone), and the owned group's health
/// check path. `prior` keeps the listener, and the nulls the user left to defaults.
pub(crate) fn route_from_aws(
    prior: Option<&Route>,
    service_target_group: Option<&str>,
    rule_hostnames: Option<&[String]>,
    health_check_path: Option<&str>,
) -> Option<Route> {
    let Some(prior) = prior else {
        // Registered with a load balancer outside Terraform.
        return service_target_group.map(|tg| Route {
            target_group_arn: Some(tg.to_owned()),
            ..Route::default()
        });
    };
    let owned = prior.target_group_arn.is_none();
    let hostnames = rule_hostnames.map(<[String]>::to_vec).unwrap_or_default();
    let health_check_path = match (owned, health_check_path) {
        (true, Some(p)) if p == DEFAULT_HEALTH_CHECK_PATH && prior.health_check_path.is_none() => {
            None
        }
        (true, Some(p)) => Some(p.to_owned()),
        _ => prior.health_check_path.clone(),
    };
    Some(Route {
        listener_arn: prior.listener_arn.clone(),
        hostnames,
        target_group_arn: if owned {
            None
        } else {
            service_target_group.map(str::to_owned)
        },
        health_check_path,
    })
}

/// The container definition of the task.
pub(crate) fn container_definition(
    name: &str,
    container: &Container,
    region: &str,
) -> ContainerDefinition {
    let mut def = ContainerDefinition::builder()
        .name(name)
        .image(&container.image)
        .essential(true)
        .cpu(container.cpu as i32)
        .memory(container.memory as i32);
    if let Some(port) = container.port {
        let mut mapping = PortMapping::builder()
            .container_port(port as i32)
            .protocol(TransportProtocol::Tcp)
            .name(container.port_name());
        if let Some(protocol) = &container.app_protocol {
            mapping = mapping.app_protocol(ApplicationProtocol::from(protocol.as_str()));
        }
        def = def.port_mappings(mapping.build());
    }
    for (key, value) in container.environment.iter().flatten() {
        def = def.environment(KeyValuePair::builder().name(key).value(value).build());
    }
    for (key, value_from) in container.secrets.iter().flatten() {
        if let Ok(secret) = Secret::builder().name(key).value_from(value_from).build() {
            def = def.secrets(secret);
        }
    }
    if let Some(group) = &container.log_group {
        let logs = LogConfiguration::builder()
            .log_driver(LogDriver::Awslogs)
            .options("awslogs-group", group)
            .options("awslogs-region", region)
            .options("awslogs-stream-prefix", name)
            .build();
        if let Ok(logs) = logs {
            def = def.log_configuration(logs);
        }
    }
    def.build()
}

/// The Service Connect configuration sent to ECS: enabled, the namespace when given, and
/// the server-mode services.
pub(crate) fn service_connect_configuration(sc: &ServiceConnect) -> ServiceConnectConfiguration {
    let mut config = ServiceConnectConfiguration::builder().enabled(true);
    if let Some(namespace) = &sc.namespace {
        config = config.namespace(namespace);
    }
    for service in &sc.services {
        let mut s = ServiceConnectService::builder().port_name(&service.port_name);
        if let Some(discovery) = &service.discovery_name {
            s = s.discovery_name(discovery);
        }
        for alias in &service.client_aliases {
            if let Ok(alias) = ServiceConnectClientAlias::builder()
                .dns_name(&alias.dns_name)
                .port(alias.port as i32)
                .build()
            {
                s = s.client_aliases(alias);
            }
        }
        if service.per_request_timeout_seconds.is_some() || service.idle_timeout_seconds.is_some() {
            s = s.timeout(
                TimeoutConfiguration::builder()
                    .set_per_request_timeout_seconds(
                        service.per_request_timeout_seconds.map(|t| t as i32),
                    )
                    .set_idle_timeout_seconds(service.idle_timeout_seconds.map(|t| t as i32))
                    .build(),
            );
        }
        if let Ok(s) = s.build() {
            config = config.services(s);
        }
    }
    config.build()
}

/// Service Connect as ECS reports it on the PRIMARY deployment, in the form of the
/// `service_connect` block; `prior` keeps what the user left to AWS's defaults (a null
/// namespace, a null discovery name) where AWS's value matches that default.
pub(crate) fn service_connect_from_aws(
    aws: Option<&ServiceConnectConfiguration>,
    prior: Option<&ServiceConnect>,
) -> Option<ServiceConnect> {
    let aws = aws.filter(|c| c.enabled())?;
    let namespace = match (aws.namespace(), prior.and_then(|p| p.namespace.as_deref())) {
        (_, None) => None,
        (Some(theirs), Some(ours)) if same_namespace(theirs, ours) => Some(ours.to_owned()),
        (theirs, Some(_)) => theirs.map(str::to_owned),
    };
    let services = aws
        .services()
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let prior_service = prior.and_then(|p| p.services.get(i));
            let discovery_name = match s.discovery_name() {
                None => None,
                Some(d)
                    if d == s.port_name()
                        && prior_service.is_some_and(|p| p.discovery_name.is_none()) =>
                {
                    None
                }
                Some(d) => Some(d.to_owned()),
            };
            ScService {
                port_name: s.port_name().to_owned(),
                discovery_name,
                per_request_timeout_seconds: s
                    .timeout()
                    .and_then(|t| t.per_request_timeout_seconds())
                    .map(i64::from),
                idle_timeout_seconds: s
                    .timeout()
                    .and_then(|t| t.idle_timeout_seconds())
                    .map(i64::from),
                client_aliases: s
                    .client_aliases()
                    .iter()
                    .map(|a| ClientAlias {
                        dns_name: a.dns_name().unwrap_or_default().to_owned(),
                        port: i64::from(a.port()),
                    })
                    .collect(),
            }
        })
        .collect();
    Some(ServiceConnect {
        namespace,
        services,
    })
}

/// Whether two namespace references (a name, an id or an ARN) name the same namespace.
fn same_namespace(a: &str, b: &str) -> bool {
    let last = |s: &str| s.rsplit('/').next().unwrap_or(s).to_owned();
    a == b || last(a) == last(b)
}

/// The `container` block as the task definition describes it; `prior` keeps a null
/// port name and null maps where AWS shows their defaults.
pub(crate) fn container_from_task_definition(
    name: &str,
    task: &TaskDefinition,
    prior: Option<&Container>,
) -> Option<Container> {
    let def = task
        .container_definitions()
        .iter()
        .find(|c| c.name() == Some(name))
        .or_else(|| task.container_definitions().first())?;
    let mapping = def.port_mappings().first();
    let port_name = mapping.and_then(|m| m.name()).and_then(|n| {
        let prior_null = prior.is_none_or(|p| p.port_name.is_none());
        (!(n == DEFAULT_PORT_NAME && prior_null)).then(|| n.to_owned())
    });
    let map_or_prior = |entries: BTreeMap<String, String>,
                        prior: Option<&Option<BTreeMap<String, String>>>| {
        if entries.is_empty() && !matches!(prior, Some(Some(p)) if !p.is_empty()) {
            prior.cloned().flatten()
        } else {
            Some(entries)
        }
    };
    let environment = def
        .environment()
        .iter()
        .filter_map(|kv| Some((kv.name()?.to_owned(), kv.value()?.to_owned())))
        .collect();
    let secrets = def
        .secrets()
        .iter()
        .map(|s| (s.name().to_owned(), s.value_from().to_owned()))
        .collect();
    let log_group = def
        .log_configuration()
        .filter(|l| l.log_driver() == &LogDriver::Awslogs)
        .and_then(|l| l.options())
        .and_then(|o| o.get("awslogs-group"))
        .cloned();
    let number = |task_level: Option<&str>, container_level: i32| {
        task_level
            .and_then(|s| s.parse::<i64>().ok())
            .unwrap_or(i64::from(container_level))
    };
    Some(Container {
        image: def.image().unwrap_or_default().to_owned(),
        cpu: number(task.cpu(), def.cpu()),
        memory: number(task.memory(), def.memory().unwrap_or_default()),
        port: mapping.and_then(|m| m.container_port()).map(i64::from),
        port_name,
        app_protocol: mapping
            .and_then(|m| m.app_protocol())
            .map(|p| p.as_str().to_owned()),
        environment: map_or_prior(environment, prior.map(|p| &p.environment)),
        secrets: map_or_prior(secrets, prior.map(|p| &p.secrets)),
        log_group,
    })
}

/// The family and revision of a task definition ARN
/// (`arn:aws:ecs:eu-west-1:1:task-definition/scoring:3` gives `("scoring", 3)`).
pub(crate) fn family_revision(arn: &str) -> Option<(&str, i64)> {
    let tail = arn.rsplit_once('/').map_or(arn, |(_, t)| t);
    let (family, revision) = tail.rsplit_once(':')?;
    Some((family, revision.parse().ok()?))
}

/// The name of the target group a service owns: its name made target-group safe (at
/// most 23 characters of letters, digits and hyphens) and 8 hex digits of a hash of
/// `<cluster>/<name>`, so two services of one name in two clusters do not collide and
/// the name stays within ELBv2's 32 characters.
pub(crate) fn target_group_name(cluster: &str, name: &str) -> String {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in format!("{}/{name}", cluster_name(cluster)).bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    let safe: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(23)
        .collect();
    let safe = safe.trim_matches('-');
    if safe.is_empty() {
        format!("svc-{hash:08x}")
    } else {
        format!("{safe}-{hash:08x}")
    }
}

/// The cluster name of a cluster ARN or name.
pub(crate) fn cluster_name(cluster: &str) -> &str {
    cluster.rsplit('/').next().unwrap_or(cluster)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container() -> ContainerDraft {
        ContainerDraft {
            cpu: Field::Set(512),
            memory: Field::Set(1024),
            port: Field::Set(8083),
            port_name: Field::Null,
            app_protocol: Field::Set("http".to_owned()),
        }
    }

    fn server(port_name: &str, timeout: Option<i64>, aliases: usize) -> ScServiceDraft {
        ScServiceDraft {
            port_name: Field::Set(port_name.to_owned()),
            per_request_timeout_seconds: timeout.map_or(Field::Null, Field::Set),
            client_aliases: aliases,
        }
    }

    fn route(hosts: &[&str], listener: bool, tg: bool) -> RouteDraft {
        let set = |b: bool, v: &str| {
            if b {
                Field::Set(v.to_owned())
            } else {
                Field::Null
            }
        };
        RouteDraft {
            listener_arn: set(listener, "arn:listener"),
            hostnames: if hosts.is_empty() {
                Field::Null
            } else {
                Field::Set(hosts.iter().map(|h| Field::Set((*h).to_owned())).collect())
            },
            target_group_arn: set(tg, "arn:tg"),
            health_check_path: Field::Null,
        }
    }

    fn paths(problems: &[Problem]) -> Vec<String> {
        problems.iter().map(|p| p.path.to_string()).collect()
    }

    #[test]
    fn a_server_with_one_alias_and_an_http_timeout_passes() {
        let problems = check(&container(), Some(&[server("http", Some(30), 1)]), None);
        assert_eq!(problems, vec![]);
    }

    #[test]
    fn per_request_timeout_on_tcp_names_the_attribute() {
        let mut c = container();
        c.app_protocol = Field::Null;
        let problems = check(&c, Some(&[server("http", Some(30), 1)]), None);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].summary, "Per-Request Timeout On A TCP Port");
        assert!(paths(&problems)[0].contains("per_request_timeout_seconds"));
    }

    #[test]
    fn an_unknown_app_protocol_defers_the_timeout_check() {
        let mut c = container();
        c.app_protocol = Field::Unknown;
        assert!(check(&c, Some(&[server("http", Some(30), 1)]), None).is_empty());
    }

    #[test]
    fn unknown_port_name_and_missing_alias_are_errors() {
        let problems = check(&container(), Some(&[server("grpc", None, 0)]), None);
        let summaries: Vec<_> = problems.iter().map(|p| p.summary).collect();
        assert_eq!(
            summaries,
            vec!["Unknown Port Name", "Exactly One Client Alias Per Port"]
        );
    }

    #[test]
    fn client_only_needs_no_port() {
        let mut c = container();
        c.port = Field::Null;
        assert!(check(&c, Some(&[]), None).is_empty());
        assert_eq!(
            check(&c, Some(&[server("http", None, 1)]), None)[0].summary,
            "Service Connect Without A Port"
        );
    }

    #[test]
    fn fargate_sizes_are_checked() {
        let mut c = container();
        c.memory = Field::Set(256);
        assert_eq!(check(&c, None, None)[0].summary, "Invalid Fargate Memory");
        c.cpu = Field::Set(300);
        assert_eq!(check(&c, None, None)[0].summary, "Invalid Fargate CPU");
        assert_eq!(fargate_memory_ok(8192, 20 * 1024), Some(true));
        assert_eq!(fargate_memory_ok(8192, 18 * 1024), Some(false));
    }

    #[test]
    fn route_rules() {
        assert!(check(
            &container(),
            None,
            Some(&route(&["a.example.com"], true, false))
        )
        .is_empty());
        assert!(check(&container(), None, Some(&route(&[], false, true))).is_empty());
        assert_eq!(
            check(&container(), None, Some(&route(&[], false, false)))[0].summary,
            "Route Without A Target"
        );
        assert_eq!(
            check(
                &container(),
                None,
                Some(&route(&["a.example.com"], false, false))
            )[0]
            .summary,
            "Missing Listener"
        );
        let dup = check(
            &container(),
            None,
            Some(&route(&["a.example.com", "A.example.com"], true, false)),
        );
        assert_eq!(dup[0].summary, "Duplicate Hostname");
        let bad = check(
            &container(),
            None,
            Some(&route(&["-a.example.com"], true, false)),
        );
        assert_eq!(bad[0].summary, "Invalid Hostname");
        let mut c = container();
        c.port = Field::Null;
        assert_eq!(
            check(&c, None, Some(&route(&[], false, true)))[0].summary,
            "Route Without A Port"
        );
    }

    #[test]
    fn hostnames() {
        assert!(valid_hostname("kafka-ui.staging.example.com"));
        assert!(valid_hostname("*.example.com"));
        assert!(!valid_hostname("a..b"));
        assert!(!valid_hostname("a_b.example.com"));
        assert!(!valid_hostname(""));
    }

    #[test]
    fn priority_is_deterministic_and_order_insensitive() {
        let a = vec!["b.example.com".to_owned(), "a.example.com".to_owned()];
        let b = vec!["A.example.com".to_owned(), "b.example.com".to_owned()];
        let p = preferred_priority(&a);
        assert_eq!(p, preferred_priority(&b));
        assert!((1..=MAX_PRIORITY).contains(&p));
        assert_ne!(p, preferred_priority(&["c.example.com".to_owned()]));
    }

    #[test]
    fn first_free_priority_skips_taken_and_wraps() {
        let hosts = vec!["a.example.com".to_owned()];
        let p = preferred_priority(&hosts);
        assert_eq!(first_free_priority(&hosts, &[]), Some(p));
        assert_eq!(
            first_free_priority(&hosts, &[p]),
            Some(p % MAX_PRIORITY + 1)
        );
        let all: Vec<i64> = (1..=MAX_PRIORITY).collect();
        assert_eq!(first_free_priority(&hosts, &all), None);
    }

    #[test]
    fn claims_conflict_between_owners_only() {
        let claims = HostnameClaims::default();
        let hosts = vec!["a.example.com".to_owned()];
        assert!(claims.claim("c/one", &hosts).is_empty());
        // The same resource planned again is no conflict.
        assert!(claims.claim("c/one", &hosts).is_empty());
        let conflicts = claims.claim("c/two", &["A.example.com".to_owned()]);
        assert_eq!(
            conflicts,
            vec![("a.example.com".to_owned(), "c/one".to_owned())]
        );
    }

    #[test]
    fn service_connect_round_trips_with_defaults_kept_null() {
        let sc = ServiceConnect {
            namespace: None,
            services: vec![ScService {
                port_name: "http".to_owned(),
                discovery_name: None,
                per_request_timeout_seconds: Some(30),
                idle_timeout_seconds: None,
                client_aliases: vec![ClientAlias {
                    dns_name: "camunda".to_owned(),
                    port: 8080,
                }],
            }],
        };
        let aws = service_connect_configuration(&sc);
        assert!(aws.enabled());
        assert_eq!(
            aws.services()[0]
                .timeout()
                .unwrap()
                .per_request_timeout_seconds(),
            Some(30)
        );
        // AWS fills in the namespace and the discovery name.
        let filled = aws
            .to_owned()
            .into_builder_for_test("arn:aws:servicediscovery:eu-west-1:1:namespace/ns-1");
        assert_eq!(
            service_connect_from_aws(Some(&filled), Some(&sc)),
            Some(sc.clone())
        );
        // A timeout changed outside Terraform shows.
        let mut drifted = sc.clone();
        drifted.services[0].per_request_timeout_seconds = Some(5);
        let back =
            service_connect_from_aws(Some(&service_connect_configuration(&drifted)), Some(&sc));
        assert_eq!(back, Some(drifted));
        // Disabled or missing reads as no Service Connect.
        let off = ServiceConnectConfiguration::builder()
            .enabled(false)
            .build();
        assert_eq!(service_connect_from_aws(Some(&off), Some(&sc)), None);
    }

    /// What AWS returns for a configuration sent without namespace and discovery name.
    trait Filled {
        fn into_builder_for_test(self, namespace: &str) -> ServiceConnectConfiguration;
    }

    impl Filled for ServiceConnectConfiguration {
        fn into_builder_for_test(self, namespace: &str) -> ServiceConnectConfiguration {
            let mut b = ServiceConnectConfiguration::builder()
                .enabled(true)
                .namespace(namespace);
            for s in self.services() {
                let mut s = s.clone();
                if s.discovery_name().is_none() {
                    s = ServiceConnectService::builder()
                        .port_name(s.port_name())
                        .discovery_name(s.port_name())
                        .set_client_aliases(Some(s.client_aliases().to_vec()))
                        .set_timeout(s.timeout().cloned())
                        .build()
                        .unwrap();
                }
                b = b.services(s);
            }
            b.build()
        }
    }

    fn prior_route(tg: Option<&str>) -> Route {
        Route {
            listener_arn: Some("arn:listener".to_owned()),
            hostnames: vec!["a.example.com".to_owned()],
            target_group_arn: tg.map(str::to_owned),
            health_check_path: None,
        }
    }

    #[test]
    fn route_in_sync_reads_back_as_configured() {
        let prior = prior_route(None);
        let hosts = ["a.example.com".to_owned()];
        let read = route_from_aws(Some(&prior), Some("arn:own"), Some(&hosts), Some("/health"));
        assert_eq!(read, Some(prior));
    }

    #[test]
    fn route_drift_shows() {
        // The rule deleted, the host names changed, the health check changed.
        let prior = prior_route(None);
        let gone = route_from_aws(Some(&prior), Some("arn:own"), None, Some("/health")).unwrap();
        assert!(gone.hostnames.is_empty());
        let other = ["b.example.com".to_owned()];
        let changed = route_from_aws(Some(&prior), Some("arn:own"), Some(&other), Some("/x"));
        let changed = changed.unwrap();
        assert_eq!(changed.hostnames, other);
        assert_eq!(changed.health_check_path.as_deref(), Some("/x"));
        // A given target group swapped for another.
        let given = prior_route(Some("arn:default"));
        let swapped = route_from_aws(Some(&given), Some("arn:other"), None, None).unwrap();
        assert_eq!(swapped.target_group_arn.as_deref(), Some("arn:other"));
        // A load balancer added outside Terraform.
        let added = route_from_aws(None, Some("arn:tg"), None, None).unwrap();
        assert_eq!(added.target_group_arn.as_deref(), Some("arn:tg"));
        assert_eq!(route_from_aws(None, None, None, None), None);
    }

    #[test]
    fn container_round_trips_through_a_task_definition() {
        let c = Container {
            image: "repo/scoring:1".to_owned(),
            cpu: 512,
            memory: 1024,
            port: Some(8083),
            port_name: None,
            app_protocol: Some("http".to_owned()),
            environment: Some(BTreeMap::from([("A".to_owned(), "1".to_owned())])),
            secrets: None,
            log_group: Some("/atlas/scoring".to_owned()),
        };
        let def = container_definition("scoring", &c, "eu-west-1");
        assert_eq!(def.port_mappings()[0].name(), Some("http"));
        let logs = def.log_configuration().unwrap().options().unwrap();
        assert_eq!(logs["awslogs-stream-prefix"], "scoring");
        let task = TaskDefinition::builder()
            .cpu("512")
            .memory("1024")
            .container_definitions(def)
            .build();
        assert_eq!(
            container_from_task_definition("scoring", &task, Some(&c)),
            Some(c)
        );
    }

    #[test]
    fn arns() {
        assert_eq!(
            family_revision("arn:aws:ecs:eu-west-1:1:task-definition/scoring:3"),
            Some(("scoring", 3))
        );
        assert_eq!(
            cluster_name("arn:aws:ecs:eu-west-1:1:cluster/atlas"),
            "atlas"
        );
        assert_eq!(cluster_name("atlas"), "atlas");
    }

    #[test]
    fn target_group_names_fit_elbv2() {
        let long = "a_very_long_service_name_that_goes_on_and_on";
        let name = target_group_name("arn:aws:ecs:eu-west-1:1:cluster/atlas", long);
        assert!(name.len() <= 32, "{name}");
        assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
        assert!(!name.starts_with('-') && !name.ends_with('-'));
        assert_ne!(name, target_group_name("other", long));
        assert_eq!(name, target_group_name("atlas", long));
    }
}
