//! The acceptance-test harness: the real Terraform CLI and the installed provider,
//! against a local AWS emulator that each test starts for itself.
//!
//! A test starts an [`Emulator`] (moto's server mode with the project's extensions,
//! from `tests/emulator`), copies a root module into a [`Workspace`] whose S3 backend
//! points at that emulator, and drives `terraform` through it. It then checks what
//! exists through the AWS SDK for Rust ([`Emulator::sdk_config`]), never through the
//! provider's own code, so a bug in the provider cannot hide itself.
//!
//! Nothing here skips: a missing virtualenv, provider install or `terraform` binary
//! fails the test with a message that says which `make` target fixes it. `make test`
//! runs those targets first.

pub mod service_fixture;

use std::ffi::OsStr;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_ec2::config::Credentials;
use serde_json::Value;
use tempfile::TempDir;

pub mod inventory;

/// The region every emulator client and workspace uses.
pub const REGION: &str = "eu-west-1";

/// The access key id and secret the emulator is given; it accepts any.
pub const CREDENTIAL: &str = "test";

/// The state bucket [`Workspace::copy_root`] creates on the emulator.
pub const STATE_BUCKET: &str = "atlas-tfstate";

/// How long the emulator may take to answer after it is launched. Importing moto
/// takes a few seconds, more on a loaded machine.
const EMULATOR_START_TIMEOUT: Duration = Duration::from_secs(60);

/// Where each root keeps the emulator variant of its backend settings.
const BACKEND_TEMPLATE: &str = "backend/emulator.s3.tfbackend.tmpl";

/// The file [`Workspace::copy_root`] renders the backend template into.
const BACKEND_FILE: &str = "emulator.s3.tfbackend";

/// The repository root: two levels above the manifest directory of the package whose
/// tests or benches are running (`tests/acceptance` or `provider/atlas`).
///
/// Cargo sets `CARGO_MANIFEST_DIR` when it runs a test or a bench, and that names the
/// checkout being tested. The directory compiled into this crate is only the fallback:
/// two checkouts that build into one shared target directory share this crate's compiled
/// library too, and with it the path of whichever checkout built it last.
pub fn repo_root() -> PathBuf {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    manifest_dir
        .ancestors()
        .nth(2)
        .expect("the package sits two levels below the repository root")
        .to_path_buf()
}

/// A running emulator on 127.0.0.1 and a free port, stopped when dropped.
///
/// Every request it serves is appended to a request log, which [`Emulator::requests`]
/// reads back so that a test can count AWS calls by service and operation.
#[derive(Debug)]
pub struct Emulator {
    child: Child,
    port: u16,
    dir: TempDir,
}

impl Emulator {
    /// Launches `tests/emulator/server.py` with the project's virtualenv and waits
    /// until it answers.
    ///
    /// # Panics
    ///
    /// When the virtualenv is missing (run `make venv`), or the emulator exits or
    /// stays silent; the panic shows the emulator's own output.
    pub fn start() -> Emulator {
        Emulator::start_with(&FaultSettings::default())
    }

    /// Like [`Emulator::start`], with latency and fault switches on from the first
    /// request (see [`FaultSettings`]).
    ///
    /// # Panics
    ///
    /// As [`Emulator::start`]; also when the emulator rejects the settings.
    pub fn start_with(settings: &FaultSettings) -> Emulator {
        let root = repo_root();
        let python = root.join(".venv/bin/python");
        assert!(
            python.is_file(),
            "no project virtualenv at {}: run `make venv` first (it installs the \
             emulator from tests/emulator/requirements.txt)",
            python.display()
        );

        let dir = tempfile::Builder::new()
            .prefix("atlas-emulator-")
            .tempdir()
            .expect("create a temporary directory for the emulator");
        let port_file = dir.path().join("port");
        let server_log = dir.path().join("server.log");
        let log = File::create(&server_log).expect("create the emulator's log file");
        let log_for_stderr = log.try_clone().expect("share the emulator's log file");

        let mut child = Command::new(&python)
            .arg(root.join("tests/emulator/server.py"))
            .arg("--port")
            .arg("0")
            .arg("--port-file")
            .arg(&port_file)
            .arg("--request-log")
            .arg(dir.path().join("requests.jsonl"))
            .arg("--faults")
            .arg(settings.to_json().to_string())
            .env_remove("ATLAS_EMULATOR_FAULTS")
            .env_remove("ATLAS_EMULATOR_LATENCY_MS")
            .current_dir(&root)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_for_stderr)
            .spawn()
            .unwrap_or_else(|error| panic!("launch {}: {error}", python.display()));

