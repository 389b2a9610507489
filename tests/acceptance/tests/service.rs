//! `atlas_service` against the emulator: the four Service Connect shapes of the Atlas
//! design and the events ingestion service on the ingress's default target group,
//! drift in each repaired by apply, the refresh of the services sharing its calls, the
//! plan-time errors that reach no AWS API, the steady-state wait running out cleanly,
//! and a destroy that leaves nothing behind.
//! Prerequisites come from `atlas_acceptance::service_fixture` (the AWS SDK); every
//! check goes through the ECS and ELBv2 APIs.

use std::collections::BTreeMap;

use atlas_acceptance::service_fixture::ServiceFixture;
use atlas_acceptance::{Emulator, PlanOutcome, Workspace};
use aws_sdk_ecs::types::{Service, ServiceConnectConfiguration, TaskDefinitionStatus};
use aws_sdk_elasticloadbalancingv2::types::{HostHeaderConditionConfig, RuleCondition};

const ROOT: &str = "tests/acceptance/tests/fixtures/service";

/// The services of the design: scoring and Camunda as Service Connect servers, the
/// dashboard backend as a client with a host-name route to a target group it owns,
/// Kafka UI routed by host name only, and events ingestion on the default target group.
const DESIGN: &str = r#"
resource "atlas_service" "scoring" {
  name               = "scoring"
  cluster_arn        = var.cluster_arn
  subnet_ids         = var.subnet_ids
  security_group_ids = var.security_group_ids
  desired_count      = 2

  container {
    image        = "example/scoring:1"
    cpu          = 512
    memory       = 1024
    port         = 8083
    app_protocol = "http"
    environment  = { MODEL = "v3" }
  }

  service_connect {
    service {
      port_name      = "http"
      discovery_name = "scoring"
      client_alias {
        dns_name = "scoring"
        port     = 8083
      }
    }
  }
}

resource "atlas_service" "camunda" {
  name               = "camunda"
  cluster_arn        = var.cluster_arn
  subnet_ids         = var.subnet_ids
  security_group_ids = var.security_group_ids

  container {
    image        = "example/camunda:7"
    cpu          = 1024
    memory       = 2048
    port         = 8080
    app_protocol = "http"
  }

  service_connect {
    service {
      port_name                   = "http"
      discovery_name              = "camunda"
      per_request_timeout_seconds = 30
      client_alias {
        dns_name = "camunda"
        port     = 8080
      }
    }
  }
}

resource "atlas_service" "dashboard_backend" {
  name               = "dashboard-backend"
  cluster_arn        = var.cluster_arn
  subnet_ids         = var.subnet_ids
  security_group_ids = var.security_group_ids

  container {
    image        = "example/dashboard-backend:2"
    cpu          = 256
    memory       = 512
    port         = 8000
    app_protocol = "http"
  }

  service_connect {}

  route {
    listener_arn = var.listener_arn
    hostnames    = ["dashboard.example.com"]
  }
}

resource "atlas_service" "kafka_ui" {
  name               = "kafka-ui"
  cluster_arn        = var.cluster_arn
  subnet_ids         = var.subnet_ids
  security_group_ids = var.security_group_ids

  container {
    image  = "example/kafka-ui:1"
    cpu    = 256
    memory = 512
    port   = 8080
  }

  route {
    listener_arn      = var.listener_arn
    hostnames         = ["kafka-ui.example.com"]
    health_check_path = "/actuator/health"
  }
}

resource "atlas_service" "events_ingestion" {
  name               = "events-ingestion"
  cluster_arn        = var.cluster_arn
  subnet_ids         = var.subnet_ids
  security_group_ids = var.security_group_ids

  container {
    image  = "example/events-ingestion:1"
    cpu    = 256
    memory = 512
    port   = 8080
  }

  route {
    target_group_arn = var.default_target_group_arn
  }
}

output "services" {
  description = "Every service's attributes"
  value = {
    scoring           = atlas_service.scoring
    camunda           = atlas_service.camunda
    dashboard_backend = atlas_service.dashboard_backend
    kafka_ui          = atlas_service.kafka_ui
    events_ingestion  = atlas_service.events_ingestion
  }
}
"#;

const NAMES: [&str; 5] = [
    "scoring",
    "camunda",
    "dashboard-backend",
    "kafka-ui",
    "events-ingestion",
];

