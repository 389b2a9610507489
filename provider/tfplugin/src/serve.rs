//! Serving a provider the way go-plugin expects: cookie, handshake line, mutual TLS pinned
//! to Terraform's certificate, the auxiliary services, graceful shutdown and debug mode.
//!
//! Terraform starts a fresh provider process for each phase, passes it a magic cookie, the
//! protocol versions it speaks, a port range and its own client certificate, and reads one
//! handshake line from stdout. Everything after that line is gRPC over TLS; everything the
//! process wants to say goes to stderr as log lines.

use std::io::{self, Write as _};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use base64::Engine as _;
use futures::{Stream, StreamExt};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tonic::transport::server::Connected;
use tonic::{Request, Response, Status};

use crate::proto::plugin;
use crate::proto::tfplugin6::provider_server::ProviderServer;
use crate::resource::Provider;
use crate::server::ProviderService;

/// The cookie go-plugin hosts pass to Terraform providers.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
/// Its value.
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// The largest message accepted or sent: large states and schemas exceed tonic's 4 MiB.
const MAX_MESSAGE: usize = 256 * 1024 * 1024;
/// How long a graceful shutdown may take before the process exits anyway; Terraform
/// kills it after two seconds.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(1500);

/// How the provider presents itself.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The full provider address, such as `registry.terraform.io/atlas/atlas`.
    pub address: &'static str,
    /// The executable's name, for the message shown when run by hand.
    pub executable: &'static str,
    /// Serve in debug mode and print `TF_REATTACH_PROVIDERS`.
    pub debug: bool,
}

/// Why serving failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The process was not started by Terraform.
    #[error("not started by Terraform (the plugin cookie is missing)")]
    NoCookie,
    /// Terraform does not speak protocol 6.
    #[error("Terraform offered plugin protocol versions {0:?}, but this provider speaks only 6")]
    Protocol(String),
    /// No port in the allowed range could be bound.
    #[error("no free port between {min} and {max} on 127.0.0.1")]
    NoPort {
        /// Lowest port tried.
        min: u16,
        /// Highest port tried.
        max: u16,
    },
    /// The TLS set-up failed.
    #[error("setting up TLS")]
    Tls(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// An I/O error.
    #[error("serving")]
    Io(#[from] io::Error),
}

/// Serves `provider` until Terraform shuts it down. Returns the process exit code.
pub fn run<P: Provider>(
    provider: impl FnOnce() -> P,
    options: ServeOptions,
) -> std::process::ExitCode {
    if !options.debug && std::env::var(MAGIC_COOKIE_KEY).as_deref() != Ok(MAGIC_COOKIE_VALUE) {
        eprintln!(
            "{exe} is a Terraform provider plugin; Terraform starts it by itself.\n\
             Use it from a Terraform configuration and run `terraform init` and `terraform plan`\n\
             there. To debug the provider, run `{exe} --debug` and follow what it prints.",
            exe = options.executable
        );
        return std::process::ExitCode::FAILURE;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!(
                "{}: cannot start the async runtime: {e}",
                options.executable
            );
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        if options.debug {
            serve_debug(provider(), &options).await
        } else {
            serve_plugin(provider(), &options).await
        }
    });
    // Do not wait for tasks still running (a stuck AWS call must not delay the exit).
    runtime.shutdown_background();
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            let mut text = format!("{}: {e}", options.executable);
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                text.push_str(&format!(": {s}"));
                source = s.source();
            }
            tracing::error!("{text}");
            eprintln!("{text}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn serve_plugin<P: Provider>(provider: P, options: &ServeOptions) -> Result<(), ServeError> {
    let versions = std::env::var("PLUGIN_PROTOCOL_VERSIONS").unwrap_or_else(|_| "6".into());
    if !versions.split(',').any(|v| v.trim() == "6") {
        return Err(ServeError::Protocol(versions));
    }
    let min = env_port("PLUGIN_MIN_PORT", 10000);
    let max = env_port("PLUGIN_MAX_PORT", 25000);
    let listener = bind_in_range(min, max).await?;
    let addr = listener.local_addr()?;

    let shutdown = CancellationToken::new();
    ignore_interrupts();
    let client_cert = std::env::var("PLUGIN_CLIENT_CERT")
        .ok()
        .filter(|c| !c.trim().is_empty());
    match client_cert {
        Some(pem) => {
            let (acceptor, server_der) = tls_acceptor(&pem)?;
            let cert = base64::engine::general_purpose::STANDARD_NO_PAD.encode(server_der);
            handshake(&addr, &cert, options)?;
            let incoming = tls_incoming(listener, acceptor, shutdown.clone());
            serve_until_shutdown(provider, incoming, shutdown).await
        }
        None => {
            tracing::warn!("PLUGIN_CLIENT_CERT is not set: serving without TLS");
            handshake(&addr, "", options)?;
            serve_until_shutdown(provider, plain_incoming(listener), shutdown).await
        }
    }
}

