//! The registry release that `make release` writes: `scripts/release.sh` run into a
//! temporary directory on the built provider binary, its zips unpacked and checked, its
//! manifest and `SHA256SUMS` checked against the files, and the zips installed by
//! `terraform init` from a filesystem mirror made of them, as a registry would serve them.
//! The signature is checked with a throwaway key when `gpg` is installed; without it the
//! test says that the signature was not checked.
//!
//! The binary is the one cargo built beside this test (`target/<profile>/
//! terraform-provider-atlas`, which `cargo test --workspace` and `make build` build), or
//! `ATLAS_PROVIDER_BINARY`. The zips are unpacked and hashed with python3 and sha256sum,
//! not with the script's own code.

// Each test binary uses a part of the shared helpers.
#[allow(dead_code)]
mod support;

use std::collections::BTreeSet;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use atlas_acceptance::repo_root;
use serde_json::{json, Value};
use support::{run_ok, terraform_ok};
use tempfile::TempDir;

/// The release version: the workspace's, which the provider crate shares.
const VERSION: &str = env!("CARGO_PKG_VERSION");

#[test]
fn release_zips_manifest_and_sums_install_through_terraform_init() {
    let binary = provider_binary();
    let (os, arch) = host_platform();
    let platform = format!("{os}_{arch}");
    let prefix = format!("terraform-provider-atlas_{VERSION}");
    let work = tempdir("atlas-release-");
    let dist = work.path().join("dist");

    // 1. The release, unsigned.
    let printed = release(&binary, &dist, &[]);
    assert!(
        printed.contains("signature skipped"),
        "an unsigned release says so: {printed}"
    );
    let zip = format!("{prefix}_{platform}.zip");
    let manifest = format!("{prefix}_manifest.json");
    let sums = format!("{prefix}_SHA256SUMS");
    assert_eq!(
        file_names(&dist),
        BTreeSet::from([zip.clone(), manifest.clone(), sums.clone()]),
        "the files of a host-only, unsigned release"
    );

    // 2. The manifest declares protocol 6.0 only.
    let manifest_json: Value =
        serde_json::from_str(&fs::read_to_string(dist.join(&manifest)).unwrap())
            .expect("the manifest is JSON");
    assert_eq!(
        manifest_json,
        json!({"version": 1, "metadata": {"protocol_versions": ["6.0"]}})
    );

    // 3. SHA256SUMS lists exactly the zips and the manifest, with their hashes.
    let listed = parse_sums(&fs::read_to_string(dist.join(&sums)).unwrap());
    let names: BTreeSet<String> = listed.iter().map(|(_, name)| name.clone()).collect();
    assert_eq!(names, BTreeSet::from([zip.clone(), manifest.clone()]));
    for (hash, name) in &listed {
        assert_eq!(
            *hash,
            sha256_hex(&dist.join(name)),
            "SHA256SUMS's hash of {name}"
        );
    }

    // 4. The zip holds one executable named for the version: the binary, byte for byte.
    let unpacked = work.path().join("unpacked");
    let entries = unzip(&dist.join(&zip), &unpacked);
    let executable = format!("terraform-provider-atlas_v{VERSION}");
    assert_eq!(
        entries,
        vec![(executable.clone(), 0o100755)],
        "the zip's entries and modes"
    );
    assert!(
        fs::read(unpacked.join(&executable)).unwrap() == fs::read(&binary).unwrap(),
        "the zipped executable is not the binary that was packed"
    );
    let reported = run_ok(Command::new(unpacked.join(&executable)).arg("--version"));
    assert_eq!(
        reported.trim(),
        format!("terraform-provider-atlas {VERSION}")
    );

    // 5. Installed by terraform init from a mirror of the zips, as a registry serves them;
    //    the lock file records the hash of the package, computed here independently.
    let mirror = work.path().join("mirror");
    let package_dir = mirror.join("registry.terraform.io/atlas/atlas");
    fs::create_dir_all(&package_dir).unwrap();
    fs::copy(dist.join(&zip), package_dir.join(&zip)).unwrap();
    let cli_config = work.path().join("terraformrc");
    fs::write(&cli_config, mirror_config(&mirror)).unwrap();
    let root = work.path().join("root");
    fs::create_dir_all(&root).unwrap();
    fs::write(root.join("main.tf"), root_module()).unwrap();

    let init = terraform_ok(&root, &cli_config, &["init", "-input=false", "-no-color"]);
    assert!(
        init.contains(&format!("Installing atlas/atlas v{VERSION}")),
        "{init}"
    );
    let installed = root.join(format!(
        ".terraform/providers/registry.terraform.io/atlas/atlas/{VERSION}/{platform}/{executable}"
    ));
    assert!(
        fs::read(&installed).expect("terraform init unpacked the provider")
            == fs::read(&binary).unwrap(),
        "terraform init installed something other than the packed binary"
    );
    let h1 = package_hash(&unpacked);
    let lock = fs::read_to_string(root.join(".terraform.lock.hcl")).unwrap();
    let locked_version = lock.lines().any(|line| {
        let line = line.trim();
        line.starts_with("version") && line.ends_with(&format!("= \"{VERSION}\""))
    });
    assert!(
        locked_version && lock.contains(&h1),
        "the lock file does not record {VERSION} with hash {h1}:\n{lock}"
    );
    let mirror_arg = format!("-fs-mirror={}", mirror.display());
    let platform_arg = format!("-platform={platform}");
    terraform_ok(
        &root,
        &cli_config,
        &["providers", "lock", "-no-color", &mirror_arg, &platform_arg],
    );
    let lock = fs::read_to_string(root.join(".terraform.lock.hcl")).unwrap();
    assert!(lock.contains(&h1), "providers lock dropped {h1}:\n{lock}");
    // The installed provider starts and answers as Terraform's plugin.
    terraform_ok(&root, &cli_config, &["validate", "-no-color"]);

    // 6. A second release of the same binary is the same bytes.
    let again = work.path().join("again");
    release(&binary, &again, &[]);
    for name in [&zip, &manifest, &sums] {
        assert!(
            fs::read(dist.join(name)).unwrap() == fs::read(again.join(name)).unwrap(),
            "{name} differs between two releases of the same binary"
        );
    }
}

