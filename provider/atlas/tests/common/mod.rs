//! Starting the provider the way Terraform does, and talking to it the way Terraform does.
//!
//! [`Plugin`] spawns the built binary with the go-plugin environment (cookie, protocol
//! versions, port range and a client certificate made like Terraform's), reads the
//! handshake line and connects over mutual TLS pinned to the certificate the provider
//! printed. Everything stays on 127.0.0.1.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use base64::Engine as _;
use hyper_util::rt::TokioIo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tfplugin::proto::tfplugin6 as pb;
use tfplugin::proto::tfplugin6::provider_client::ProviderClient;
use tfplugin::value::{Type, Value};
use tonic::transport::{Channel, Endpoint};

/// The cookie Terraform passes to every provider it starts.
pub(crate) const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
pub(crate) const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// Terraform waits a minute for the handshake line; a test need not wait that long.
const HANDSHAKE_WAIT: Duration = Duration::from_secs(30);
/// Large schemas and states exceed tonic's 4 MiB default; Terraform accepts up to 2 GiB.
const MAX_MESSAGE: usize = 256 * 1024 * 1024;

/// The provider binary under test.
pub(crate) fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_terraform-provider-atlas")
}

/// A client certificate made the way Terraform makes its own for every provider it starts:
/// self-signed ECDSA P-521 with SHA-512, CN and SAN `localhost`, CA:TRUE, and both client
/// and server authentication.
#[derive(Debug)]
pub(crate) struct ClientIdentity {
    /// The certificate as PEM, the form `PLUGIN_CLIENT_CERT` carries.
    pub(crate) pem: String,
    cert: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
}

impl ClientIdentity {
    /// A fresh identity; each call gives a different key and certificate.
    pub(crate) fn generate() -> ClientIdentity {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512)
            .expect("generating a P-521 key");
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
            .expect("localhost is a valid subject alternative name");
        let mut name = rcgen::DistinguishedName::new();
        name.push(rcgen::DnType::CommonName, "localhost");
        name.push(rcgen::DnType::OrganizationName, "HashiCorp");
        params.distinguished_name = name;
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::DigitalSignature,
            rcgen::KeyUsagePurpose::KeyEncipherment,
            rcgen::KeyUsagePurpose::KeyCertSign,
        ];
        params.extended_key_usages = vec![
            rcgen::ExtendedKeyUsagePurpose::ClientAuth,
            rcgen::ExtendedKeyUsagePurpose::ServerAuth,
        ];
        let cert = params
            .self_signed(&key)
            .expect("self-signing the client certificate");
        ClientIdentity {
            pem: cert.pem(),
            cert: cert.der().clone(),
            key: PrivatePkcs8KeyDer::from(key.serialize_der()),
        }
    }
}

/// How to start the provider: Terraform's environment plus whatever a case adds or removes.
#[derive(Debug, Clone)]
pub(crate) struct Launch {
    env: BTreeMap<OsString, Option<OsString>>,
}

impl Launch {
    /// Terraform's environment: cookie, versions `5,6` and ports 10000 to 25000.
    ///
    /// The AWS SDK's own sources of configuration are pointed away from the developer's
    /// machine (no shared profile, no instance metadata), so nothing the test does can
    /// reach a host other than 127.0.0.1.
    pub(crate) fn terraform() -> Launch {
        let launch = Launch {
            env: BTreeMap::new(),
        };
        launch
            .env(MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE)
            .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
            .env("PLUGIN_MIN_PORT", "10000")
            .env("PLUGIN_MAX_PORT", "25000")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .without("AWS_ENDPOINT_URL")
            .without("AWS_PROFILE")
            .without("AWS_REGION")
            .without("AWS_DEFAULT_REGION")
    }

    /// Sets a variable, such as `AWS_ENDPOINT_URL` for a case that talks to an emulator.
    pub(crate) fn env(mut self, key: &str, value: impl Into<OsString>) -> Launch {
        self.env.insert(key.into(), Some(value.into()));
        self
    }

    /// Removes a variable from the inherited environment.
    pub(crate) fn without(mut self, key: &str) -> Launch {
        self.env.insert(key.into(), None);
        self
    }

    /// The command, with stdin closed and stdout and stderr piped.
    pub(crate) fn command(&self) -> Command {
        let mut command = Command::new(binary());
        for (key, value) in &self.env {
            match value {
                Some(value) => command.env(key, value),
                None => command.env_remove(key),
            };
        }
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }
}

