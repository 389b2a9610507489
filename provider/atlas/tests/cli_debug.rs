//! `terraform-provider-atlas --debug`: the provider serves on its own, prints the
//! `TF_REATTACH_PROVIDERS` value, and the real Terraform CLI uses that process.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use atlas_acceptance::{Emulator, Workspace};

#[test]
fn debug_mode_serves_terraform_through_reattach() {
    let emulator = Emulator::start();
    // Terraform passes no environment to a provider it did not start: the provider
    // process itself is pointed at the emulator.
    let mut child = Command::new(env!("CARGO_BIN_EXE_terraform-provider-atlas"))
        .arg("--debug")
        .envs(emulator.env())
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env_remove("AWS_PROFILE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the provider in debug mode");

    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().expect("piped stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(rest) = line.trim().strip_prefix("export TF_REATTACH_PROVIDERS='") {
                let _ = tx.send(rest.trim_end_matches('\'').to_owned());
            }
        }
    });
    let mut stderr = child.stderr.take().expect("piped stderr");
    let log = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let reattach = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the reattach line");
    let parsed: serde_json::Value = serde_json::from_str(&reattach).expect("reattach is JSON");
    let entry = &parsed["registry.terraform.io/atlas/atlas"];
    assert_eq!(entry["ProtocolVersion"], 6);
    assert_eq!(entry["Test"], true, "protocol 6 needs Test: true");
    assert_eq!(entry["Pid"], child.id());

    let workspace =
        Workspace::copy_root(&emulator, "tests/acceptance/tests/fixtures/network_small");
    let env = [("TF_REATTACH_PROVIDERS", reattach.as_str())];
    let init = workspace.try_tf_with_env(
        &[
            "init",
            "-input=false",
            "-no-color",
            "-backend-config=emulator.s3.tfbackend",
        ],
        &env,
    );
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let plan = workspace.try_tf_with_env(&["plan", "-input=false", "-no-color"], &env);
    let plan_out = String::from_utf8_lossy(&plan.stdout).into_owned();
    assert!(
        plan.status.success(),
        "{}",
        String::from_utf8_lossy(&plan.stderr)
    );
    assert!(
        plan_out.contains("atlas_network.small will be created"),
        "{plan_out}"
    );

    let _ = child.kill();
    let _ = child.wait();
    let log = log.join().unwrap_or_default();
    assert!(
        log.contains("\"tf_rpc\":\"ConfigureProvider\""),
        "the debug process served the plan itself: {log}"
    );
}