        let started = Instant::now();
        let port = loop {
            // The launcher writes the file atomically, once it answers requests.
            if let Ok(text) = fs::read_to_string(&port_file) {
                break text
                    .trim()
                    .parse::<u16>()
                    .unwrap_or_else(|_| panic!("emulator wrote a bad port file: {text:?}"));
            }
            if let Some(status) = child.try_wait().expect("poll the emulator process") {
                panic!(
                    "the emulator exited ({status}) before answering; its output:\n{}",
                    read_or_note(&server_log)
                );
            }
            if started.elapsed() > EMULATOR_START_TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "the emulator did not answer within {}s; its output:\n{}",
                    EMULATOR_START_TIMEOUT.as_secs(),
                    read_or_note(&server_log)
                );
            }
            thread::sleep(Duration::from_millis(50));
        };

        Emulator { child, port, dir }
    }

    /// The port the emulator listens on, on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The emulator's URL, `http://127.0.0.1:PORT`: the endpoint of every service.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The environment that aims AWS SDKs, the AWS CLI, Terraform's S3 backend and
    /// the provider at this emulator with its dummy credentials.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ACCESS_KEY_ID", CREDENTIAL.to_owned()),
            ("AWS_SECRET_ACCESS_KEY", CREDENTIAL.to_owned()),
            ("AWS_REGION", REGION.to_owned()),
        ]
    }

    /// An SDK configuration for this emulator: its endpoint, [`REGION`] and static
    /// test credentials, whatever the environment says.
    pub async fn sdk_config(&self) -> SdkConfig {
        let credentials = Credentials::new(CREDENTIAL, CREDENTIAL, None, None, "atlas-emulator");
        aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(self.endpoint())
            .region(Region::new(REGION))
            .credentials_provider(credentials)
            .load()
            .await
    }

    /// Creates an S3 bucket in [`REGION`]; creating one that exists succeeds.
    ///
    /// The test crate has no S3 client of its own, so this runs
    /// `tests/emulator/create_bucket.py` (boto3) with the project's virtualenv.
    pub fn create_bucket(&self, name: &str) {
        let root = repo_root();
        let mut command = Command::new(root.join(".venv/bin/python"));
        command
            .arg(root.join("tests/emulator/create_bucket.py"))
            .arg("--endpoint")
            .arg(self.endpoint())
            .arg("--region")
            .arg(REGION)
            .arg(name);
        let output = command
            .output()
            .expect("run tests/emulator/create_bucket.py");
        assert!(
            output.status.success(),
            "create bucket {name} on the emulator: {}",
            describe(&command, &output)
        );
    }

    /// Requests an ACM certificate for `domain` in [`REGION`] and returns its ARN, for
    /// an HTTPS listener.
    ///
    /// The test crate has no ACM client of its own, so this runs
    /// `tests/emulator/create_certificate.py` (boto3) with the project's virtualenv.
    pub fn create_certificate(&self, domain: &str) -> String {
        let root = repo_root();
        let mut command = Command::new(root.join(".venv/bin/python"));
        command
            .arg(root.join("tests/emulator/create_certificate.py"))
            .arg("--endpoint")
            .arg(self.endpoint())
            .arg("--region")
            .arg(REGION)
            .arg(domain);
        let output = command
            .output()
            .expect("run tests/emulator/create_certificate.py");
        assert!(
            output.status.success(),
            "create certificate {domain} on the emulator: {}",
            describe(&command, &output)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    /// Every AWS request the emulator has served so far, in the order they arrived.
    ///
    /// The log is written as calls end, so a dropped call's line can come after the
    /// line of the call the client made next; this sorts by arrival (stable for ties).
    pub fn requests(&self) -> Vec<Request> {
        let path = self.dir.path().join("requests.jsonl");
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Vec::new(),
            Err(error) => panic!("read the request log {}: {error}", path.display()),
        };
        let mut requests: Vec<Request> = text
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                let entry: Value = serde_json::from_str(line)
                    .unwrap_or_else(|error| panic!("bad request log line {line:?}: {error}"));
                Request::from_log(&entry)
            })
            .collect();
        requests.sort_by(|a, b| a.started.total_cmp(&b.started));
        requests
    }

    /// How many requests named this service (as in the SigV4 credential scope, such
    /// as `ec2` or `logs`) and operation (such as `CreateVpc`).
    pub fn count(&self, service: &str, operation: &str) -> usize {
        self.requests()
            .iter()
            .filter(|request| request.is(service, operation))
            .count()
    }
}