/// The go-plugin handshake line, `CORE|APP|NETWORK|ADDR|PROTO|CERT`.
#[derive(Debug, Clone)]
pub(crate) struct Handshake {
    pub(crate) line: String,
    pub(crate) core_version: String,
    pub(crate) protocol_version: String,
    pub(crate) network: String,
    pub(crate) addr: SocketAddr,
    pub(crate) protocol: String,
    /// The server certificate, DER.
    pub(crate) cert: Vec<u8>,
}

impl Handshake {
    /// Parses the line as go-plugin's client does, including its base64 flavour (standard
    /// alphabet without padding: a `=` makes Go's decoder fail).
    pub(crate) fn parse(line: &str) -> Result<Handshake, String> {
        let fields: Vec<&str> = line.split('|').collect();
        let [core, app, network, addr, protocol, cert] = fields[..] else {
            return Err(format!(
                "expected 6 fields separated by |, got {}",
                fields.len()
            ));
        };
        let addr = addr
            .parse()
            .map_err(|e| format!("address {addr:?} is not host:port: {e}"))?;
        let cert = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(cert)
            .map_err(|e| format!("certificate is not unpadded standard base64: {e}"))?;
        Ok(Handshake {
            line: line.to_owned(),
            core_version: core.to_owned(),
            protocol_version: app.to_owned(),
            network: network.to_owned(),
            addr,
            protocol: protocol.to_owned(),
            cert,
        })
    }
}

/// A running provider process. Dropping it kills and reaps the process; when the test is
/// failing, what the provider wrote to stderr is printed first.
#[derive(Debug)]
pub(crate) struct Plugin {
    child: Child,
    pub(crate) handshake: Handshake,
    /// Time from spawning the process to reading its handshake line.
    pub(crate) startup: Duration,
    pub(crate) identity: ClientIdentity,
    stderr: Arc<Mutex<Vec<u8>>>,
}

impl Plugin {
    /// Starts the provider as Terraform does.
    pub(crate) fn start() -> Plugin {
        Plugin::start_with(Launch::terraform())
    }

    /// Starts the provider with `launch`'s environment and a fresh client certificate.
    pub(crate) fn start_with(launch: Launch) -> Plugin {
        let identity = ClientIdentity::generate();
        let mut command = launch.env("PLUGIN_CLIENT_CERT", &identity.pem).command();
        let started = Instant::now();
        let mut child = command.spawn().expect("starting the provider binary");
        let stderr = drain(child.stderr.take().expect("stderr is piped"));

        let (line_tx, line_rx) = mpsc::channel();
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        thread::spawn(move || {
            let mut line = String::new();
            let read = stdout.read_line(&mut line).map(|_| line);
            let _ = line_tx.send(read);
            // Terraform discards stdout after the handshake; keep the pipe from filling.
            let _ = std::io::copy(&mut stdout, &mut std::io::sink());
        });
        let line = match line_rx.recv_timeout(HANDSHAKE_WAIT) {
            Ok(Ok(line)) => line,
            Ok(Err(e)) => fail(&mut child, &stderr, &format!("reading stdout: {e}")),
            Err(_) => fail(&mut child, &stderr, "no handshake line"),
        };
        let startup = started.elapsed();
        let Some(line) = line.strip_suffix('\n') else {
            fail(
                &mut child,
                &stderr,
                &format!("handshake line {line:?} is incomplete"),
            )
        };
        let handshake = match Handshake::parse(line) {
            Ok(handshake) => handshake,
            Err(e) => fail(&mut child, &stderr, &format!("handshake {line:?}: {e}")),
        };
        Plugin {
            child,
            handshake,
            startup,
            identity,
            stderr,
        }
    }

    /// A gRPC channel over TLS that trusts only the provider's certificate and presents
    /// `identity`, or no certificate at all.
    ///
    /// With TLS 1.3 the server judges the client certificate after the client considers
    /// the handshake done, so a refused client may get a channel and see its first RPC
    /// fail instead.
    pub(crate) async fn channel_as(
        &self,
        identity: Option<&ClientIdentity>,
    ) -> Result<Channel, tonic::transport::Error> {
        let config = Arc::new(client_tls(&self.handshake.cert, identity));
        let addr = self.handshake.addr;
        let connector = tower::service_fn(move |_: tonic::transport::Uri| {
            let tls = tokio_rustls::TlsConnector::from(config.clone());
            async move {
                let tcp = tokio::net::TcpStream::connect(addr).await?;
                tcp.set_nodelay(true)?;
                let name = ServerName::try_from("localhost").expect("localhost is a DNS name");
                let stream = tls.connect(name, tcp).await?;
                Ok::<_, std::io::Error>(TokioIo::new(stream))
            }
        });
        // The connector decides where to go; the URI only names the authority for HTTP/2.
        Endpoint::from_shared(format!("http://localhost:{}", addr.port()))
            .expect("a valid URI")
            .connect_timeout(Duration::from_secs(10))
            .connect_with_connector(connector)
            .await
    }

