//! What a platform engineer sees in the Terraform CLI: diagnostics that point at the right
//! line, and the provider's own log lines under `TF_LOG_PROVIDER`.

use atlas_acceptance::{Emulator, Workspace};

#[test]
fn invalid_cidr_points_at_the_line_of_the_attribute() {
    let emulator = Emulator::start();
    let workspace =
        Workspace::copy_root(&emulator, "tests/acceptance/tests/fixtures/network_invalid");
    workspace.init();
    let output = workspace.try_tf(&["validate", "-no-color"]);
    assert!(
        !output.status.success(),
        "validate accepted a CIDR with host bits set"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Invalid CIDR Block"), "{stderr}");
    assert!(
        stderr.contains("on main.tf line 16, in resource \"atlas_network\" \"bad\""),
        "{stderr}"
    );
    assert!(
        stderr.contains("10.0.0.0/16"),
        "the detail suggests the network address: {stderr}"
    );
    assert!(
        emulator
            .requests()
            .iter()
            .all(|r| r.service.as_deref() == Some("s3")),
        "validate reached AWS"
    );
}

#[test]
fn provider_log_lines_follow_tf_log_provider() {
    let emulator = Emulator::start();
    let workspace =
        Workspace::copy_root(&emulator, "tests/acceptance/tests/fixtures/network_small");
    workspace.init();

    let debug = workspace.try_tf_with_env(&["plan", "-no-color"], &[("TF_LOG_PROVIDER", "debug")]);
    assert!(
        debug.status.success(),
        "{}",
        String::from_utf8_lossy(&debug.stderr)
    );
    let stderr = String::from_utf8_lossy(&debug.stderr);
    let ours: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("provider.terraform-provider-atlas"))
        .collect();
    assert!(
        ours.iter().any(|l| l.contains("[DEBUG]")
            && l.contains("configured AWS")
            && l.contains("tf_rpc=ConfigureProvider")),
        "no debug line from ConfigureProvider with its RPC field: {ours:#?}"
    );
    assert!(
        ours.iter().all(|l| !l.contains("[TRACE]")),
        "trace lines at debug level: {ours:#?}"
    );
    // Parsed as JSON: rendered natively, not as a raw line with the JSON text in it.
    assert!(
        ours.iter().all(|l| !l.contains("\"@message\"")),
        "a line was not parsed: {ours:#?}"
    );
    assert!(
        ours.iter()
            .all(|l| !l.contains("AWS_SECRET") && !l.contains("test:test")),
        "{ours:#?}"
    );

    let warn = workspace.try_tf_with_env(&["plan", "-no-color"], &[("TF_LOG_PROVIDER", "warn")]);
    let stderr = String::from_utf8_lossy(&warn.stderr);
    assert!(
        !stderr
            .lines()
            .any(|l| l.contains("provider.terraform-provider-atlas")
                && l.contains("[DEBUG]")
                && l.contains("configured AWS")),
        "debug lines at warn level: {stderr}"
    );
}
