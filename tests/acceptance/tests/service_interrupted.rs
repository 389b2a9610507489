//! An `atlas_service` create that stops before Terraform saves its state leaves AWS
//! objects no state knows: a task definition revision, the owned target group, the
//! listener rule and maybe the ECS service itself. The next apply takes them over (they
//! carry the resource's owner tag) instead of failing on the name or making a second
//! rule beside the first; a same-named service that this resource did not make is
//! refused, and nothing is left behind. Every check reads the emulator through the AWS
//! SDK.

use std::time::Duration;

use atlas_acceptance::inventory::Inventory;
use atlas_acceptance::service_fixture::ServiceFixture;
use atlas_acceptance::{Emulator, FaultSettings, PlanOutcome, Workspace};
use aws_sdk_ecs::types::{
    AwsVpcConfiguration, Compatibility, ContainerDefinition, LaunchType, NetworkConfiguration,
    NetworkMode, TaskDefinitionStatus,
};

const ROOT: &str = "tests/acceptance/tests/fixtures/service";

/// One service with a host-name route to a target group it owns: every kind of object
/// an `atlas_service` creates.
const WEB: &str = r#"
resource "atlas_service" "web" {
  name               = "web"
  cluster_arn        = var.cluster_arn
  subnet_ids         = var.subnet_ids
  security_group_ids = var.security_group_ids

  container {
    image  = "example/web:1"
    cpu    = 256
    memory = 512
    port   = 8080
  }

  route {
    listener_arn = var.listener_arn
    hostnames    = ["web.example.com"]
  }
}
"#;

async fn setup<'e>(emulator: &'e Emulator) -> (ServiceFixture, Workspace<'e>, Inventory) {
    let fixture = ServiceFixture::create(emulator).await;
    let baseline = Inventory::read(&emulator.sdk_config().await).await;
    let workspace = Workspace::copy_root(emulator, ROOT);
    fixture.write_tfvars(&workspace);
    workspace.write_file("services.tf", WEB);
    workspace.init();
    (fixture, workspace, baseline)
}

/// After the apply that followed an interruption: the next plan is empty; the emulator
/// holds, beyond the fixture, exactly what the state names (one service, one revision,
/// one owned target group, one rule routing the host name); destroy leaves nothing.
async fn settled_then_destroyed(
    emulator: &Emulator,
    workspace: &Workspace<'_>,
    fixture: &ServiceFixture,
    baseline: &Inventory,
) {
    assert_eq!(workspace.plan_detailed_exitcode(), PlanOutcome::NoChanges);
    let held = Inventory::read(&emulator.sdk_config().await)
        .await
        .without(baseline);
    let named = Inventory::referenced_by(&workspace.show_json()).without(baseline);
    assert_eq!(
        held,
        named,
        "the emulator holds {:?} beyond the fixture, the state names {:?}",
        held.counts(),
        named.counts()
    );
    let counts = held.counts();
    for kind in [
        "ecs_service",
        "task_definition",
        "target_group",
        "listener_rule",
    ] {
        assert_eq!(counts.get(kind), Some(&1), "one {kind}: {held:#?}");
    }
    assert_eq!(
        rules_for(emulator, &fixture.listener_arn, "web.example.com")
            .await
            .len(),
        1,
        "one rule routes the host name"
    );

    workspace.destroy();
    let left = Inventory::read(&emulator.sdk_config().await).await;
    assert_eq!(
        left.without(baseline),
        Inventory::default(),
        "the destroy left objects"
    );
}