// ---------------------------------------------------------------------------------------
// Latency and faults (tests/emulator/faults.py)

/// What a call chosen to fail gets from the emulator, instead of moto's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FaultKind {
    /// The protocol's throttling error: EC2 `RequestLimitExceeded` (HTTP 503), query
    /// `Throttling` and JSON `ThrottlingException` (HTTP 400), S3 `SlowDown` (503).
    Throttle,
    /// HTTP 500 `InternalError` / `InternalFailure`.
    InternalError,
    /// The connection is closed after the request was read, without an answer.
    Drop,
}

impl FaultKind {
    /// Every kind.
    pub const ALL: [FaultKind; 3] = [
        FaultKind::Throttle,
        FaultKind::InternalError,
        FaultKind::Drop,
    ];

    /// The kind's name, as the settings and the request log spell it.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Throttle => "throttle",
            FaultKind::InternalError => "internal_error",
            FaultKind::Drop => "drop",
        }
    }
}

/// The emulator's latency and fault switches; the default turns everything off.
///
/// Faults are injected before moto handles a request, so a failed call never changed
/// anything in the emulator: a retry of it is always safe there.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct FaultSettings {
    /// Added before every AWS call the switches apply to, in milliseconds.
    pub latency_ms: u64,
    /// The share of calls that fail, from 0 to 1, chosen reproducibly from `seed`.
    pub rate: f64,
    /// The seed of the rate's choices.
    pub seed: u64,
    /// What a failing call gets, picked per call from these; empty means all kinds.
    pub kinds: Vec<FaultKind>,
    /// The services (signing names such as `ec2`) the switches apply to; empty means all.
    pub services: Vec<String>,
    /// Calls that fail whatever the rate: (service, operation, n-th call counted from 1
    /// since these settings took effect, kind).
    pub nth: Vec<(String, String, u32, FaultKind)>,
}

impl FaultSettings {
    /// A fixed latency before every call, nothing else.
    pub fn latency(latency_ms: u64) -> FaultSettings {
        FaultSettings {
            latency_ms,
            ..FaultSettings::default()
        }
    }

    /// Faults of every kind on `rate` of the calls, from `seed`.
    pub fn rate(rate: f64, seed: u64) -> FaultSettings {
        FaultSettings {
            rate,
            seed,
            ..FaultSettings::default()
        }
    }

    /// Only the given services (such as `["ec2", "iam", "logs"]`).
    pub fn services(mut self, services: &[&str]) -> FaultSettings {
        self.services = services.iter().map(|s| (*s).to_owned()).collect();
        self
    }

    /// Only these kinds of fault.
    pub fn kinds(mut self, kinds: &[FaultKind]) -> FaultSettings {
        self.kinds = kinds.to_vec();
        self
    }

    /// The `n`-th call of an operation fails with `kind`.
    pub fn nth(mut self, service: &str, operation: &str, n: u32, kind: FaultKind) -> Self {
        self.nth
            .push((service.to_owned(), operation.to_owned(), n, kind));
        self
    }