#[test]
fn release_refuses_a_version_other_than_the_crates() {
    let binary = provider_binary();
    let work = tempdir("atlas-release-");
    let output = Command::new(repo_root().join("scripts/release.sh"))
        .args(["--version", "999.0.0", "--host-only", "--binary"])
        .arg(&binary)
        .arg("--out")
        .arg(work.path())
        .output()
        .expect("run scripts/release.sh");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "released 999.0.0: {stderr}");
    assert!(
        stderr.contains("differs from the crate's version"),
        "{stderr}"
    );
    assert!(
        file_names(work.path()).is_empty(),
        "a refused release wrote files"
    );
}

#[test]
fn signed_release_verifies_with_gpg() {
    if Command::new("gpg").arg("--version").output().is_err() {
        // Written past the test harness's capture, so that it shows in every run.
        let _ = writeln!(
            std::io::stderr(),
            "signed_release_verifies_with_gpg: NOT RUN, gpg is not on PATH; the signature \
             of SHA256SUMS was not checked"
        );
        return;
    }
    let binary = provider_binary();
    let work = tempdir("atlas-release-");
    // A short path: gpg-agent's socket lives in GNUPGHOME, and socket paths are short.
    let gnupg = tempdir("atlas-gpg-");
    let home = gnupg.path().to_str().unwrap().to_owned();
    let _agent = Agent(home.clone());
    // RSA, which the Terraform registry accepts for provider signing keys.
    run_ok(Command::new("gpg").env("GNUPGHOME", &home).args([
        "--batch",
        "--passphrase",
        "",
        "--quick-gen-key",
        "atlas release test <release-test@example.invalid>",
        "rsa2048",
        "sign",
        "never",
    ]));
    let keys = run_ok(Command::new("gpg").env("GNUPGHOME", &home).args([
        "--batch",
        "--with-colons",
        "--list-secret-keys",
    ]));
    let fingerprint = keys
        .lines()
        .find_map(|l| l.strip_prefix("fpr:"))
        .and_then(|rest| rest.split(':').find(|f| f.len() == 40))
        .expect("the new key's fingerprint")
        .to_owned();

    let dist = work.path().join("dist");
    let printed = release(
        &binary,
        &dist,
        &[("GNUPGHOME", &home), ("GPG_FINGERPRINT", &fingerprint)],
    );
    assert!(
        printed.contains(&format!("signed with key {fingerprint}")),
        "{printed}"
    );
    let sums = dist.join(format!("terraform-provider-atlas_{VERSION}_SHA256SUMS"));
    let sig = dist.join(format!("terraform-provider-atlas_{VERSION}_SHA256SUMS.sig"));
    let signature = fs::read(&sig).expect("the release has a signature");
    assert!(
        !signature.starts_with(b"-----BEGIN"),
        "the signature is ASCII-armored, the registry wants it binary"
    );

    let verify = |data: &Path| {
        Command::new("gpg")
            .env("GNUPGHOME", &home)
            .args(["--batch", "--verify"])
            .arg(&sig)
            .arg(data)
            .output()
            .expect("run gpg --verify")
    };
    let good = verify(&sums);
    assert!(
        good.status.success(),
        "gpg --verify: {}",
        String::from_utf8_lossy(&good.stderr)
    );
    let tampered = work.path().join("tampered");
    let mut text = fs::read(&sums).unwrap();
    text[0] = if text[0] == b'0' { b'1' } else { b'0' };
    fs::write(&tampered, text).unwrap();
    assert!(
        !verify(&tampered).status.success(),
        "the signature verifies sums it does not sign"
    );
}

