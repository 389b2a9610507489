//! No log line at any level carries a credential: an apply and a destroy with
//! distinctive credentials in the environment and every log at trace level, Terraform's
//! and the provider's, written nowhere that contains them.
//!
//! The provider's port refusing a client without Terraform's certificate is pinned in
//! provider/atlas/tests/protocol.rs (`client_without_certificate_is_refused` and
//! `client_with_another_certificate_is_refused`).

use atlas_acceptance::{Emulator, Workspace};

const ACCESS_KEY_ID: &str = "AKIAATLASLEAKPROBE77";
const SECRET_ACCESS_KEY: &str = "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";
const SESSION_TOKEN: &str = "atlasSessionTokenLeakProbe0123456789abcdef";

#[test]
fn no_log_line_carries_a_credential_over_an_apply_and_a_destroy() {
    let emulator = Emulator::start();
    let workspace =
        Workspace::copy_root(&emulator, "tests/acceptance/tests/fixtures/network_small");
    workspace.init();

    let log_path = workspace.path().join("terraform-trace.log");
    let log_path_text = log_path.to_string_lossy().into_owned();
    let env = [
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY),
        ("AWS_SESSION_TOKEN", SESSION_TOKEN),
        ("TF_LOG", "trace"),
        ("TF_LOG_PROVIDER", "trace"),
        ("TF_LOG_PATH", log_path_text.as_str()),
    ];
    let mut everything = String::new();
    for args in [
        &["apply", "-auto-approve", "-input=false", "-no-color"][..],
        &["destroy", "-auto-approve", "-input=false", "-no-color"][..],
    ] {
        let output = workspace.try_tf_with_env(args, &env);
        assert!(
            output.status.success(),
            "terraform {args:?} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        everything.push_str(&String::from_utf8_lossy(&output.stdout));
        everything.push_str(&String::from_utf8_lossy(&output.stderr));
        everything.push_str(&std::fs::read_to_string(&log_path).expect("the trace log"));
    }

    let provider_lines = everything
        .lines()
        .filter(|line| line.contains("provider.terraform-provider-atlas"))
        .count();
    assert!(
        provider_lines > 100,
        "the provider's trace lines are not in the log ({provider_lines} lines): the test \
         would prove nothing"
    );
    assert!(
        everything.contains("creating vpc") && everything.contains("deleting internet gateway"),
        "the provider's debug lines of the create and the delete are not in the log"
    );
    for (name, secret) in [
        ("access key id", ACCESS_KEY_ID),
        ("secret access key", SECRET_ACCESS_KEY),
        ("session token", SESSION_TOKEN),
    ] {
        let leaks: Vec<&str> = everything
            .lines()
            .filter(|line| line.contains(secret))
            .take(5)
            .collect();
        assert!(
            leaks.is_empty(),
            "the {name} is in the log:\n{}",
            leaks.join("\n")
        );
    }
}