    /// The JSON object `tests/emulator/faults.py` reads.
    pub fn to_json(&self) -> Value {
        let kinds = if self.kinds.is_empty() {
            FaultKind::ALL.to_vec()
        } else {
            self.kinds.clone()
        };
        let nth: Vec<Value> = self
            .nth
            .iter()
            .map(|(service, operation, call, kind)| {
                serde_json::json!({
                    "service": service, "operation": operation, "call": call,
                    "fault": kind.name(),
                })
            })
            .collect();
        serde_json::json!({
            "latency_ms": self.latency_ms,
            "rate": self.rate,
            "seed": self.seed,
            "kinds": kinds.iter().map(|k| k.name()).collect::<Vec<_>>(),
            "services": (!self.services.is_empty()).then(|| self.services.clone()),
            "nth": nth,
        })
    }
}

impl Emulator {
    /// Replaces the latency and fault switches of the running emulator
    /// (`POST /_atlas/faults`), for a test that turns faults on after its set-up;
    /// `FaultSettings::default()` turns them off. Returns what the emulator now uses.
    ///
    /// # Panics
    ///
    /// When the emulator does not answer or rejects the settings.
    pub fn set_faults(&self, settings: &FaultSettings) -> Value {
        self.control("POST", &settings.to_json().to_string())
    }

    /// The switches in force and the number of faults injected so far
    /// (`GET /_atlas/faults`).
    pub fn faults(&self) -> Value {
        self.control("GET", "")
    }

    /// The requests that got an injected fault, oldest first.
    pub fn faulted(&self) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|request| request.fault.is_some())
            .collect()
    }

    /// One HTTP/1.1 exchange with the control endpoint, over a plain socket: the test
    /// crate has no HTTP client, and this is all the protocol it needs.
    fn control(&self, method: &str, body: &str) -> Value {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port))
            .unwrap_or_else(|error| panic!("connect to the emulator: {error}"));
        let request = format!(
            "{method} /_atlas/faults HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: \
             application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream
            .write_all(request.as_bytes())
            .expect("send the fault settings");
        let mut answer = String::new();
        stream
            .read_to_string(&mut answer)
            .expect("read the emulator's answer");
        let (head, json) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
        assert!(
            head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200"),
            "the emulator refused the fault settings {body}: {answer}"
        );
        serde_json::from_str(json)
            .unwrap_or_else(|error| panic!("the emulator answered {json:?}: {error}"))
    }
}

// End of latency and faults.
// ---------------------------------------------------------------------------------------

impl Drop for Emulator {
    fn drop(&mut self) {
        // Nothing the emulator holds outlives it, so a hard stop loses nothing.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One AWS request as the emulator's request log recorded it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Request {
    /// The signing name from the credential scope, such as `ec2`, `logs` or `s3`.
    pub service: Option<String>,
    /// The operation, such as `CreateVpc`; `None` for REST protocols such as S3.
    pub operation: Option<String>,
    /// The HTTP method.
    pub method: String,
    /// The URL path, which names the bucket and key for S3.
    pub path: String,
    /// The HTTP status of the answer; `None` for a dropped connection.
    pub status: Option<u16>,
    /// The fault the emulator injected instead of letting moto answer
    /// (`throttle`, `internal_error` or `drop`), `None` for a request moto handled.
    pub fault: Option<String>,
    /// When the request arrived, in seconds since the Unix epoch.
    pub started: f64,
    /// When its answer was ready (or the connection dropped), in seconds since the epoch.
    pub finished: f64,
}

impl Request {
    /// Whether this request is the given operation of the given service.
    pub fn is(&self, service: &str, operation: &str) -> bool {
        self.service.as_deref() == Some(service) && self.operation.as_deref() == Some(operation)
    }