/// Stops the gpg-agent of a throwaway GNUPGHOME when the test ends.
struct Agent(String);

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .env("GNUPGHOME", &self.0)
            .args(["--kill", "gpg-agent"])
            .output();
    }
}

/// Runs `scripts/release.sh` for the host only, with no signing key unless `env` sets one.
fn release(binary: &Path, out: &Path, env: &[(&str, &str)]) -> String {
    let mut command = Command::new(repo_root().join("scripts/release.sh"));
    command
        .args(["--host-only", "--binary"])
        .arg(binary)
        .arg("--out")
        .arg(out)
        .env_remove("GPG_FINGERPRINT")
        .env_remove("GPG_KEY_ID")
        .env_remove("VERSION")
        .envs(env.iter().copied());
    run_ok(&mut command)
}

/// The provider binary beside this test executable, or `ATLAS_PROVIDER_BINARY`.
fn provider_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("ATLAS_PROVIDER_BINARY") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("the test's own path");
    // target/<profile>/deps/release-<hash>
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test runs from target/<profile>/deps");
    let binary = profile_dir.join("terraform-provider-atlas");
    assert!(
        binary.is_file(),
        "no provider binary at {}: build it with the tests (`cargo test --workspace`, or \
         `make build` for release) or name one with ATLAS_PROVIDER_BINARY",
        binary.display()
    );
    binary
}

fn host_platform() -> (&'static str, &'static str) {
    let os = match std::env::consts::OS {
        "linux" => "linux",
        "macos" => "darwin",
        other => panic!("no release platform for {other}"),
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => panic!("no release platform for {other}"),
    };
    (os, arch)
}

fn tempdir(prefix: &str) -> TempDir {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .expect("create a temporary directory")
}

fn file_names(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The `(hash, name)` pairs of a sha256sum file; every line must have that form.
fn parse_sums(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(|line| {
            let (hash, name) = line
                .split_once("  ")
                .unwrap_or_else(|| panic!("not a sha256sum line: {line:?}"));
            assert!(
                hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
                "not a SHA-256 hash: {line:?}"
            );
            (hash.to_owned(), name.to_owned())
        })
        .collect()
}

fn sha256_hex(path: &Path) -> String {
    let out = run_ok(Command::new("sha256sum").arg(path));
    out.split_whitespace().next().unwrap().to_owned()
}

/// Unpacks `zip` into `to` with python3's zipfile, honouring the modes; returns each
/// entry's name and Unix mode.
fn unzip(zip: &Path, to: &Path) -> Vec<(String, u32)> {
    let script = r#"
import json, os, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    entries = []
    for info in z.infolist():
        mode = info.external_attr >> 16
        path = z.extract(info, sys.argv[2])
        os.chmod(path, mode & 0o7777)
        entries.append([info.filename, mode])
print(json.dumps(entries))
"#;
    let out = run_ok(
        Command::new("python3")
            .args(["-c", script])
            .arg(zip)
            .arg(to),
    );
    serde_json::from_str(&out).expect("python3 printed the entries")
}

/// Terraform's `h1:` hash of an unpacked package: SHA-256 over the sorted lines
/// `<sha256 of the file>  <path>`, base64.
fn package_hash(dir: &Path) -> String {
    let script = r#"
import base64, hashlib, os, sys
root = sys.argv[1]
lines = []
for base, _, files in os.walk(root):
    for f in files:
        path = os.path.join(base, f)
        rel = os.path.relpath(path, root).replace(os.sep, "/")
        with open(path, "rb") as fh:
            lines.append("%s  %s\n" % (hashlib.sha256(fh.read()).hexdigest(), rel))
lines.sort()
print("h1:" + base64.b64encode(hashlib.sha256("".join(lines).encode()).digest()).decode())
"#;
    run_ok(Command::new("python3").args(["-c", script]).arg(dir))
        .trim()
        .to_owned()
}

fn mirror_config(mirror: &Path) -> String {
    format!(
        r#"provider_installation {{
  filesystem_mirror {{
    path    = "{}"
    include = ["registry.terraform.io/atlas/atlas"]
  }}
  direct {{
    exclude = ["registry.terraform.io/atlas/atlas"]
  }}
}}
"#,
        mirror.display()
    )
}

fn root_module() -> String {
    format!(
        r#"terraform {{
  required_providers {{
    atlas = {{
      source  = "atlas/atlas"
      version = "{VERSION}"
    }}
  }}
}}

provider "atlas" {{
  region = "eu-west-1"
}}
"#
    )
}
