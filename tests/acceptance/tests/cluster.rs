//! `atlas_cluster` against the emulator: the cluster and its namespace as ECS and Cloud
//! Map show them, Container Insights changed in place, drift of the setting found by the
//! plan and repaired by the apply, import by name, and a destroy that leaves neither the
//! cluster nor the namespace. Every check goes through the AWS SDK (`aws-sdk-ecs`,
//! `aws-sdk-servicediscovery`), never through the provider's code.

use atlas_acceptance::{Emulator, PlanOutcome, Workspace};
use aws_sdk_ecs::types::{Cluster, ClusterField, ClusterSetting, ClusterSettingName};
use serde_json::Value;

const FIXTURE: &str = "tests/acceptance/tests/fixtures/cluster";
const ADDRESS: &str = "atlas_cluster.this";
const NAME: &str = "atlas-test";

struct Clients {
    ecs: aws_sdk_ecs::Client,
    sd: aws_sdk_servicediscovery::Client,
}

async fn clients(emulator: &Emulator) -> Clients {
    let config = emulator.sdk_config().await;
    Clients {
        ecs: aws_sdk_ecs::Client::new(&config),
        sd: aws_sdk_servicediscovery::Client::new(&config),
    }
}

/// The cluster as ECS describes it, with settings and tags; `None` when not ACTIVE.
async fn describe(ecs: &aws_sdk_ecs::Client, name: &str) -> Option<Cluster> {
    let answer = ecs
        .describe_clusters()
        .clusters(name)
        .include(ClusterField::Settings)
        .include(ClusterField::Tags)
        .send()
        .await
        .expect("DescribeClusters");
    answer
        .clusters()
        .iter()
        .find(|c| c.status() == Some("ACTIVE"))
        .cloned()
}

fn insights(cluster: &Cluster) -> Option<String> {
    cluster
        .settings()
        .iter()
        .find(|s| s.name() == Some(&ClusterSettingName::ContainerInsights))
        .and_then(|s| s.value())
        .map(str::to_owned)
}