    fn from_log(entry: &Value) -> Request {
        let text = |name: &str| entry.get(name).and_then(Value::as_str).map(str::to_owned);
        Request {
            service: text("service"),
            operation: text("operation"),
            method: text("method").unwrap_or_default(),
            path: text("path").unwrap_or_default(),
            status: entry
                .get("status")
                .and_then(Value::as_u64)
                .and_then(|status| u16::try_from(status).ok()),
            fault: text("fault"),
            started: entry
                .get("started")
                .and_then(Value::as_f64)
                .unwrap_or_default(),
            finished: entry
                .get("finished")
                .and_then(Value::as_f64)
                .unwrap_or_default(),
        }
    }
}

/// A copy of a root module in a temporary directory, with its S3 backend aimed at
/// an emulator, driven through the real `terraform` binary.
///
/// Terraform runs with the repository's `.terraformrc.generated` (written by
/// `make install`), so `init` installs the provider from the repository's mirror as
/// it would from a registry; with `TF_IN_AUTOMATION=1`; and with the emulator's
/// environment only: AWS profiles, session tokens and shared config files of the
/// person running the tests are kept out.
#[derive(Debug)]
pub struct Workspace<'e> {
    emulator: &'e Emulator,
    dir: TempDir,
    /// The copy of the root inside `dir`, where Terraform runs.
    root: PathBuf,
    cli_config: PathBuf,
}

/// What an expected-to-succeed Terraform command printed.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TfOutput {
    /// Everything Terraform wrote to stdout.
    pub stdout: String,
    /// Everything Terraform wrote to stderr: warnings, for a command that succeeded.
    pub stderr: String,
}

/// The result of `terraform plan -detailed-exitcode`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PlanOutcome {
    /// Exit code 0: the configuration matches the state and the remote objects.
    NoChanges,
    /// Exit code 2: the plan would change something; the plan as printed.
    Changes(String),
}

