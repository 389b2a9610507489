//! Running the Terraform CLI and the release script without an emulator, for the tests
//! that only install and validate: the examples and the release packages.

use std::ffi::OsStr;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Runs `terraform ARGS...` in `dir` with `cli_config` as its CLI configuration and none of
/// the settings of the person running the tests that would change what it installs.
///
/// # Panics
///
/// When `terraform` is not on PATH, saying so.
pub(crate) fn terraform(dir: &Path, cli_config: &Path, args: &[&str]) -> (Command, Output) {
    let mut command = Command::new("terraform");
    command
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .env("TF_CLI_CONFIG_FILE", cli_config)
        .env("TF_IN_AUTOMATION", "1");
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("TF_CLI_ARGS") {
            command.env_remove(&name);
        }
    }
    for name in ["TF_WORKSPACE", "TF_DATA_DIR", "TF_PLUGIN_CACHE_DIR"] {
        command.env_remove(name);
    }
    let output = match command.output() {
        Ok(output) => output,
        Err(error) if error.kind() == io::ErrorKind::NotFound => panic!(
            "terraform is not on PATH: this test runs the real Terraform CLI (1.11 or \
             later); install it and run the test again"
        ),
        Err(error) => panic!("run terraform {}: {error}", args.join(" ")),
    };
    (command, output)
}

/// Like [`terraform`], failing the test with everything it printed unless it succeeds.
pub(crate) fn terraform_ok(dir: &Path, cli_config: &Path, args: &[&str]) -> String {
    let (command, output) = terraform(dir, cli_config, args);
    assert!(output.status.success(), "{}", describe(&command, &output));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Runs a command to completion, failing the test with everything it printed unless it
/// succeeds; returns its stdout.
pub(crate) fn run_ok(command: &mut Command) -> String {
    let output = command
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|error| panic!("run {:?}: {error}", command.get_program()));
    assert!(output.status.success(), "{}", describe(command, &output));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The command, its directory, status and output, for a failure message.
pub(crate) fn describe(command: &Command, output: &Output) -> String {
    let program = command.get_program().to_string_lossy();
    let args: Vec<_> = command.get_args().map(OsStr::to_string_lossy).collect();
    format!(
        "`{program} {}` in {} failed ({})\n--- stdout ---\n{}\n--- stderr ---\n{}",
        args.join(" "),
        command
            .get_current_dir()
            .map_or_else(|| ".".into(), Path::to_string_lossy),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    )
}

/// The repository's CLI configuration that `make install` writes.
///
/// # Panics
///
/// When it does not exist, saying which target writes it.
pub(crate) fn installed_cli_config() -> PathBuf {
    let path = atlas_acceptance::repo_root().join(".terraformrc.generated");
    assert!(
        path.is_file(),
        "no {}: run `make install` first, to install the provider's release into the \
         repository's filesystem mirror",
        path.display()
    );
    path
}
