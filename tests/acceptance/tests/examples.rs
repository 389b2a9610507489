//! Every example under `examples/` (the HCL the registry docs show) initializes from the
//! repository's filesystem mirror and passes `terraform validate`.
//!
//! Resource and data-source examples are snippets without a `terraform` block, as the docs
//! show them; each is validated together with `examples/provider/provider.tf`, which
//! declares the provider's source, unless it declares `required_providers` itself.

// Each test binary uses a part of the shared helpers.
#[allow(dead_code)]
mod support;

use std::fs;
use std::path::{Path, PathBuf};

use atlas_acceptance::repo_root;
use support::{describe, installed_cli_config, terraform, terraform_ok};

#[test]
fn every_example_initializes_from_the_mirror_and_validates() {
    let cli_config = installed_cli_config();
    let examples = repo_root().join("examples");
    let provider_tf = fs::read_to_string(examples.join("provider/provider.tf"))
        .expect("read examples/provider/provider.tf");
    let dirs = example_dirs(&examples);
    assert!(
        dirs.iter().any(|d| d.ends_with("provider"))
            && dirs
                .iter()
                .any(|d| d.starts_with(examples.join("resources")))
            && dirs
                .iter()
                .any(|d| d.starts_with(examples.join("data-sources"))),
        "expected the provider's, resources' and data sources' examples, found {dirs:#?}"
    );

    let mut failures = Vec::new();
    for dir in &dirs {
        let name = dir.strip_prefix(&examples).unwrap().display().to_string();
        let work = tempfile::Builder::new()
            .prefix("atlas-example-")
            .tempdir()
            .expect("create a temporary directory");
        let mut declares_providers = false;
        for entry in fs::read_dir(dir).expect("list an example directory") {
            let path = entry.expect("read a directory entry").path();
            if path.extension().is_some_and(|e| e == "tf") {
                let text = fs::read_to_string(&path).expect("read an example file");
                declares_providers |= text.contains("required_providers");
                fs::write(work.path().join(path.file_name().unwrap()), text)
                    .expect("copy an example file");
            }
        }
        if !declares_providers {
            fs::write(work.path().join("provider.tf"), &provider_tf).expect("add provider.tf");
        }

        let init = terraform_ok(
            work.path(),
            &cli_config,
            &["init", "-input=false", "-no-color", "-backend=false"],
        );
        assert!(
            init.contains("Installing atlas/atlas v"),
            "{name}: init did not install atlas/atlas:\n{init}"
        );
        let (command, output) = terraform(work.path(), &cli_config, &["validate", "-no-color"]);
        eprintln!("examples/{name}: terraform validate ({})", output.status);
        if !output.status.success() {
            failures.push(format!("examples/{name}:\n{}", describe(&command, &output)));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} examples fail terraform validate:\n{}",
        failures.len(),
        dirs.len(),
        failures.join("\n")
    );
}

/// Every directory under `examples/` that holds a `.tf` file, sorted.
fn example_dirs(examples: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![examples.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let mut has_tf = false;
        for entry in fs::read_dir(&dir).expect("list an examples directory") {
            let path = entry.expect("read a directory entry").path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != ".terraform") {
                    pending.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "tf") {
                has_tf = true;
            }
        }
        if has_tf {
            found.push(dir);
        }
    }
    found.sort();
    found
}

/// The three roots, each copied with the shared module beside it, initialize from the
/// mirror (without a backend) and pass `terraform validate` and `terraform fmt -check`.
#[test]
fn every_root_validates_and_is_formatted() {
    let cli_config = installed_cli_config();
    let terraform_dir = repo_root().join("terraform");
    let work = tempfile::Builder::new()
        .prefix("atlas-roots-")
        .tempdir()
        .expect("create a temporary directory");
    copy_hcl(&terraform_dir, work.path());

    let (command, output) = terraform(work.path(), &cli_config, &["fmt", "-check", "-recursive"]);
    assert!(
        output.status.success(),
        "terraform/ is not formatted (run make fmt):\n{}",
        describe(&command, &output)
    );
    let mut failures = Vec::new();
    for root in ["staging", "staging2", "production"] {
        let dir = work.path().join(root);
        terraform_ok(
            &dir,
            &cli_config,
            &["init", "-input=false", "-no-color", "-backend=false"],
        );
        let (command, output) = terraform(&dir, &cli_config, &["validate", "-no-color"]);
        eprintln!("terraform/{root}: terraform validate ({})", output.status);
        if !output.status.success() {
            failures.push(describe(&command, &output));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Copies the `.tf` and `.tfvars` files under `from` to `to`, keeping the folders and
/// leaving out Terraform's working files.
fn copy_hcl(from: &Path, to: &Path) {
    for entry in fs::read_dir(from).expect("list a folder of terraform/") {
        let path = entry.expect("read a directory entry").path();
        let name = path.file_name().unwrap();
        if path.is_dir() {
            if name != ".terraform" {
                fs::create_dir_all(to.join(name)).expect("create a folder");
                copy_hcl(&path, &to.join(name));
            }
        } else if path.extension().is_some_and(|e| e == "tf" || e == "tfvars") {
            fs::copy(&path, to.join(name)).expect("copy a file");
        }
    }
}