impl<'e> Workspace<'e> {
    /// Copies the root at `root` (relative to the repository root, such as
    /// `terraform/staging`) into a temporary directory, creates [`STATE_BUCKET`] on
    /// the emulator, and renders the root's `backend/emulator.s3.tfbackend.tmpl`
    /// for it.
    ///
    /// Working files (`.terraform/`, the dependency lock file and local state) are
    /// not copied: each workspace initializes from scratch, with the provider as
    /// `make install` last installed it. Besides the root, only the `modules/` folder
    /// beside it is copied. The values a root needs only on the emulator go into
    /// [`EMULATOR_TFVARS`]: see `emulator_values`.
    ///
    /// # Panics
    ///
    /// When the root or its backend template is missing, or `make install` has not
    /// written the CLI configuration.
    pub fn copy_root(emulator: &'e Emulator, root: &str) -> Workspace<'e> {
        let repo = repo_root();
        let cli_config = repo.join(".terraformrc.generated");
        assert!(
            cli_config.is_file(),
            "no {}: run `make install` first, to build the provider and install it \
             into the repository's filesystem mirror",
            cli_config.display()
        );
        let source = repo.join(root);
        assert!(source.is_dir(), "no root module at {}", source.display());
        let template_path = source.join(BACKEND_TEMPLATE);
        let template = fs::read_to_string(&template_path).unwrap_or_else(|error| {
            panic!(
                "read the emulator backend template {}: {error}",
                template_path.display()
            )
        });

        let dir = tempfile::Builder::new()
            .prefix("atlas-workspace-")
            .tempdir()
            .expect("create a temporary directory for the workspace");
        // The root keeps its name and its sibling `modules/` folder, if it has one, so
        // that `source = "../modules/..."` resolves in the copy as in the repository.
        let name = source.file_name().expect("a root module has a folder name");
        let root_copy = dir.path().join(name);
        fs::create_dir_all(&root_copy).expect("create the root's folder in the workspace");
        copy_tree(&source, &root_copy)
            .unwrap_or_else(|error| panic!("copy {} into a workspace: {error}", source.display()));
        let modules = source.join("../modules");
        if modules.is_dir() && name != "modules" {
            let modules_copy = dir.path().join("modules");
            fs::create_dir_all(&modules_copy).expect("create the modules folder");
            copy_tree(&modules, &modules_copy).unwrap_or_else(|error| {
                panic!("copy {} into a workspace: {error}", modules.display())
            });
        }

        emulator.create_bucket(STATE_BUCKET);
        let backend = template
            .replace("@BUCKET@", STATE_BUCKET)
            .replace("@ENDPOINT@", &emulator.endpoint());
        fs::write(root_copy.join(BACKEND_FILE), backend).expect("write the backend settings");
        // Only the project's roots get emulator values; a test's own fixture sets its
        // variables itself.
        let values = if source.starts_with(repo.join("terraform")) {
            emulator_values(emulator, &root_copy)
        } else {
            String::new()
        };
        if !values.is_empty() {
            fs::write(root_copy.join(EMULATOR_TFVARS), values)
                .expect("write the emulator's variable values");
        }

        Workspace {
            emulator,
            dir,
            root: root_copy,
            cli_config,
        }
    }

    /// The workspace directory, where Terraform runs.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// Writes a file into the workspace, such as a `terraform.tfvars` that changes
    /// an input between two applies.
    pub fn write_file(&self, name: &str, contents: &str) {
        let path = self.root.join(name);
        fs::write(&path, contents)
            .unwrap_or_else(|error| panic!("write {}: {error}", path.display()));
    }

    /// Runs `terraform ARGS...` in the workspace and returns what it printed.
    ///
    /// # Panics
    ///
    /// When the command fails, with the command, its exit status, stdout and stderr.
    pub fn tf(&self, args: &[&str]) -> TfOutput {
        let (command, output) = self.run(args);
        assert!(output.status.success(), "{}", describe(&command, &output));
        TfOutput {
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Runs `terraform ARGS...` in the workspace whatever its exit status, for a
    /// test that expects a failure.
    pub fn try_tf(&self, args: &[&str]) -> Output {
        self.run(args).1
    }

    /// Runs `terraform ARGS...` with extra environment variables (such as
    /// `TF_LOG_PROVIDER`), whatever its exit status.
    pub fn try_tf_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        self.run_with_env(args, env).1
    }

    /// `terraform init` with the emulator backend settings.
    pub fn init(&self) -> TfOutput {
        let backend_config = format!("-backend-config={BACKEND_FILE}");
        self.tf(&["init", "-input=false", "-no-color", &backend_config])
    }

    /// `terraform apply -auto-approve`.
    pub fn apply(&self) -> TfOutput {
        self.tf(&["apply", "-auto-approve", "-input=false", "-no-color"])
    }

    /// `terraform plan -detailed-exitcode`: whether anything would change.
    ///
    /// # Panics
    ///
    /// When the plan fails (exit code 1).
    pub fn plan_detailed_exitcode(&self) -> PlanOutcome {
        let (command, output) =
            self.run(&["plan", "-detailed-exitcode", "-input=false", "-no-color"]);
        match output.status.code() {
            Some(0) => PlanOutcome::NoChanges,
            Some(2) => PlanOutcome::Changes(String::from_utf8_lossy(&output.stdout).into_owned()),
            _ => panic!("{}", describe(&command, &output)),
        }
    }

    /// `terraform destroy -auto-approve`.
    pub fn destroy(&self) -> TfOutput {
        self.tf(&["destroy", "-auto-approve", "-input=false", "-no-color"])
    }

    /// Every root output, as `terraform output -json` prints them: a map from name
    /// to `{"value", "type", "sensitive"}`.
    pub fn output_json(&self) -> Value {
        let output = self.tf(&["output", "-json", "-no-color"]);
        serde_json::from_str(&output.stdout).unwrap_or_else(|error| {
            panic!("terraform output -json printed something that is not JSON: {error}")
        })
    }

    /// The value of one root output.
    ///
    /// # Panics
    ///
    /// When the root has no such output.
    pub fn output(&self, name: &str) -> Value {
        let outputs = self.output_json();
        outputs
            .get(name)
            .and_then(|output| output.get("value"))
            .cloned()
            .unwrap_or_else(|| panic!("the root has no output {name:?}; outputs: {outputs}"))
    }

    fn run(&self, args: &[&str]) -> (Command, Output) {
        self.run_with_env(args, &[])
    }

    fn run_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> (Command, Output) {
        let mut command = self.command(args, env);
        let started = Instant::now();
        let output = match command.output() {
            Ok(output) => output,
            Err(error) if error.kind() == io::ErrorKind::NotFound => panic!(
                "terraform is not on PATH: these tests run the real Terraform CLI \
                 (1.11 or later); install it and run them again"
            ),
            Err(error) => panic!("run terraform {}: {error}", args.join(" ")),
        };
        // Shown by cargo test for a failing test, or always with --nocapture.
        eprintln!(
            "$ terraform {} ({}, {:.1}s)",
            args.join(" "),
            output.status,
            started.elapsed().as_secs_f64()
        );
        (command, output)
    }

    /// The `terraform ARGS...` command, in the workspace with the emulator's
    /// environment and `env` on top.
    fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut command = Command::new("terraform");
        command
            .args(args)
            .current_dir(&self.root)
            .stdin(Stdio::null())
            .env("TF_CLI_CONFIG_FILE", &self.cli_config)
            .env("TF_IN_AUTOMATION", "1")
            .envs(self.emulator.env());
        // Settings of the person running the tests that would change what runs:
        // extra CLI arguments, another workspace or data directory, a plugin cache
        // that may hold an older build, or AWS credentials and config of their own.
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy();
            if name.starts_with("TF_CLI_ARGS") {
                command.env_remove(&*name);
            }
        }
        for name in [
            "TF_WORKSPACE",
            "TF_DATA_DIR",
            "TF_PLUGIN_CACHE_DIR",
            "AWS_PROFILE",
            "AWS_DEFAULT_PROFILE",
            "AWS_SESSION_TOKEN",
            "AWS_DEFAULT_REGION",
        ] {
            command.env_remove(name);
        }
        let no_file = self.dir.path().join(".no-aws-config");
        command
            .env("AWS_CONFIG_FILE", &no_file)
            .env("AWS_SHARED_CREDENTIALS_FILE", &no_file)
            .envs(env.iter().copied());
        command
    }
}