/// Every namespace Cloud Map lists, as (id, name).
async fn namespaces(sd: &aws_sdk_servicediscovery::Client) -> Vec<(String, String)> {
    let answer = sd.list_namespaces().send().await.expect("ListNamespaces");
    answer
        .namespaces()
        .iter()
        .map(|n| {
            (
                n.id().unwrap_or_default().to_owned(),
                n.name().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

async fn set_insights(ecs: &aws_sdk_ecs::Client, value: &str) {
    ecs.update_cluster_settings()
        .cluster(NAME)
        .settings(
            ClusterSetting::builder()
                .name(ClusterSettingName::ContainerInsights)
                .value(value)
                .build(),
        )
        .send()
        .await
        .expect("UpdateClusterSettings");
}

fn attr(workspace: &Workspace<'_>, name: &str) -> Value {
    workspace.output("cluster")[name].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn basic() {
    let emulator = Emulator::start();
    let aws = clients(&emulator).await;
    let workspace = Workspace::copy_root(&emulator, FIXTURE);
    workspace.init();
    workspace.apply();

    // The cluster: active, insights on, tagged, its default namespace the one created.
    let cluster = describe(&aws.ecs, NAME)
        .await
        .expect("the cluster is ACTIVE");
    assert_eq!(insights(&cluster).as_deref(), Some("enabled"));
    let tags: Vec<(String, String)> = cluster
        .tags()
        .iter()
        .map(|t| (t.key().unwrap().to_owned(), t.value().unwrap().to_owned()))
        .collect();
    assert!(
        tags.contains(&("project".into(), "atlas".into())),
        "{tags:?}"
    );
    assert!(
        tags.contains(&("component".into(), "cluster".into())),
        "{tags:?}"
    );
    let default_namespace = cluster
        .service_connect_defaults()
        .and_then(|d| d.namespace())
        .expect("the cluster has a Service Connect default namespace")
        .to_owned();
    assert_eq!(
        attr(&workspace, "namespace_arn"),
        default_namespace.as_str()
    );
    assert_eq!(attr(&workspace, "arn"), cluster.cluster_arn().unwrap());
    assert_eq!(attr(&workspace, "id"), NAME);

    // The namespace: an HTTP namespace named after the cluster, with the tags.
    let namespace_id = attr(&workspace, "namespace_id")
        .as_str()
        .unwrap()
        .to_owned();
    let namespace = aws
        .sd
        .get_namespace()
        .id(&namespace_id)
        .send()
        .await
        .expect("GetNamespace")
        .namespace
        .expect("a namespace");
    assert_eq!(namespace.name(), Some(NAME));
    assert_eq!(namespace.arn(), Some(default_namespace.as_str()));
    assert_eq!(
        namespace.r#type(),
        Some(&aws_sdk_servicediscovery::types::NamespaceType::Http)
    );
    let namespace_tags = aws
        .sd
        .list_tags_for_resource()
        .resource_arn(&default_namespace)
        .send()
        .await
        .expect("ListTagsForResource");
    assert!(namespace_tags
        .tags()
        .iter()
        .any(|t| t.key() == "component" && t.value() == "cluster"));

    assert_eq!(workspace.plan_detailed_exitcode(), PlanOutcome::NoChanges);

    // Insights off: in place, the same cluster.
    workspace.write_file("terraform.tfvars", "container_insights = false\n");
    let plan = workspace.plan_detailed_exitcode();
    let PlanOutcome::Changes(text) = plan else {
        panic!("turning insights off plans nothing")
    };
    assert!(text.contains("1 to change, 0 to destroy"), "{text}");
    workspace.apply();
    let after = describe(&aws.ecs, NAME)
        .await
        .expect("the cluster is ACTIVE");
    assert_eq!(insights(&after).as_deref(), Some("disabled"));
    assert_eq!(after.cluster_arn(), cluster.cluster_arn());
    assert_eq!(workspace.plan_detailed_exitcode(), PlanOutcome::NoChanges);

    // Destroy: no active cluster, no namespace.
    workspace.destroy();
    assert!(describe(&aws.ecs, NAME).await.is_none());
    assert!(namespaces(&aws.sd).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn insights_drift_is_planned_and_repaired() {
    let emulator = Emulator::start();
    let aws = clients(&emulator).await;
    let workspace = Workspace::copy_root(&emulator, FIXTURE);
    workspace.init();
    workspace.apply();

    set_insights(&aws.ecs, "disabled").await;
    let PlanOutcome::Changes(text) = workspace.plan_detailed_exitcode() else {
        panic!("the plan does not see insights turned off outside Terraform")
    };
    let line = text
        .lines()
        .find(|line| line.contains("container_insights"))
        .unwrap_or_default();
    assert!(line.contains("false -> true"), "{text}");
    assert!(text.contains("1 to change, 0 to destroy"), "{text}");
    workspace.apply();
    let cluster = describe(&aws.ecs, NAME)
        .await
        .expect("the cluster is ACTIVE");
    assert_eq!(insights(&cluster).as_deref(), Some("enabled"));
    assert_eq!(workspace.plan_detailed_exitcode(), PlanOutcome::NoChanges);
}

#[tokio::test(flavor = "multi_thread")]
async fn default_namespace_drift_is_planned_and_repaired() {
    let emulator = Emulator::start();
    let aws = clients(&emulator).await;
    let workspace = Workspace::copy_root(&emulator, FIXTURE);
    workspace.init();
    workspace.apply();
    let ours = attr(&workspace, "namespace_arn")
        .as_str()
        .unwrap()
        .to_owned();

    // Another namespace made the cluster's default outside Terraform.
    let other = aws
        .sd
        .create_http_namespace()
        .name("elsewhere")
        .send()
        .await
        .expect("CreateHttpNamespace");
    let operation = aws
        .sd
        .get_operation()
        .operation_id(other.operation_id().unwrap())
        .send()
        .await
        .expect("GetOperation");
    let other_id = operation.operation().unwrap().targets().unwrap()
        [&aws_sdk_servicediscovery::types::OperationTargetType::Namespace]
        .clone();
    let other_arn = aws
        .sd
        .get_namespace()
        .id(&other_id)
        .send()
        .await
        .unwrap()
        .namespace
        .unwrap()
        .arn
        .unwrap();
    aws.ecs
        .update_cluster()
        .cluster(NAME)
        .service_connect_defaults(
            aws_sdk_ecs::types::ClusterServiceConnectDefaultsRequest::builder()
                .namespace(&other_arn)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("UpdateCluster");

    let PlanOutcome::Changes(text) = workspace.plan_detailed_exitcode() else {
        panic!("the plan does not see the default namespace changed outside Terraform")
    };
    assert!(text.contains("default_namespace_arn"), "{text}");
    assert!(text.contains("1 to change, 0 to destroy"), "{text}");
    workspace.apply();
    let cluster = describe(&aws.ecs, NAME)
        .await
        .expect("the cluster is ACTIVE");
    assert_eq!(
        cluster
            .service_connect_defaults()
            .and_then(|d| d.namespace()),
        Some(ours.as_str())
    );
    assert_eq!(workspace.plan_detailed_exitcode(), PlanOutcome::NoChanges);
}

#[tokio::test(flavor = "multi_thread")]
async fn import_by_name() {
    let emulator = Emulator::start();
    let aws = clients(&emulator).await;
    let workspace = Workspace::copy_root(&emulator, FIXTURE);
    workspace.init();
    workspace.apply();
    let before = workspace.output("cluster");

    workspace.tf(&["state", "rm", ADDRESS]);
    workspace.tf(&["import", "-input=false", "-no-color", ADDRESS, NAME]);
    assert_eq!(workspace.plan_detailed_exitcode(), PlanOutcome::NoChanges);
    workspace.apply();
    let after = workspace.output("cluster");
    for name in [
        "id",
        "arn",
        "namespace_id",
        "namespace_arn",
        "container_insights",
    ] {
        assert_eq!(before[name], after[name], "{name}");
    }

    // A name with characters ECS never allows is refused without a call.
    let output = workspace.try_tf(&["import", "-input=false", "-no-color", ADDRESS, "a b"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("Invalid Import ID"));

    workspace.destroy();
    assert!(describe(&aws.ecs, NAME).await.is_none());
    assert!(namespaces(&aws.sd).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_name_is_refused_before_aws() {
    let emulator = Emulator::start();
    let workspace = Workspace::copy_root(&emulator, FIXTURE);
    workspace.init();
    let main = std::fs::read_to_string(workspace.path().join("main.tf")).unwrap();
    workspace.write_file(
        "main.tf",
        &main.replace(
            "name               = \"atlas-test\"",
            "name = \"atlas.test\"",
        ),
    );
    let output = workspace.try_tf(&["plan", "-input=false", "-no-color"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("name may only contain"), "{stderr}");
    assert_eq!(emulator.count("ecs", "CreateCluster"), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn destroy_with_a_service_left_names_it_and_keeps_everything() {
    let emulator = Emulator::start();
    let aws = clients(&emulator).await;
    let workspace = Workspace::copy_root(&emulator, FIXTURE);
    workspace.init();
    workspace.apply();

    // A service made outside Terraform in the cluster.
    aws.ecs
        .register_task_definition()
        .family("web")
        .container_definitions(
            aws_sdk_ecs::types::ContainerDefinition::builder()
                .name("web")
                .image("nginx")
                .memory(512)
                .build(),
        )
        .send()
        .await
        .expect("RegisterTaskDefinition");
    aws.ecs
        .create_service()
        .cluster(NAME)
        .service_name("web")
        .task_definition("web")
        .desired_count(0)
        .send()
        .await
        .expect("CreateService");

    let output = workspace.try_tf(&["destroy", "-auto-approve", "-input=false", "-no-color"]);
    assert!(!output.status.success(), "the destroy succeeded");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Cluster Still Has Services"), "{stderr}");
    assert!(stderr.contains("service web"), "{stderr}");
    assert!(describe(&aws.ecs, NAME).await.is_some());
    assert_eq!(namespaces(&aws.sd).await.len(), 1, "the namespace is kept");

    // Once the service is gone, the destroy goes through.
    aws.ecs
        .delete_service()
        .cluster(NAME)
        .service("web")
        .send()
        .await
        .expect("DeleteService");
    workspace.destroy();
    assert!(describe(&aws.ecs, NAME).await.is_none());
    assert!(namespaces(&aws.sd).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn disappears() {
    let emulator = Emulator::start();
    let aws = clients(&emulator).await;
    let workspace = Workspace::copy_root(&emulator, FIXTURE);
    workspace.init();
    workspace.apply();

    // The cluster deleted outside Terraform, its namespace left: both are made again.
    aws.ecs
        .delete_cluster()
        .cluster(NAME)
        .send()
        .await
        .expect("DeleteCluster");
    let PlanOutcome::Changes(text) = workspace.plan_detailed_exitcode() else {
        panic!("the plan does not see the cluster gone")
    };
    assert!(
        text.contains("1 to add, 0 to change, 1 to destroy"),
        "{text}"
    );
    workspace.apply();
    let cluster = describe(&aws.ecs, NAME).await.expect("the cluster is back");
    assert_eq!(
        cluster
            .service_connect_defaults()
            .and_then(|d| d.namespace()),
        Some(attr(&workspace, "namespace_arn").as_str().unwrap())
    );
    assert_eq!(namespaces(&aws.sd).await.len(), 1, "one namespace, not two");
    assert_eq!(workspace.plan_detailed_exitcode(), PlanOutcome::NoChanges);

    // Cluster and namespace both deleted outside Terraform: the resource leaves state
    // and the next apply creates both.
    let namespace_id = attr(&workspace, "namespace_id")
        .as_str()
        .unwrap()
        .to_owned();
    aws.ecs
        .delete_cluster()
        .cluster(NAME)
        .send()
        .await
        .expect("DeleteCluster");
    aws.sd
        .delete_namespace()
        .id(&namespace_id)
        .send()
        .await
        .expect("DeleteNamespace");
    let PlanOutcome::Changes(text) = workspace.plan_detailed_exitcode() else {
        panic!("the plan does not see the cluster gone")
    };
    assert!(
        text.contains("1 to add, 0 to change, 0 to destroy"),
        "{text}"
    );
    workspace.apply();
    assert!(describe(&aws.ecs, NAME).await.is_some());
    assert_eq!(namespaces(&aws.sd).await.len(), 1);
}