/// Prints the go-plugin handshake line; nothing may reach stdout before it.
fn handshake(addr: &std::net::SocketAddr, cert: &str, options: &ServeOptions) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "1|6|tcp|{addr}|grpc|{cert}")?;
    stdout.flush()?;
    tracing::debug!(address = %addr, provider = options.address, "plugin server started");
    Ok(())
}

async fn serve_debug<P: Provider>(provider: P, options: &ServeOptions) -> Result<(), ServeError> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let shutdown = CancellationToken::new();
    let reattach = serde_json::json!({
        options.address: {
            "Protocol": "grpc",
            "ProtocolVersion": 6,
            "Pid": std::process::id(),
            "Test": true,
            "Addr": { "Network": "tcp", "String": addr.to_string() },
        }
    });
    println!(
        "{exe} is serving in debug mode on {addr}.\n\
         In the shell where you run Terraform, set:\n\n\
         \texport TF_REATTACH_PROVIDERS='{reattach}'\n\n\
         Terraform then uses this process instead of starting the provider. Stop it with Ctrl-C.",
        exe = options.executable
    );
    let stop = shutdown.clone();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        stop.cancel();
    });
    serve_until_shutdown(provider, plain_incoming(listener), shutdown).await
}

async fn serve_until_shutdown<P, S, IO>(
    provider: P,
    incoming: S,
    shutdown: CancellationToken,
) -> Result<(), ServeError>
where
    P: Provider,
    S: Stream<Item = Result<IO, io::Error>> + Send + 'static,
    IO: AsyncRead + AsyncWrite + Connected + Unpin + Send + 'static,
{
    let stop = CancellationToken::new();
    let service = ProviderService::new(provider, stop.clone());
    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_service_status("plugin", tonic_health::ServingStatus::Serving)
        .await;

    let server = tonic::transport::Server::builder()
        .add_service(
            ProviderServer::new(service)
                .max_decoding_message_size(MAX_MESSAGE)
                .max_encoding_message_size(MAX_MESSAGE),
        )
        .add_service(health_service)
        .add_service(plugin::grpc_controller_server::GrpcControllerServer::new(
            Controller {
                shutdown: shutdown.clone(),
            },
        ))
        .add_service(plugin::grpc_stdio_server::GrpcStdioServer::new(Stdio {
            shutdown: shutdown.clone(),
        }))
        .add_service(plugin::grpc_broker_server::GrpcBrokerServer::new(Broker))
        .serve_with_incoming_shutdown(incoming, shutdown.clone().cancelled_owned());

    let grace = async {
        shutdown.cancelled().await;
        // In-flight AWS work is abandoned: Terraform has what it needs once it shuts down.
        stop.cancel();
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        result = server => result.map_err(|e| ServeError::Io(io::Error::other(e)))?,
        () = grace => tracing::warn!("graceful shutdown took too long; exiting"),
    }
    tracing::debug!("plugin server stopped");
    Ok(())
}

