//! `atlas_service` changes over its life: updates in place (a new task definition
//! revision, Service Connect from server to client, a route moved from an owned target
//! group to the ingress's default one), a creation that fails halfway and leaves
//! everything it made in state for destroy, import by `<cluster name>/<service name>`,
//! and a host name already routed by a rule the service does not own. Checked through
//! the ECS and ELBv2 APIs.

use atlas_acceptance::service_fixture::{ServiceFixture, CLUSTER};
use atlas_acceptance::{Emulator, PlanOutcome, Workspace};
use aws_sdk_ecs::types::TaskDefinitionStatus;
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, HostHeaderConditionConfig, RuleCondition,
};

const ROOT: &str = "tests/acceptance/tests/fixtures/service";

/// One service; `{image}`, `{sc}`, `{route}` and `{groups}` are filled in per step.
const TEMPLATE: &str = r#"
resource "atlas_service" "app" {
  name               = "app"
  cluster_arn        = var.cluster_arn
  subnet_ids         = var.subnet_ids
  security_group_ids = {groups}

  container {
    image        = "{image}"
    cpu          = 256
    memory       = 512
    port         = 8080
    app_protocol = "http"
  }

  {sc}

  {route}
}

output "app" {
  description = "The service's attributes"
  value       = atlas_service.app
}
"#;

const SERVER: &str = r#"service_connect {
    service {
      port_name = "http"
      client_alias {
        dns_name = "app"
        port     = 8080
      }
    }
  }"#;

const OWN_ROUTE: &str = r#"route {
    listener_arn = var.listener_arn
    hostnames    = ["app.example.com"]
  }"#;

const DEFAULT_ROUTE: &str = r#"route {
    target_group_arn = var.default_target_group_arn
  }"#;

fn services(image: &str, sc: &str, route: &str, groups: &str) -> String {
    TEMPLATE
        .replace("{image}", image)
        .replace("{sc}", sc)
        .replace("{route}", route)
        .replace("{groups}", groups)
}

async fn setup(emulator: &Emulator) -> (ServiceFixture, Workspace<'_>) {
    let fixture = ServiceFixture::create(emulator).await;
    let workspace = Workspace::copy_root(emulator, ROOT);
    fixture.write_tfvars(&workspace);
    (fixture, workspace)
}

/// The `task_definition_arn` of each of `outputs` (the service's output, apply by apply).
fn revisions(outputs: &[&serde_json::Value]) -> Vec<String> {
    outputs
        .iter()
        .map(|o| {
            o["task_definition_arn"]
                .as_str()
                .expect("a revision")
                .to_owned()
        })
        .collect()
}

async fn active_revisions(ecs: &aws_sdk_ecs::Client, family: &str) -> Vec<String> {
    ecs.list_task_definitions()
        .family_prefix(family)
        .status(TaskDefinitionStatus::Active)
        .send()
        .await
        .expect("list task definitions")
        .task_definition_arns()
        .to_vec()
}

async fn rule_count(elbv2: &aws_sdk_elasticloadbalancingv2::Client, listener: &str) -> usize {
    elbv2
        .describe_rules()
        .listener_arn(listener)
        .send()
        .await
        .expect("describe rules")
        .rules()
        .iter()
        .filter(|r| r.is_default() != Some(true))
        .count()
}

async fn target_group_count(elbv2: &aws_sdk_elasticloadbalancingv2::Client) -> usize {
    elbv2
        .describe_target_groups()
        .send()
        .await
        .expect("describe target groups")
        .target_groups()
        .len()
}