/// The file with the values a root needs only on the emulator, which Terraform loads
/// after `terraform.tfvars` (so these win).
pub const EMULATOR_TFVARS: &str = "emulator.auto.tfvars";

/// The emulator-only values of the root at `root`, by the variables it declares: an ALB
/// certificate created in the emulator's ACM for `certificate_arn`, and the emulator's
/// state bucket for `staging_state` (where staging2 reads staging's outputs). Only for
/// the roots under `terraform/`.
fn emulator_values(emulator: &Emulator, root: &Path) -> String {
    let declared = |variable: &str| {
        let needle = format!("variable \"{variable}\"");
        fs::read_dir(root)
            .into_iter()
            .flatten()
            .flatten()
            .any(|entry| {
                entry.path().extension().is_some_and(|ext| ext == "tf")
                    && fs::read_to_string(entry.path()).is_ok_and(|text| text.contains(&needle))
            })
    };
    let mut values = String::new();
    if declared("certificate_arn") {
        let arn = emulator.create_certificate("*.atlas.example.com");
        values.push_str(&format!("certificate_arn = \"{arn}\"\n"));
    }
    if declared("staging_state") {
        values.push_str(&format!(
            "staging_state = {{\n  bucket   = \"{STATE_BUCKET}\"\n  key      = \"staging/terraform.tfstate\"\n  \
             region   = \"eu-west-1\"\n  endpoint = \"{}\"\n}}\n",
            emulator.endpoint()
        ));
    }
    values
}

// ---------------------------------------------------------------------------------------
// Interrupted runs (network_interrupted.rs, service_interrupted.rs, ingress.rs)