fn env_port(key: &str, default: u16) -> u16 {
    std::env::var(key)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// Binds 127.0.0.1 on the first free port of `min..=max`, starting at a point derived from
/// the process id so that parallel providers rarely collide.
async fn bind_in_range(min: u16, max: u16) -> Result<TcpListener, ServeError> {
    let (lo, hi) = if min <= max { (min, max) } else { (max, min) };
    let span = u32::from(hi - lo) + 1;
    let start = std::process::id() % span;
    for i in 0..span {
        let port = lo + ((start + i) % span) as u16;
        if let Ok(listener) = TcpListener::bind(("127.0.0.1", port)).await {
            return Ok(listener);
        }
    }
    Err(ServeError::NoPort { min: lo, max: hi })
}

/// On Ctrl-C Terraform calls StopProvider; the signal itself must not kill the provider.
fn ignore_interrupts() {
    if let Ok(mut interrupts) =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
    {
        tokio::spawn(async move {
            while interrupts.recv().await.is_some() {
                tracing::debug!("ignoring SIGINT; Terraform stops providers through StopProvider");
            }
        });
    }
}

/// Builds the TLS acceptor: a fresh self-signed server certificate, client certificates
/// pinned to the one Terraform passed.
fn tls_acceptor(client_pem: &str) -> Result<(TlsAcceptor, Vec<u8>), ServeError> {
    let tls = |e: Box<dyn std::error::Error + Send + Sync>| ServeError::Tls(e);
    let client_der = pem_to_der(client_pem)
        .ok_or_else(|| tls("PLUGIN_CLIENT_CERT does not hold a PEM certificate".into()))?;

    let key =
        rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).map_err(|e| tls(e.into()))?;
    let mut params =
        rcgen::CertificateParams::new(vec!["localhost".to_owned()]).map_err(|e| tls(e.into()))?;
    let mut name = rcgen::DistinguishedName::new();
    name.push(rcgen::DnType::CommonName, "localhost");
    name.push(rcgen::DnType::OrganizationName, "terraform-provider-atlas");
    params.distinguished_name = name;
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::DigitalSignature,
        rcgen::KeyUsagePurpose::KeyEncipherment,
        rcgen::KeyUsagePurpose::KeyCertSign,
    ];
    params.extended_key_usages = vec![
        rcgen::ExtendedKeyUsagePurpose::ServerAuth,
        rcgen::ExtendedKeyUsagePurpose::ClientAuth,
    ];
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::seconds(30);
    params.not_after = now + time::Duration::days(365);
    let cert = params.self_signed(&key).map_err(|e| tls(e.into()))?;
    let server_der = cert.der().to_vec();

    let crypto = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = PinnedClientCert {
        pinned: CertificateDer::from(client_der),
        algorithms: crypto.signature_verification_algorithms,
    };
    let mut config = rustls::ServerConfig::builder_with_provider(crypto)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| tls(e.into()))?
        .with_client_cert_verifier(Arc::new(verifier))
        .with_single_cert(
            vec![CertificateDer::from(server_der.clone())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .map_err(|e| tls(e.into()))?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok((TlsAcceptor::from(Arc::new(config)), server_der))
}

/// Extracts the DER bytes of the first certificate in a PEM text.
pub fn pem_to_der(pem: &str) -> Option<Vec<u8>> {
    let begin = "-----BEGIN CERTIFICATE-----";
    let start = pem.find(begin)? + begin.len();
    let end = pem[start..].find("-----END CERTIFICATE-----")? + start;
    let body: String = pem[start..end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD.decode(body).ok()
}

/// Accepts exactly the client certificate Terraform passed in `PLUGIN_CLIENT_CERT`.
///
/// Terraform's certificate is a self-signed P-521 CA certificate used as an end entity,
/// which WebPKI path building rejects; pinning the exact bytes is both stricter and
/// simpler. Handshake signatures are still verified with the certificate's key.
#[derive(Debug)]
struct PinnedClientCert {
    pinned: CertificateDer<'static>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for PinnedClientCert {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.pinned.as_ref() {
            Ok(ClientCertVerified::assertion())
        } else {
            tracing::warn!("refused a TLS client whose certificate is not Terraform's");
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ))
        }
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

/// A TLS connection that tonic can serve.
#[derive(Debug)]
pub struct TlsConnection(TlsStream<TcpStream>);