    /// A `tfplugin6.Provider` client, connected as Terraform.
    pub(crate) async fn provider(&self) -> ProviderClient<Channel> {
        let channel = self.channel().await;
        ProviderClient::new(channel)
            .max_decoding_message_size(MAX_MESSAGE)
            .max_encoding_message_size(MAX_MESSAGE)
    }

    /// A channel connected as Terraform, which carries every service on one connection.
    pub(crate) async fn channel(&self) -> Channel {
        match self.channel_as(Some(&self.identity)).await {
            Ok(channel) => channel,
            Err(e) => panic!("connecting to the provider as Terraform: {e:?}"),
        }
    }

    /// Waits up to `limit` for the process to exit, leaving the runtime free to close
    /// connections meanwhile.
    pub(crate) async fn wait_for_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Whether the process is still running.
    pub(crate) fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// What the provider wrote to stderr so far.
    pub(crate) fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned()
    }
}

impl Drop for Plugin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if thread::panicking() {
            eprintln!("--- provider stderr ---\n{}--- end ---", self.stderr());
        }
    }
}

/// Kills and reaps the child, then fails the test with its stderr.
fn fail(child: &mut Child, stderr: &Mutex<Vec<u8>>, why: &str) -> ! {
    let _ = child.kill();
    let _ = child.wait();
    let text = String::from_utf8_lossy(&stderr.lock().unwrap()).into_owned();
    panic!("provider did not start: {why}\n--- provider stderr ---\n{text}--- end ---");
}

/// Collects everything `from` yields on a thread of its own, so the pipe never fills.
pub(crate) fn drain(mut from: impl Read + Send + 'static) -> Arc<Mutex<Vec<u8>>> {
    let buffer = Arc::new(Mutex::new(Vec::new()));
    let sink = buffer.clone();
    thread::spawn(move || {
        let mut chunk = [0u8; 8192];
        while let Ok(n) = from.read(&mut chunk) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&chunk[..n]);
        }
    });
    buffer
}

/// Polls `child` until it exits or `limit` passes.
pub(crate) fn wait_for_exit(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// The TLS settings of go-plugin's client: the handshake's certificate as the only trust
/// anchor, server name `localhost`, TLS 1.2 or later, ALPN `h2`.
fn client_tls(server_cert: &[u8], identity: Option<&ClientIdentity>) -> rustls::ClientConfig {
    let crypto = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = PinnedServerCert {
        pinned: CertificateDer::from(server_cert.to_vec()),
        algorithms: crypto.signature_verification_algorithms,
    };
    let builder = rustls::ClientConfig::builder_with_provider(crypto)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .expect("TLS 1.2 and 1.3 are supported")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier));
    let mut config = match identity {
        Some(id) => builder
            .with_client_auth_cert(
                vec![id.cert.clone()],
                PrivateKeyDer::Pkcs8(id.key.clone_key()),
            )
            .expect("the client key fits its certificate"),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    config
}

/// Trusts exactly the certificate from the handshake line, for the name `localhost`.
///
/// Go accepts a self-signed CA certificate as its own trust anchor and leaf; WebPKI
/// refuses a CA certificate as an end entity, so the pin is checked byte for byte
/// instead, and the handshake signatures with the certificate's key.
#[derive(Debug)]
struct PinnedServerCert {
    pinned: CertificateDer<'static>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for PinnedServerCert {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if server_name.to_str() != "localhost" {
            return Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForName,
            ));
        }
        if end_entity.as_ref() != self.pinned.as_ref() {
            return Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            ));
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// A raw TLS connection to the provider, for looking at what was negotiated.
pub(crate) async fn tls_session(
    plugin: &Plugin,
) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
    let config = client_tls(&plugin.handshake.cert, Some(&plugin.identity));
    let tcp = tokio::net::TcpStream::connect(plugin.handshake.addr).await?;
    let name = ServerName::try_from("localhost").expect("localhost is a DNS name");
    tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
}