impl Workspace<'_> {
    /// Starts `terraform ARGS...` in the background, its output going to files in the
    /// workspace, for a test that kills it halfway (see [`kill_with_providers`]).
    pub fn spawn_tf(&self, args: &[&str]) -> Child {
        let out = File::create(self.path().join("spawned.stdout")).expect("a stdout file");
        let err = File::create(self.path().join("spawned.stderr")).expect("a stderr file");
        eprintln!("$ terraform {} (in the background)", args.join(" "));
        self.command(args, &[])
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|error| panic!("start terraform {}: {error}", args.join(" ")))
    }

    /// Starts `terraform apply`, waits (polling every 5 ms, two minutes at most) until
    /// `reached()` says that `moment` has come, then kills Terraform and its providers
    /// with SIGKILL (see [`kill_with_providers`]). Panics when the apply ends before,
    /// hangs, or started no provider; returns the killed providers' pids.
    pub fn apply_killed_when(&self, moment: &str, mut reached: impl FnMut() -> bool) -> Vec<u32> {
        let mut apply = self.spawn_tf(&["apply", "-auto-approve", "-input=false", "-no-color"]);
        let started = Instant::now();
        while !reached() {
            if let Some(status) = apply.try_wait().expect("poll terraform") {
                panic!("the apply finished ({status}) before {moment}");
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "the apply hangs"
            );
            thread::sleep(Duration::from_millis(5));
        }
        let killed = kill_with_providers(&mut apply);
        assert!(
            !killed.is_empty(),
            "no provider process was found under terraform"
        );
        killed
    }

    /// Removes the state lock that a killed Terraform left in the S3 backend, as a
    /// person would with `terraform force-unlock`; does nothing when there is none.
    pub fn force_unlock_if_locked(&self) {
        let (_, output) = self.run(&["plan", "-input=false", "-no-color", "-lock-timeout=0s"]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !stderr.contains("Error acquiring the state lock") {
            return;
        }
        let id = stderr
            .lines()
            .find_map(|line| line.trim().strip_prefix("ID:"))
            .map(str::trim)
            .unwrap_or_else(|| panic!("a lock error without a lock id: {stderr}"))
            .to_owned();
        self.tf(&["force-unlock", "-force", &id]);
    }

    /// `terraform show -json`: the state as Terraform's JSON.
    pub fn show_json(&self) -> Value {
        let output = self.tf(&["show", "-json", "-no-color"]);
        serde_json::from_str(&output.stdout)
            .unwrap_or_else(|error| panic!("terraform show -json printed no JSON: {error}"))
    }
}

/// Kills `terraform` and every provider process it started, with SIGKILL: the
/// providers first (found as children of Terraform in `/proc`), so that none goes on
/// calling AWS after Terraform is gone. Returns the provider pids it killed.
pub fn kill_with_providers(terraform: &mut Child) -> Vec<u32> {
    let parent = terraform.id();
    let mut providers = Vec::new();
    for entry in fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // The fields after the command name, which is in parentheses and may hold spaces.
        let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let ppid = after
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse::<u32>().ok());
        let exe = fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let exe =
            String::from_utf8_lossy(exe.split(|b| *b == 0).next().unwrap_or_default()).into_owned();
        if ppid == Some(parent) && exe.contains("terraform-provider-") {
            providers.push(pid);
        }
    }
    for pid in &providers {
        // The std library kills only its own children; `kill` is everywhere Terraform is.
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    }
    let _ = terraform.kill();
    let _ = terraform.wait();
    providers
}

// End of interrupted runs.
// ---------------------------------------------------------------------------------------

/// Copies a root module's files, leaving out Terraform's working files.
fn copy_tree(from: &Path, to: &Path) -> io::Result<()> {
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if is_working_file(&name) {
            continue;
        }
        let source = entry.path();
        let target = to.join(&name);
        // Follows symbolic links, so a linked file or folder is copied as content.
        if source.is_dir() {
            fs::create_dir_all(&target)?;
            copy_tree(&source, &target)?;
        } else {
            fs::copy(&source, &target)?;
        }
    }
    Ok(())
}

fn is_working_file(name: &OsStr) -> bool {
    let name = name.to_string_lossy();
    name == ".terraform"
        || name == ".terraform.lock.hcl"
        || name.ends_with(".tfstate")
        || name.ends_with(".tfstate.backup")
        || name.ends_with(".tfbackend")
}

fn describe(command: &Command, output: &Output) -> String {
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

fn read_or_note(path: &Path) -> String {
    fs::read_to_string(path)
        .unwrap_or_else(|error| format!("(could not read {}: {error})", path.display()))
}