struct Aws {
    ecs: aws_sdk_ecs::Client,
    elbv2: aws_sdk_elasticloadbalancingv2::Client,
}

impl Aws {
    async fn new(emulator: &Emulator) -> Aws {
        let config = emulator.sdk_config().await;
        Aws {
            ecs: aws_sdk_ecs::Client::new(&config),
            elbv2: aws_sdk_elasticloadbalancingv2::Client::new(&config),
        }
    }

    async fn service(&self, fixture: &ServiceFixture, name: &str) -> Service {
        let answer = self
            .ecs
            .describe_services()
            .cluster(&fixture.cluster_arn)
            .services(name)
            .send()
            .await
            .expect("describe services");
        answer.services().first().cloned().expect("the service")
    }

    async fn service_connect(
        &self,
        fixture: &ServiceFixture,
        name: &str,
    ) -> Option<ServiceConnectConfiguration> {
        let service = self.service(fixture, name).await;
        service
            .deployments()
            .iter()
            .find(|d| d.status() == Some("PRIMARY"))
            .expect("a PRIMARY deployment")
            .service_connect_configuration()
            .cloned()
    }

    /// Every non-default rule of the listener: host names by priority.
    async fn rules(&self, fixture: &ServiceFixture) -> BTreeMap<String, (Vec<String>, String)> {
        let answer = self
            .elbv2
            .describe_rules()
            .listener_arn(&fixture.listener_arn)
            .send()
            .await
            .expect("describe rules");
        answer
            .rules()
            .iter()
            .filter(|r| r.is_default() != Some(true))
            .map(|r| {
                let hosts = r
                    .conditions()
                    .iter()
                    .filter_map(|c| c.host_header_config())
                    .flat_map(|h| h.values().to_vec())
                    .collect();
                let target = r.actions()[0]
                    .target_group_arn()
                    .unwrap_or_default()
                    .to_owned();
                (r.rule_arn().unwrap_or_default().to_owned(), (hosts, target))
            })
            .collect()
    }

    async fn target_groups(&self) -> Vec<String> {
        self.elbv2
            .describe_target_groups()
            .send()
            .await
            .expect("describe target groups")
            .target_groups()
            .iter()
            .filter_map(|t| t.target_group_arn().map(str::to_owned))
            .collect()
    }

    async fn active_revisions(&self, family: &str) -> Vec<String> {
        self.ecs
            .list_task_definitions()
            .family_prefix(family)
            .status(TaskDefinitionStatus::Active)
            .send()
            .await
            .expect("list task definitions")
            .task_definition_arns()
            .iter()
            .filter(|arn| arn.contains(&format!("task-definition/{family}:")))
            .cloned()
            .collect()
    }
}

async fn setup<'e>(emulator: &'e Emulator, services: &str) -> (ServiceFixture, Workspace<'e>) {
    let fixture = ServiceFixture::create(emulator).await;
    let workspace = Workspace::copy_root(emulator, ROOT);
    fixture.write_tfvars(&workspace);
    workspace.write_file("services.tf", services);
    workspace.init();
    (fixture, workspace)
}