async fn rules_for(emulator: &Emulator, listener: &str, host: &str) -> Vec<String> {
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&emulator.sdk_config().await);
    let rules = elb
        .describe_rules()
        .listener_arn(listener)
        .send()
        .await
        .expect("DescribeRules");
    rules
        .rules()
        .iter()
        .filter(|r| {
            r.conditions().iter().any(|c| {
                c.host_header_config()
                    .is_some_and(|h| h.values().iter().any(|v| v == host))
                    || c.values().iter().any(|v| v == host)
            })
        })
        .filter_map(|r| r.rule_arn().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_create_whose_state_was_never_saved_is_taken_over() {
    let emulator = Emulator::start();
    let (fixture, workspace, baseline) = setup(&emulator).await;
    workspace.apply();
    let first_service = workspace.tf(&["state", "show", "-no-color", "atlas_service.web"]);
    assert!(
        first_service.stdout.contains("arn:aws:ecs:"),
        "{}",
        first_service.stdout
    );
    let first = Inventory::read(&emulator.sdk_config().await).await;

    // As if the apply had been killed after its last AWS call and before Terraform
    // wrote the state: every object exists, the state knows none of them.
    workspace.tf(&["state", "rm", "atlas_service.web"]);
    workspace.apply();
    let taken_over = Inventory::read(&emulator.sdk_config().await).await;
    for kind in ["ecs_service", "target_group", "listener_rule"] {
        assert_eq!(
            taken_over.0.get(kind),
            first.0.get(kind),
            "the {kind} of the first apply was taken over, not replaced"
        );
    }
    settled_then_destroyed(&emulator, &workspace, &fixture, &baseline).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_create_killed_among_its_calls_converges() {
    let emulator = Emulator::start();
    let (fixture, workspace, baseline) = setup(&emulator).await;
    // Slow enough that the kill lands after the rule and before the service's answer.
    let latency = 300;
    emulator.set_faults(&FaultSettings::latency(latency).services(&[
        "ecs",
        "elasticloadbalancing",
        "ec2",
    ]));
    workspace.apply_killed_when("creating the rule", || {
        emulator.count("elasticloadbalancing", "CreateRule") > 0
    });
    // A call already sent still finishes on the emulator's side, as it would on AWS's.
    std::thread::sleep(Duration::from_millis(3 * latency));
    emulator.set_faults(&FaultSettings::default());
    let left = Inventory::read(&emulator.sdk_config().await)
        .await
        .without(&baseline);
    eprintln!("the killed create left {:?}", left.counts());
    assert_eq!(
        left.counts().get("listener_rule"),
        Some(&1),
        "the kill came after the rule: {left:#?}"
    );

    workspace.force_unlock_if_locked();
    workspace.apply();
    settled_then_destroyed(&emulator, &workspace, &fixture, &baseline).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_same_named_service_it_did_not_make_is_refused_and_nothing_is_left() {
    let emulator = Emulator::start();
    let (fixture, workspace, baseline) = setup(&emulator).await;
    let ecs = aws_sdk_ecs::Client::new(&emulator.sdk_config().await);
    let task = ecs
        .register_task_definition()
        .family("someone-else")
        .network_mode(NetworkMode::Awsvpc)
        .requires_compatibilities(Compatibility::Fargate)
        .cpu("256")
        .memory("512")
        .container_definitions(
            ContainerDefinition::builder()
                .name("app")
                .image("example/other:1")
                .memory(512)
                .build(),
        )
        .send()
        .await
        .expect("RegisterTaskDefinition");
    let task_arn = task
        .task_definition()
        .and_then(|t| t.task_definition_arn())
        .expect("a task definition ARN")
        .to_owned();
    let theirs = ecs
        .create_service()
        .cluster(&fixture.cluster_arn)
        .service_name("web")
        .task_definition(&task_arn)
        .desired_count(0)
        .launch_type(LaunchType::Fargate)
        .network_configuration(
            NetworkConfiguration::builder()
                .awsvpc_configuration(
                    AwsVpcConfiguration::builder()
                        .set_subnets(Some(fixture.subnet_ids.clone()))
                        .security_groups(&fixture.security_group_id)
                        .build()
                        .expect("an awsvpc configuration"),
                )
                .build(),
        )
        .send()
        .await
        .expect("CreateService");
    let their_arn = theirs
        .service()
        .and_then(|s| s.service_arn())
        .expect("a service ARN")
        .to_owned();
    let before = Inventory::read(&emulator.sdk_config().await).await;

    let output = workspace.try_tf(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    assert!(
        !output.status.success(),
        "the apply took over a service it did not make"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    for needed in [
        "Service Already Exists",
        their_arn.as_str(),
        "terraform import",
        "name",
    ] {
        assert!(stderr.contains(needed), "{needed:?} is not in: {stderr}");
    }
    assert_eq!(
        Inventory::read(&emulator.sdk_config().await).await,
        before,
        "nothing was made"
    );
    let ours = ecs
        .list_task_definitions()
        .family_prefix("web")
        .status(TaskDefinitionStatus::Active)
        .send()
        .await
        .expect("ListTaskDefinitions");
    assert!(
        ours.task_definition_arns().is_empty(),
        "no revision is left registered"
    );
    let state = workspace.try_tf(&["state", "list"]);
    assert!(
        String::from_utf8_lossy(&state.stdout).trim().is_empty(),
        "the state took nothing"
    );
    assert!(before.without(&baseline).0.contains_key("ecs_service"));
}