impl Connected for TlsConnection {
    type ConnectInfo = ();
    fn connect_info(&self) -> Self::ConnectInfo {}
}

impl AsyncRead for TlsConnection {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsConnection {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
    }
}

/// Accepts TCP connections and completes each TLS handshake on its own task, so that one
/// refused client never stops the server.
fn tls_incoming(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    shutdown: CancellationToken,
) -> impl Stream<Item = Result<TlsConnection, io::Error>> + Send + 'static {
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                () = shutdown.cancelled() => break,
            };
            let (tcp, peer) = match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!(error = %e, "accepting a connection failed");
                    continue;
                }
            };
            // gRPC answers are small writes: without this, Nagle's algorithm and delayed
            // acknowledgements add tens of milliseconds to each call.
            let _ = tcp.set_nodelay(true);
            let acceptor = acceptor.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await {
                    Ok(Ok(tls)) => {
                        let _ = tx.send(Ok(TlsConnection(tls))).await;
                    }
                    Ok(Err(e)) => {
                        tracing::warn!(peer = %peer, error = %e, "refused a connection: TLS handshake failed");
                    }
                    Err(_) => {
                        tracing::warn!(peer = %peer, "refused a connection: TLS handshake timed out")
                    }
                }
            });
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(rx)
}

fn plain_incoming(
    listener: TcpListener,
) -> impl Stream<Item = Result<TcpStream, io::Error>> + Send + 'static {
    tokio_stream::wrappers::TcpListenerStream::new(listener).map(|accepted| {
        accepted.inspect(|tcp| {
            let _ = tcp.set_nodelay(true);
        })
    })
}

/// go-plugin's controller: Terraform calls Shutdown at the end of every phase.
#[derive(Debug)]
struct Controller {
    shutdown: CancellationToken,
}

#[tonic::async_trait]
impl plugin::grpc_controller_server::GrpcController for Controller {
    async fn shutdown(
        &self,
        _request: Request<plugin::Empty>,
    ) -> Result<Response<plugin::Empty>, Status> {
        tracing::debug!("shutdown requested by Terraform");
        self.shutdown.cancel();
        Ok(Response::new(plugin::Empty {}))
    }
}

/// go-plugin's stdio forwarding: the provider writes nothing to stdout after the
/// handshake, so the stream stays empty and ends at shutdown.
#[derive(Debug)]
struct Stdio {
    shutdown: CancellationToken,
}

type StdioStream = Pin<Box<dyn Stream<Item = Result<plugin::StdioData, Status>> + Send>>;

#[tonic::async_trait]
impl plugin::grpc_stdio_server::GrpcStdio for Stdio {
    type StreamStdioStream = StdioStream;

    async fn stream_stdio(
        &self,
        _request: Request<crate::proto::google::protobuf::Empty>,
    ) -> Result<Response<Self::StreamStdioStream>, Status> {
        let done = self.shutdown.clone().cancelled_owned();
        let stream = futures::stream::once(done).filter_map(|()| async { None });
        Ok(Response::new(Box::pin(stream)))
    }
}

/// go-plugin's broker, which providers never use.
#[derive(Debug)]
struct Broker;

type BrokerStream = Pin<Box<dyn Stream<Item = Result<plugin::ConnInfo, Status>> + Send>>;

#[tonic::async_trait]
impl plugin::grpc_broker_server::GrpcBroker for Broker {
    type StartStreamStream = BrokerStream;

    async fn start_stream(
        &self,
        _request: Request<tonic::Streaming<plugin::ConnInfo>>,
    ) -> Result<Response<Self::StartStreamStream>, Status> {
        Err(Status::unimplemented(
            "this provider does not use the plugin broker",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_round_trip() {
        let der = vec![0x30, 0x82, 0x01, 0x02, 0xff];
        let body = base64::engine::general_purpose::STANDARD.encode(&der);
        let pem = format!("-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n");
        assert_eq!(pem_to_der(&pem), Some(der));
        assert_eq!(pem_to_der("garbage"), None);
    }
}