fn failed_plan(workspace: &Workspace<'_>) -> String {
    let output = workspace.try_tf(&["plan", "-input=false", "-no-color"]);
    assert!(!output.status.success(), "the plan succeeded");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn basic_design_then_destroy() {
    let emulator = Emulator::start();
    let (fixture, workspace) = setup(&emulator, DESIGN).await;
    let aws = Aws::new(&emulator).await;
    workspace.apply();

    // Every service: Fargate, private, its groups, circuit breaker with rollback.
    for name in NAMES {
        let service = aws.service(&fixture, name).await;
        assert_eq!(service.status(), Some("ACTIVE"), "{name}");
        assert_eq!(service.launch_type().map(|l| l.as_str()), Some("FARGATE"));
        let vpc = service
            .network_configuration()
            .and_then(|n| n.awsvpc_configuration())
            .expect("awsvpc configuration");
        assert_eq!(vpc.assign_public_ip().map(|a| a.as_str()), Some("DISABLED"));
        assert_eq!(vpc.subnets(), fixture.subnet_ids.as_slice());
        assert_eq!(
            vpc.security_groups(),
            std::slice::from_ref(&fixture.security_group_id)
        );
        let breaker = service
            .deployment_configuration()
            .and_then(|d| d.deployment_circuit_breaker())
            .expect("a circuit breaker");
        assert!(breaker.enable() && breaker.rollback(), "{name}");
        let td = service.task_definition().expect("a task definition");
        assert!(td.contains(&format!("task-definition/{name}:")), "{td}");
    }
    assert_eq!(aws.service(&fixture, "scoring").await.desired_count(), 2);

    // Scoring: server `scoring`, alias scoring:8083, in the cluster's namespace.
    let sc = aws.service_connect(&fixture, "scoring").await.expect("SC");
    assert!(sc.enabled());
    assert_eq!(sc.namespace(), Some(fixture.namespace_arn.as_str()));
    let server = &sc.services()[0];
    assert_eq!(server.port_name(), "http");
    assert_eq!(server.discovery_name(), Some("scoring"));
    assert_eq!(server.client_aliases()[0].dns_name(), Some("scoring"));
    assert_eq!(server.client_aliases()[0].port(), 8083);

    // Camunda: `camunda` with a 30-second per-request timeout.
    let sc = aws.service_connect(&fixture, "camunda").await.expect("SC");
    let server = &sc.services()[0];
    assert_eq!(server.discovery_name(), Some("camunda"));
    assert_eq!(server.client_aliases()[0].dns_name(), Some("camunda"));
    assert_eq!(
        server
            .timeout()
            .and_then(|t| t.per_request_timeout_seconds()),
        Some(30)
    );

    // Dashboard backend: a client only, routed by host name to its own target group.
    let sc = aws
        .service_connect(&fixture, "dashboard-backend")
        .await
        .expect("SC");
    assert!(sc.enabled());
    assert!(sc.services().is_empty());

    // Kafka UI and events ingestion: no Service Connect.
    assert!(aws.service_connect(&fixture, "kafka-ui").await.is_none());
    assert!(aws
        .service_connect(&fixture, "events-ingestion")
        .await
        .is_none());

    // Two rules, one per routed host name, each to the service's own target group.
    let rules = aws.rules(&fixture).await;
    assert_eq!(rules.len(), 2, "{rules:?}");
    let outputs = workspace.output("services");
    for (key, name, host) in [
        (
            "dashboard_backend",
            "dashboard-backend",
            "dashboard.example.com",
        ),
        ("kafka_ui", "kafka-ui", "kafka-ui.example.com"),
    ] {
        let state = &outputs[key];
        let rule_arn = state["rule_arn"].as_str().expect("a rule ARN");
        let (hosts, target) = &rules[rule_arn];
        assert_eq!(hosts, &[host.to_owned()]);
        assert_eq!(Some(target.as_str()), state["target_group_arn"].as_str());
        assert_ne!(target, &fixture.default_target_group_arn);
        let service = aws.service(&fixture, name).await;
        let lb = &service.load_balancers()[0];
        assert_eq!(lb.target_group_arn(), Some(target.as_str()));
        assert_eq!(lb.container_name(), Some(name));
        assert!(state["rule_priority"]
            .as_i64()
            .is_some_and(|p| (1..=50_000).contains(&p)));
    }
    let health = aws
        .elbv2
        .describe_target_groups()
        .target_group_arns(outputs["kafka_ui"]["target_group_arn"].as_str().unwrap())
        .send()
        .await
        .expect("describe the Kafka UI target group");
    assert_eq!(
        health.target_groups()[0].health_check_path(),
        Some("/actuator/health")
    );

    // Events ingestion: registered with the default target group, no rule.
    let events = aws.service(&fixture, "events-ingestion").await;
    assert_eq!(
        events.load_balancers()[0].target_group_arn(),
        Some(fixture.default_target_group_arn.as_str())
    );
    assert!(outputs["events_ingestion"]["rule_arn"].is_null());
    assert!(outputs["scoring"]["target_group_arn"].is_null());

    // Nothing left to do, at a shared cost: the five services, refreshed side by side,
    // share their DescribeServices calls (one per cluster for the reads that arrive
    // together).
    let services_before = emulator.count("ecs", "DescribeServices");
    assert_eq!(workspace.plan_detailed_exitcode(), PlanOutcome::NoChanges);
    let services = emulator.count("ecs", "DescribeServices") - services_before;
    assert!(
        services < NAMES.len(),
        "{services} DescribeServices calls for {} services",
        NAMES.len()
    );

    // Destroy: no ACTIVE service, no rule, no owned target group, no ACTIVE revision.
    workspace.destroy();
    for name in NAMES {
        let service = aws.service(&fixture, name).await;
        assert_ne!(service.status(), Some("ACTIVE"), "{name}");
        assert!(aws.active_revisions(name).await.is_empty(), "{name}");
    }
    assert!(aws.rules(&fixture).await.is_empty());
    assert_eq!(
        aws.target_groups().await,
        vec![fixture.default_target_group_arn.clone()]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_in_each_shape_is_planned_and_repaired() {
    let emulator = Emulator::start();
    let (fixture, workspace) = setup(&emulator, DESIGN).await;
    let aws = Aws::new(&emulator).await;
    workspace.apply();
    let outputs = workspace.output("services");

    // Outside Terraform: scoring scaled, Camunda's timeout and alias changed, the
    // dashboard's rule given another host name, Kafka UI's rule deleted.
    aws.ecs
        .update_service()
        .cluster(&fixture.cluster_arn)
        .service("scoring")
        .desired_count(5)
        .send()
        .await
        .expect("scale scoring");
    let drifted = ServiceConnectConfiguration::builder()
        .enabled(true)
        .services(
            aws_sdk_ecs::types::ServiceConnectService::builder()
                .port_name("http")
                .discovery_name("camunda")
                .client_aliases(
                    aws_sdk_ecs::types::ServiceConnectClientAlias::builder()
                        .dns_name("camunda")
                        .port(9999)
                        .build()
                        .unwrap(),
                )
                .timeout(
                    aws_sdk_ecs::types::TimeoutConfiguration::builder()
                        .per_request_timeout_seconds(5)
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .build();
    aws.ecs
        .update_service()
        .cluster(&fixture.cluster_arn)
        .service("camunda")
        .service_connect_configuration(drifted)
        .send()
        .await
        .expect("change Camunda's Service Connect");
    let dashboard_rule = outputs["dashboard_backend"]["rule_arn"].as_str().unwrap();
    aws.elbv2
        .modify_rule()
        .rule_arn(dashboard_rule)
        .conditions(
            RuleCondition::builder()
                .field("host-header")
                .host_header_config(
                    HostHeaderConditionConfig::builder()
                        .values("elsewhere.example.com")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("change the dashboard rule");
    let kafka_rule = outputs["kafka_ui"]["rule_arn"].as_str().unwrap();
    aws.elbv2
        .delete_rule()
        .rule_arn(kafka_rule)
        .send()
        .await
        .expect("delete the Kafka UI rule");

    // The plan shows each.
    let PlanOutcome::Changes(plan) = workspace.plan_detailed_exitcode() else {
        panic!("the plan shows no drift");
    };
    for expected in [
        "atlas_service.scoring will be updated in-place",
        "atlas_service.camunda will be updated in-place",
        "atlas_service.dashboard_backend will be updated in-place",
        "atlas_service.kafka_ui will be updated in-place",
        "desired_count",
        "per_request_timeout_seconds",
        "elsewhere.example.com",
        "kafka-ui.example.com",
    ] {
        assert!(
            plan.contains(expected),
            "{expected:?} not in the plan:\n{plan}"
        );
    }
    assert!(
        !plan.contains("atlas_service.events_ingestion will"),
        "{plan}"
    );
    assert!(!plan.contains("must be replaced"), "{plan}");

    // Apply repairs each, in place.
    workspace.apply();
    assert_eq!(aws.service(&fixture, "scoring").await.desired_count(), 2);
    let sc = aws.service_connect(&fixture, "camunda").await.expect("SC");
    let server = &sc.services()[0];
    assert_eq!(server.client_aliases()[0].port(), 8080);
    assert_eq!(
        server
            .timeout()
            .and_then(|t| t.per_request_timeout_seconds()),
        Some(30)
    );
    let rules = aws.rules(&fixture).await;
    let mut hosts: Vec<String> = rules.values().flat_map(|(h, _)| h.clone()).collect();
    hosts.sort();
    assert_eq!(hosts, ["dashboard.example.com", "kafka-ui.example.com"]);
    assert_eq!(rules[dashboard_rule].0, ["dashboard.example.com"]);
    assert_eq!(workspace.plan_detailed_exitcode(), PlanOutcome::NoChanges);
    workspace.destroy();
}

#[tokio::test(flavor = "multi_thread")]
async fn hostname_claimed_twice_fails_the_plan() {
    let emulator = Emulator::start();
    let services = r#"
resource "atlas_service" "one" {
  name               = "one"
  cluster_arn        = var.cluster_arn
  subnet_ids         = var.subnet_ids
  security_group_ids = var.security_group_ids
  container {
    image  = "example/one:1"
    cpu    = 256
    memory = 512
    port   = 8080
  }
  route {
    listener_arn = var.listener_arn
    hostnames    = ["shared.example.com"]
  }
}

resource "atlas_service" "two" {
  name               = "two"
  cluster_arn        = var.cluster_arn
  subnet_ids         = var.subnet_ids
  security_group_ids = var.security_group_ids
  container {
    image  = "example/two:1"
    cpu    = 256
    memory = 512
    port   = 8080
  }
  route {
    listener_arn = var.listener_arn
    hostnames    = ["other.example.com", "Shared.example.com"]
  }
}
"#;
    let (_fixture, workspace) = setup(&emulator, services).await;
    let stderr = failed_plan(&workspace);
    assert!(stderr.contains("Hostname Claimed Twice"), "{stderr}");
    assert!(stderr.contains("shared.example.com"), "{stderr}");
    assert!(stderr.contains("hostnames"), "{stderr}");
    for (service, operation) in [
        ("ecs", "RegisterTaskDefinition"),
        ("ecs", "CreateService"),
        ("elasticloadbalancing", "CreateRule"),
        ("elasticloadbalancing", "CreateTargetGroup"),
    ] {
        // The fixture made one target group itself.
        let expected = usize::from(operation == "CreateTargetGroup");
        assert_eq!(emulator.count(service, operation), expected, "{operation}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn per_request_timeout_on_tcp_fails_the_plan() {
    let emulator = Emulator::start();
    let services = r#"
resource "atlas_service" "tcp" {
  name               = "valkey-proxy"
  cluster_arn        = var.cluster_arn
  subnet_ids         = var.subnet_ids
  security_group_ids = var.security_group_ids
  container {
    image  = "example/proxy:1"
    cpu    = 256
    memory = 512
    port   = 6379
  }
  service_connect {
    service {
      port_name                   = "http"
      per_request_timeout_seconds = 30
      client_alias {
        dns_name = "valkey-proxy"
        port     = 6379
      }
    }
  }
}
"#;
    let (_fixture, workspace) = setup(&emulator, services).await;
    let stderr = failed_plan(&workspace);
    assert!(
        stderr.contains("Per-Request Timeout On A TCP Port"),
        "{stderr}"
    );
    assert!(stderr.contains("per_request_timeout_seconds"), "{stderr}");
    assert_eq!(emulator.count("ecs", "RegisterTaskDefinition"), 0);
    assert_eq!(emulator.count("ecs", "CreateService"), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn steady_state_wait_times_out_with_a_diagnostic() {
    let emulator = Emulator::start();
    let services = r#"
resource "atlas_service" "waits" {
  name                  = "waits"
  cluster_arn           = var.cluster_arn
  subnet_ids            = var.subnet_ids
  security_group_ids    = var.security_group_ids
  wait_for_steady_state = true
  container {
    image  = "example/waits:1"
    cpu    = 256
    memory = 512
  }
  timeouts {
    create = "8s"
  }
}
"#;
    let (fixture, workspace) = setup(&emulator, services).await;
    let started = std::time::Instant::now();
    let output = workspace.try_tf(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    assert!(!output.status.success(), "the apply succeeded");
    assert!(
        started.elapsed().as_secs() < 120,
        "the wait did not stop at the timeout"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Service Not Steady"), "{stderr}");
    assert!(!stderr.contains("panic"), "{stderr}");

    // The service exists and is in state, so destroy removes it.
    let aws = Aws::new(&emulator).await;
    assert_eq!(
        aws.service(&fixture, "waits").await.status(),
        Some("ACTIVE")
    );
    let state = workspace.tf(&["state", "list"]);
    assert!(
        state.stdout.contains("atlas_service.waits"),
        "{}",
        state.stdout
    );
    workspace.destroy();
    assert_ne!(
        aws.service(&fixture, "waits").await.status(),
        Some("ACTIVE")
    );
    assert!(aws.active_revisions("waits").await.is_empty());
}

/// The emulator extension itself (`tests/emulator/extensions/ecs_service_connect.py`):
/// Service Connect on the PRIMARY deployment, a new PRIMARY on update, kept when an
/// update leaves it out, and the cluster's default namespace filled in.
#[tokio::test(flavor = "multi_thread")]
async fn emulator_keeps_service_connect_on_deployments() {
    let emulator = Emulator::start();
    let fixture = ServiceFixture::create(&emulator).await;
    let aws = Aws::new(&emulator).await;
    let task = aws
        .ecs
        .register_task_definition()
        .family("probe")
        .container_definitions(
            aws_sdk_ecs::types::ContainerDefinition::builder()
                .name("probe")
                .image("example/probe:1")
                .memory(512)
                .build(),
        )
        .send()
        .await
        .expect("register a task definition");
    let task_arn = task
        .task_definition()
        .unwrap()
        .task_definition_arn()
        .unwrap();
    let sc = |port: i32| {
        ServiceConnectConfiguration::builder()
            .enabled(true)
            .services(
                aws_sdk_ecs::types::ServiceConnectService::builder()
                    .port_name("http")
                    .client_aliases(
                        aws_sdk_ecs::types::ServiceConnectClientAlias::builder()
                            .dns_name("probe")
                            .port(port)
                            .build()
                            .unwrap(),
                    )
                    .build()
                    .unwrap(),
            )
            .build()
    };
    let created = aws
        .ecs
        .create_service()
        .cluster(&fixture.cluster_arn)
        .service_name("probe")
        .task_definition(task_arn)
        .desired_count(1)
        .service_connect_configuration(sc(80))
        .send()
        .await
        .expect("create the service");
    let deployments = created.service().unwrap().deployments();
    assert_eq!(deployments.len(), 1);
    let answered = deployments[0].service_connect_configuration().expect("SC");
    assert_eq!(answered.namespace(), Some(fixture.namespace_arn.as_str()));
    assert_eq!(answered.services()[0].client_aliases()[0].port(), 80);

    // A new configuration: a new PRIMARY deployment, the previous one ACTIVE.
    let updated = aws
        .ecs
        .update_service()
        .cluster(&fixture.cluster_arn)
        .service("probe")
        .service_connect_configuration(sc(81))
        .send()
        .await
        .expect("update the service");
    let deployments = updated.service().unwrap().deployments();
    assert_eq!(
        deployments
            .iter()
            .map(|d| d.status().unwrap())
            .collect::<Vec<_>>(),
        ["PRIMARY", "ACTIVE"]
    );
    assert_ne!(deployments[0].id(), deployments[1].id());
    let port = |d: &aws_sdk_ecs::types::Deployment| {
        d.service_connect_configuration().unwrap().services()[0].client_aliases()[0].port()
    };
    assert_eq!((port(&deployments[0]), port(&deployments[1])), (81, 80));

    // An update without it keeps the current configuration.
    aws.ecs
        .update_service()
        .cluster(&fixture.cluster_arn)
        .service("probe")
        .desired_count(3)
        .send()
        .await
        .expect("scale the service");
    let sc_now = aws.service_connect(&fixture, "probe").await.expect("SC");
    assert_eq!(sc_now.services()[0].client_aliases()[0].port(), 81);

    // Neither scaling nor sending the current configuration again starts a deployment.
    aws.ecs
        .update_service()
        .cluster(&fixture.cluster_arn)
        .service("probe")
        .service_connect_configuration(sc(81))
        .send()
        .await
        .expect("send the same configuration");
    let service = aws.service(&fixture, "probe").await;
    let ids = |ds: &[aws_sdk_ecs::types::Deployment]| {
        ds.iter()
            .map(|d| {
                format!(
                    "{} {}",
                    d.id().unwrap_or_default(),
                    d.status().unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(service.deployments()),
        ids(deployments),
        "a deployment started without a change"
    );
}