#[tokio::test(flavor = "multi_thread")]
async fn updates_roll_in_place() {
    let emulator = Emulator::start();
    let (fixture, workspace) = setup(&emulator).await;
    let config = emulator.sdk_config().await;
    let ecs = aws_sdk_ecs::Client::new(&config);
    let elbv2 = aws_sdk_elasticloadbalancingv2::Client::new(&config);
    let groups = "var.security_group_ids";

    workspace.write_file(
        "services.tf",
        &services("example/app:1", SERVER, OWN_ROUTE, groups),
    );
    workspace.init();
    workspace.apply();
    let first = workspace.output("app");
    let arn = first["arn"].as_str().expect("an ARN").to_owned();
    let owned = first["target_group_arn"]
        .as_str()
        .expect("a group")
        .to_owned();
    let priority = first["rule_priority"].as_i64().expect("a priority");

    // A new image: a new revision, the same service, rule and priority.
    workspace.write_file(
        "services.tf",
        &services("example/app:2", SERVER, OWN_ROUTE, groups),
    );
    let PlanOutcome::Changes(plan) = workspace.plan_detailed_exitcode() else {
        panic!("no change planned");
    };
    assert!(plan.contains("updated in-place"), "{plan}");
    assert!(!plan.contains("must be replaced"), "{plan}");
    workspace.apply();
    let second = workspace.output("app");
    assert_eq!(second["arn"], arn.as_str());
    assert_eq!(second["rule_priority"].as_i64(), Some(priority));
    assert_ne!(second["task_definition_arn"], first["task_definition_arn"]);
    let service = ecs
        .describe_services()
        .cluster(&fixture.cluster_arn)
        .services(&arn)
        .send()
        .await
        .expect("describe the service")
        .services()[0]
        .clone();
    assert_eq!(
        service.task_definition(),
        second["task_definition_arn"].as_str()
    );
    let task = ecs
        .describe_task_definition()
        .task_definition(service.task_definition().unwrap())
        .send()
        .await
        .expect("describe the task definition");
    let image = task.task_definition().unwrap().container_definitions()[0].image();
    assert_eq!(image, Some("example/app:2"));
    // The revision it ran before stays, as the circuit breaker's rollback target.
    assert_eq!(
        active_revisions(&ecs, "app").await,
        revisions(&[&first, &second])
    );

    // One more: the revision before the previous one is deregistered.
    workspace.write_file(
        "services.tf",
        &services("example/app:3", SERVER, OWN_ROUTE, groups),
    );
    workspace.apply();
    let newest = workspace.output("app");
    assert_eq!(
        active_revisions(&ecs, "app").await,
        revisions(&[&second, &newest])
    );

    // Client only, and routed to the default target group: the rule and the owned
    // target group go, the service registers with the default group.
    workspace.write_file(
        "services.tf",
        &services("example/app:3", "service_connect {}", DEFAULT_ROUTE, groups),
    );
    workspace.apply();
    let third = workspace.output("app");
    assert_eq!(third["arn"], arn.as_str());
    assert!(third["rule_arn"].is_null());
    assert_eq!(
        third["target_group_arn"],
        fixture.default_target_group_arn.as_str()
    );
    let service = ecs
        .describe_services()
        .cluster(&fixture.cluster_arn)
        .services(&arn)
        .send()
        .await
        .expect("describe the service")
        .services()[0]
        .clone();
    let primary = service
        .deployments()
        .iter()
        .find(|d| d.status() == Some("PRIMARY"))
        .expect("a PRIMARY deployment");
    let sc = primary
        .service_connect_configuration()
        .expect("Service Connect");
    assert!(sc.enabled() && sc.services().is_empty());
    assert_eq!(
        service.load_balancers()[0].target_group_arn(),
        Some(fixture.default_target_group_arn.as_str())
    );
    assert_eq!(rule_count(&elbv2, &fixture.listener_arn).await, 0);
    let gone = elbv2
        .describe_target_groups()
        .target_group_arns(&owned)
        .send()
        .await;
    assert!(gone.is_err(), "the owned target group is still there");
    assert_eq!(workspace.plan_detailed_exitcode(), PlanOutcome::NoChanges);

    workspace.destroy();
    assert!(active_revisions(&ecs, "app").await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_creation_failing_halfway_is_in_state_and_destroyed() {
    let emulator = Emulator::start();
    let (fixture, workspace) = setup(&emulator).await;
    let config = emulator.sdk_config().await;
    let ecs = aws_sdk_ecs::Client::new(&config);
    let elbv2 = aws_sdk_elasticloadbalancingv2::Client::new(&config);

    // A security group that does not exist: ECS refuses the service after the task
    // definition, the target group and the rule exist.
    workspace.write_file(
        "services.tf",
        &services(
            "example/app:1",
            SERVER,
            OWN_ROUTE,
            r#"["sg-0123456789abcdef0"]"#,
        ),
    );
    workspace.init();
    let output = workspace.try_tf(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    assert!(!output.status.success(), "the apply succeeded");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Service Creation Failed"), "{stderr}");
    assert!(stderr.contains("CreateService"), "{stderr}");
    assert_eq!(active_revisions(&ecs, "app").await.len(), 1);
    assert_eq!(rule_count(&elbv2, &fixture.listener_arn).await, 1);
    assert_eq!(target_group_count(&elbv2).await, 2);
    let state = workspace.tf(&["state", "list"]);
    assert!(
        state.stdout.contains("atlas_service.app"),
        "{}",
        state.stdout
    );

    workspace.destroy();
    assert!(active_revisions(&ecs, "app").await.is_empty());
    assert_eq!(rule_count(&elbv2, &fixture.listener_arn).await, 0);
    assert_eq!(target_group_count(&elbv2).await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn import_by_cluster_and_name() {
    let emulator = Emulator::start();
    let (_fixture, workspace) = setup(&emulator).await;
    let text = services(
        "example/app:1",
        SERVER,
        DEFAULT_ROUTE,
        "var.security_group_ids",
    );
    workspace.write_file("services.tf", &text);
    workspace.init();
    workspace.apply();
    let before = workspace.output("app");

    workspace.tf(&["state", "rm", "atlas_service.app"]);
    workspace.tf(&[
        "import",
        "-input=false",
        "-no-color",
        "atlas_service.app",
        &format!("{CLUSTER}/app"),
    ]);
    let after = workspace.output("app");
    for key in [
        "arn",
        "cluster_arn",
        "task_definition_arn",
        "target_group_arn",
    ] {
        assert_eq!(after[key], before[key], "{key}");
    }
    assert_eq!(after["service_connect"], before["service_connect"]);
    assert_eq!(after["container"], before["container"]);
    assert_eq!(workspace.plan_detailed_exitcode(), PlanOutcome::NoChanges);
}

/// Plans `workspace`, which must fail with "Hostname Already Routed" for app.example.com.
fn plan_fails_on_routed_host(workspace: &Workspace<'_>) {
    let output = workspace.try_tf(&["plan", "-input=false", "-no-color"]);
    assert!(!output.status.success(), "the plan succeeded");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Hostname Already Routed"), "{stderr}");
    assert!(stderr.contains("app.example.com"), "{stderr}");
}

/// A rule made outside Terraform on the fixture's listener, sending `host` to the
/// default target group.
async fn route_elsewhere(emulator: &Emulator, fixture: &ServiceFixture, priority: i32, host: &str) {
    let config = emulator.sdk_config().await;
    let elbv2 = aws_sdk_elasticloadbalancingv2::Client::new(&config);
    elbv2
        .create_rule()
        .listener_arn(&fixture.listener_arn)
        .priority(priority)
        .conditions(
            RuleCondition::builder()
                .field("host-header")
                .host_header_config(HostHeaderConditionConfig::builder().values(host).build())
                .build(),
        )
        .actions(
            Action::builder()
                .r#type(ActionTypeEnum::Forward)
                .target_group_arn(&fixture.default_target_group_arn)
                .build(),
        )
        .send()
        .await
        .expect("create a rule outside Terraform");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hostname_routed_by_another_rule_fails_the_plan() {
    let emulator = Emulator::start();
    let (fixture, workspace) = setup(&emulator).await;
    route_elsewhere(&emulator, &fixture, 7, "app.example.com").await;

    workspace.write_file(
        "services.tf",
        &services("example/app:1", SERVER, OWN_ROUTE, "var.security_group_ids"),
    );
    workspace.init();
    plan_fails_on_routed_host(&workspace);
    assert_eq!(emulator.count("ecs", "RegisterTaskDefinition"), 0);
}

/// A rule made elsewhere after the service, for one of its host names (it could take the
/// traffic with a lower priority number), fails the next plan too, though nothing in the
/// service's configuration changed.
#[tokio::test(flavor = "multi_thread")]
async fn a_hostname_routed_elsewhere_later_fails_the_next_plan() {
    let emulator = Emulator::start();
    let (fixture, workspace) = setup(&emulator).await;
    workspace.write_file(
        "services.tf",
        &services("example/app:1", SERVER, OWN_ROUTE, "var.security_group_ids"),
    );
    workspace.init();
    workspace.apply();
    assert_eq!(workspace.plan_detailed_exitcode(), PlanOutcome::NoChanges);

    route_elsewhere(&emulator, &fixture, 1, "app.example.com").await;
    plan_fails_on_routed_host(&workspace);
}