/// The cty type a schema block describes, built from the wire schema as Terraform builds
/// it: attributes by their JSON type or nested attributes, blocks by nesting mode.
pub(crate) fn block_type(block: &pb::schema::Block) -> Type {
    use pb::schema::nested_block::NestingMode;

    let mut attributes = BTreeMap::new();
    for attribute in &block.attributes {
        attributes.insert(attribute.name.clone(), attribute_type(attribute));
    }
    for nested in &block.block_types {
        let inner = block_type(nested.block.as_ref().expect("a nested block has a block"));
        let ty = match NestingMode::try_from(nested.nesting) {
            Ok(NestingMode::Single | NestingMode::Group) => inner,
            Ok(NestingMode::List) => Type::list(inner),
            Ok(NestingMode::Set) => Type::set(inner),
            Ok(NestingMode::Map) => Type::map(inner),
            other => panic!("block {} has nesting {other:?}", nested.type_name),
        };
        attributes.insert(nested.type_name.clone(), ty);
    }
    Type::Object(attributes)
}

fn attribute_type(attribute: &pb::schema::Attribute) -> Type {
    use pb::schema::object::NestingMode;

    let Some(nested) = &attribute.nested_type else {
        return Type::from_json(&attribute.r#type)
            .unwrap_or_else(|e| panic!("attribute {}: {e}", attribute.name));
    };
    let object = Type::Object(
        nested
            .attributes
            .iter()
            .map(|a| (a.name.clone(), attribute_type(a)))
            .collect(),
    );
    match NestingMode::try_from(nested.nesting) {
        Ok(NestingMode::Single) => object,
        Ok(NestingMode::List) => Type::list(object),
        Ok(NestingMode::Set) => Type::set(object),
        Ok(NestingMode::Map) => Type::map(object),
        other => panic!("attribute {} has nesting {other:?}", attribute.name),
    }
}

/// An object of type `ty` with the given attributes and null everywhere else, as Terraform
/// builds a configuration that sets only some attributes.
pub(crate) fn object(ty: &Type, set: impl IntoIterator<Item = (&'static str, Value)>) -> Value {
    let Type::Object(attributes) = ty else {
        panic!("{ty:?} is not an object type");
    };
    let mut value: BTreeMap<String, Value> = attributes
        .keys()
        .map(|name| (name.clone(), Value::Null))
        .collect();
    for (name, v) in set {
        assert!(
            value.contains_key(name),
            "the schema has no attribute {name:?}"
        );
        value.insert(name.to_owned(), v);
    }
    Value::Object(value)
}

/// `value` as Terraform sends it.
pub(crate) fn dynamic(value: &Value, ty: &Type) -> pb::DynamicValue {
    pb::DynamicValue {
        msgpack: value.encode_msgpack(ty).expect("the value fits the type"),
        json: Vec::new(),
    }
}

/// Raw msgpack bytes as a `DynamicValue`.
pub(crate) fn raw(msgpack: &[u8]) -> pb::DynamicValue {
    pb::DynamicValue {
        msgpack: msgpack.to_vec(),
        json: Vec::new(),
    }
}

/// Decodes a value the provider sent.
pub(crate) fn decode(value: Option<&pb::DynamicValue>, ty: &Type) -> Value {
    let value = value.expect("the response carries a value");
    assert!(value.json.is_empty(), "providers answer in msgpack");
    Value::decode_msgpack(&value.msgpack, ty).expect("the provider's value decodes")
}

/// The error diagnostics among `diagnostics`.
pub(crate) fn errors(diagnostics: &[pb::Diagnostic]) -> Vec<&pb::Diagnostic> {
    diagnostics
        .iter()
        .filter(|d| d.severity == pb::diagnostic::Severity::Error as i32)
        .collect()
}

/// The attribute names along a diagnostic's path, with indexes and keys as `[i]`/`["k"]`.
pub(crate) fn path_of(diagnostic: &pb::Diagnostic) -> String {
    use pb::attribute_path::step::Selector;

    let mut text = String::new();
    let steps = diagnostic.attribute.iter().flat_map(|p| &p.steps);
    for step in steps {
        match &step.selector {
            Some(Selector::AttributeName(name)) if text.is_empty() => text.push_str(name),
            Some(Selector::AttributeName(name)) => text.push_str(&format!(".{name}")),
            Some(Selector::ElementKeyString(key)) => text.push_str(&format!("[{key:?}]")),
            Some(Selector::ElementKeyInt(i)) => text.push_str(&format!("[{i}]")),
            None => text.push_str("<empty step>"),
        }
    }
    text
}
