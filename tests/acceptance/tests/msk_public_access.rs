//! `atlas_msk_public_access` against MSK clusters made on the emulator: public access on
//! and off, import by cluster ARN, a cluster deleted outside Terraform (`disappears`),
//! and the clusters the resource must refuse before changing anything. Every check goes
//! through the Kafka API (`tests/emulator/msk_cluster.py`, boto3), never through the
//! provider's code.

use std::process::Command;

use atlas_acceptance::{repo_root, Emulator, PlanOutcome, Workspace, REGION};
use serde_json::Value;

const FIXTURE: &str = "tests/acceptance/tests/fixtures/msk_public_access";
const ADDRESS: &str = "atlas_msk_public_access.this";

/// Runs `tests/emulator/msk_cluster.py ARGS...` against `emulator` and returns its stdout.
fn msk_cluster(emulator: &Emulator, args: &[&str]) -> String {
    let root = repo_root();
    let mut command = Command::new(root.join(".venv/bin/python"));
    command
        .arg(root.join("tests/emulator/msk_cluster.py"))
        .args(["--endpoint", &emulator.endpoint(), "--region", REGION])
        .args(args);
    let output = command.output().expect("run tests/emulator/msk_cluster.py");
    assert!(
        output.status.success(),
        "msk_cluster.py {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("msk_cluster.py prints UTF-8")
}

/// A new ACTIVE cluster of three brokers (`--auth iam` or `--auth unauthenticated`).
fn create_cluster(emulator: &Emulator, name: &str, extra: &[&str]) -> String {
    let mut args = vec!["create"];
    args.extend_from_slice(extra);
    args.push(name);
    msk_cluster(emulator, &args).trim().to_owned()
}

/// The cluster as the Kafka API shows it: state, currentVersion, publicAccessType and
/// the GetBootstrapBrokers answer.
fn describe(emulator: &Emulator, arn: &str) -> Value {
    let text = msk_cluster(emulator, &["describe", arn]);
    serde_json::from_str(&text).expect("msk_cluster.py describe prints JSON")
}

fn use_cluster(workspace: &Workspace<'_>, arn: &str, enabled: bool) {
    workspace.write_file(
        "terraform.tfvars",
        &format!("cluster_arn = \"{arn}\"\nenabled     = {enabled}\n"),
    );
}

fn failed_apply(workspace: &Workspace<'_>) -> String {
    let output = workspace.try_tf(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    assert!(!output.status.success(), "the apply succeeded");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn public_access_on_then_off() {
    let emulator = Emulator::start();
    let arn = create_cluster(&emulator, "msk-basic", &[]);
    let workspace = Workspace::copy_root(&emulator, FIXTURE);
    workspace.init();

    // On: service-provided EIPs and a public IAM listener on 9198, one per broker.
    use_cluster(&workspace, &arn, true);
    workspace.apply();
    let cluster = describe(&emulator, &arn);
    assert_eq!(cluster["state"], "ACTIVE", "{cluster}");
    assert_eq!(
        cluster["publicAccessType"], "SERVICE_PROVIDED_EIPS",
        "{cluster}"
    );
    let state = workspace.output("public_access");
    assert_eq!(state["id"], arn.as_str());
    assert_eq!(state["public_access_type"], "SERVICE_PROVIDED_EIPS");
    assert_eq!(state["current_version"], cluster["currentVersion"]);
    let public = state["bootstrap_brokers_public_sasl_iam"]
        .as_str()
        .unwrap_or_else(|| panic!("no public IAM bootstrap brokers: {state}"));
    assert_eq!(
        public, cluster["bootstrapBrokers"]["BootstrapBrokerStringPublicSaslIam"],
        "{cluster}"
    );
    let brokers: Vec<&str> = public.split(',').collect();
    assert_eq!(brokers.len(), 3, "{public}");
    assert!(brokers.iter().all(|b| b.ends_with(":9198")), "{public}");
    assert_eq!(workspace.plan_detailed_exitcode(), PlanOutcome::NoChanges);

    // Off: back to DISABLED, and no public listener any more.
    use_cluster(&workspace, &arn, false);
    workspace.apply();
    let cluster = describe(&emulator, &arn);
    assert_eq!(cluster["publicAccessType"], "DISABLED", "{cluster}");
    assert!(
        cluster["bootstrapBrokers"]
            .get("BootstrapBrokerStringPublicSaslIam")
            .is_none(),
        "{cluster}"
    );
    let state = workspace.output("public_access");
    assert_eq!(state["public_access_type"], "DISABLED");
    assert_eq!(state["bootstrap_brokers_public_sasl_iam"], Value::Null);
    assert_eq!(workspace.plan_detailed_exitcode(), PlanOutcome::NoChanges);
}

#[tokio::test(flavor = "multi_thread")]
async fn import_by_cluster_arn_and_destroy_turns_public_access_off() {
    let emulator = Emulator::start();
    let arn = create_cluster(&emulator, "msk-import", &[]);
    let workspace = Workspace::copy_root(&emulator, FIXTURE);
    workspace.init();
    use_cluster(&workspace, &arn, true);
    workspace.apply();
    let applied = workspace.output("public_access");

    workspace.tf(&["state", "rm", ADDRESS]);
    workspace.tf(&["import", "-input=false", "-no-color", ADDRESS, &arn]);
    assert_eq!(workspace.plan_detailed_exitcode(), PlanOutcome::NoChanges);
    assert_eq!(workspace.output("public_access"), applied);

    workspace.destroy();
    let cluster = describe(&emulator, &arn);
    assert_eq!(cluster["publicAccessType"], "DISABLED", "{cluster}");
}

#[tokio::test(flavor = "multi_thread")]
async fn disappears() {
    let emulator = Emulator::start();
    let arn = create_cluster(&emulator, "msk-gone", &[]);
    let workspace = Workspace::copy_root(&emulator, FIXTURE);
    workspace.init();
    use_cluster(&workspace, &arn, true);
    workspace.apply();

    msk_cluster(&emulator, &["delete", &arn]);
    let output = workspace.tf(&["plan", "-input=false", "-no-color"]);
    assert!(
        output.stdout.contains("MSK Cluster Gone") || output.stderr.contains("MSK Cluster Gone"),
        "no warning about the deleted cluster:\n{}\n{}",
        output.stdout,
        output.stderr
    );
    assert!(
        output.stdout.contains("will be created"),
        "{}",
        output.stdout
    );
    // Destroying forgets a resource whose cluster is gone.
    workspace.destroy();
}

#[tokio::test(flavor = "multi_thread")]
async fn unauthenticated_cluster_is_refused_before_anything_changes() {
    let emulator = Emulator::start();
    let arn = create_cluster(&emulator, "msk-open", &["--auth", "unauthenticated"]);
    let before = describe(&emulator, &arn);
    let workspace = Workspace::copy_root(&emulator, FIXTURE);
    workspace.init();
    use_cluster(&workspace, &arn, true);

    let stderr = failed_apply(&workspace);
    assert!(stderr.contains("Public Access Not Allowed"), "{stderr}");
    assert!(
        stderr.contains("unauthenticated access is enabled"),
        "{stderr}"
    );
    let after = describe(&emulator, &arn);
    assert_eq!(after["currentVersion"], before["currentVersion"], "{after}");
    assert_eq!(after["publicAccessType"], Value::Null, "{after}");
    let state = workspace.tf(&["state", "list"]);
    assert!(!state.stdout.contains(ADDRESS), "{}", state.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn cluster_not_active_is_refused_before_anything_changes() {
    let emulator = Emulator::start();
    let arn = create_cluster(&emulator, "msk-new", &["--no-wait"]);
    let workspace = Workspace::copy_root(&emulator, FIXTURE);
    workspace.init();
    use_cluster(&workspace, &arn, true);

    let stderr = failed_apply(&workspace);
    assert!(stderr.contains("MSK Cluster Not Active"), "{stderr}");
    assert!(stderr.contains("CREATING"), "{stderr}");
    let cluster = describe(&emulator, &arn);
    assert_eq!(cluster["currentVersion"], "1.0", "{cluster}");
    assert_eq!(cluster["publicAccessType"], Value::Null, "{cluster}");
}
