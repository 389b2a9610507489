//! The provider binary driven over the plugin protocol exactly as Terraform drives it:
//! started with the go-plugin environment, reached over mutual TLS, and sent the bytes
//! Terraform sends. Cases that need AWS (apply, read, import) live with the emulator.

// Each test binary uses a part of the shared helpers.
#[allow(dead_code)]
mod common;

use std::time::{Duration, Instant};

use common::{
    block_type, decode, dynamic, errors, object, path_of, raw, ClientIdentity, Launch, Plugin,
};
use tfplugin::proto::plugin;
use tfplugin::proto::plugin::grpc_controller_client::GrpcControllerClient;
use tfplugin::proto::tfplugin6 as pb;
use tfplugin::proto::tfplugin6::provider_client::ProviderClient;
use tfplugin::value::{Number, Refinements, Type, Value};
use tonic::transport::Channel;

const NETWORK: &str = "atlas_network";

/// The provider's and `atlas_network`'s value types, as read from the wire schema.
struct Types {
    provider: Type,
    network: Type,
}

async fn types(client: &mut ProviderClient<Channel>) -> Types {
    let schema = client
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("GetProviderSchema answers")
        .into_inner();
    let block = |s: Option<&pb::Schema>| block_type(s.and_then(|s| s.block.as_ref()).unwrap());
    Types {
        provider: block(schema.provider.as_ref()),
        network: block(schema.resource_schemas.get(NETWORK)),
    }
}

/// A provider configuration aimed at nothing: every endpoint is 127.0.0.1:1.
fn provider_config(ty: &Type, default_tags: &[(&str, &str)]) -> Value {
    let endpoints = ["ec2", "iam", "logs", "sts"]
        .into_iter()
        .map(|service| (service.to_owned(), Value::string("http://127.0.0.1:1")))
        .collect();
    let default_tags =
        (!default_tags.is_empty()).then(|| Value::object([("tags", string_map(default_tags))]));
    object(
        ty,
        [
            ("region", Value::string("eu-west-1")),
            ("endpoints", Value::Map(endpoints)),
            ("default_tags", default_tags.unwrap_or(Value::Null)),
        ],
    )
}

fn string_map(pairs: &[(&str, &str)]) -> Value {
    Value::Map(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::string(*v)))
            .collect(),
    )
}

async fn configure(
    client: &mut ProviderClient<Channel>,
    types: &Types,
    default_tags: &[(&str, &str)],
) {
    let response = client
        .configure_provider(pb::configure_provider::Request {
            terraform_version: "1.11.4".to_owned(),
            config: Some(dynamic(
                &provider_config(&types.provider, default_tags),
                &types.provider,
            )),
            client_capabilities: Some(client_capabilities()),
        })
        .await
        .expect("ConfigureProvider answers")
        .into_inner();
    assert!(
        response.diagnostics.is_empty(),
        "{:#?}",
        response.diagnostics
    );
}

fn client_capabilities() -> pb::ClientCapabilities {
    pb::ClientCapabilities {
        deferral_allowed: false,
        write_only_attributes_allowed: true,
    }
}

/// A create: no prior state, and the proposed state is the configuration itself, because
/// Terraform fills computed attributes from a prior state that is all null.
async fn plan_create(
    client: &mut ProviderClient<Channel>,
    ty: &Type,
    config: &Value,
) -> pb::plan_resource_change::Response {
    plan_create_raw(client, dynamic(&Value::Null, ty), dynamic(config, ty)).await
}

async fn plan_create_raw(
    client: &mut ProviderClient<Channel>,
    prior: pb::DynamicValue,
    config: pb::DynamicValue,
) -> pb::plan_resource_change::Response {
    client
        .plan_resource_change(pb::plan_resource_change::Request {
            type_name: NETWORK.to_owned(),
            prior_state: Some(prior),
            proposed_new_state: Some(config.clone()),
            config: Some(config),
            prior_private: Vec::new(),
            provider_meta: None,
            client_capabilities: Some(client_capabilities()),
        })
        .await
        .expect("PlanResourceChange answers with diagnostics, not a gRPC error")
        .into_inner()
}

async fn validate(
    client: &mut ProviderClient<Channel>,
    config: pb::DynamicValue,
) -> pb::validate_resource_config::Response {
    client
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: NETWORK.to_owned(),
            config: Some(config),
            client_capabilities: Some(client_capabilities()),
        })
        .await
        .expect("ValidateResourceConfig answers with diagnostics, not a gRPC error")
        .into_inner()
}

fn attr<'a>(value: &'a Value, name: &str) -> &'a Value {
    value
        .get(name)
        .unwrap_or_else(|| panic!("the value has no attribute {name:?}"))
}

#[tokio::test]
async fn handshake() {
    let plugin = Plugin::start_with(
        Launch::terraform()
            .env("PLUGIN_MIN_PORT", "21000")
            .env("PLUGIN_MAX_PORT", "21999"),
    );
    let handshake = &plugin.handshake;
    eprintln!("handshake after {:?}: {}", plugin.startup, handshake.line);

    assert_eq!(handshake.core_version, "1");
    assert_eq!(
        handshake.protocol_version, "6",
        "the highest version offered that we speak"
    );
    assert_eq!(handshake.network, "tcp");
    assert_eq!(handshake.protocol, "grpc");
    assert!(handshake.addr.ip().is_loopback(), "{}", handshake.addr);
    assert!(
        (21000..=21999).contains(&handshake.addr.port()),
        "port {} is outside PLUGIN_MIN_PORT..=PLUGIN_MAX_PORT",
        handshake.addr.port()
    );
    // go-plugin loads the certificate only when the field is longer than 50 characters.
    assert!(handshake.line.rsplit('|').next().unwrap().len() > 50);

    // What Go's TLS client needs from the server certificate: the name in a SAN (Go
    // ignores the CN), server authentication, and a self-signature to anchor on.
    let (_, cert) = x509_parser::parse_x509_certificate(&handshake.cert).expect("DER certificate");
    assert_eq!(cert.subject(), cert.issuer(), "self-signed");
    let san = cert
        .subject_alternative_name()
        .expect("well-formed extensions")
        .expect("a subject alternative name");
    assert!(
        san.value
            .general_names
            .contains(&x509_parser::extensions::GeneralName::DNSName("localhost")),
        "{:?}",
        san.value
    );
    let eku = cert
        .extended_key_usage()
        .expect("well-formed extensions")
        .expect("an extended key usage");
    assert!(eku.value.server_auth);

    let tls = common::tls_session(&plugin)
        .await
        .expect("the TLS handshake succeeds");
    let (_, session) = tls.get_ref();
    assert_eq!(
        session.alpn_protocol(),
        Some(&b"h2"[..]),
        "grpc-go requires ALPN h2"
    );
    assert_eq!(
        session.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_3)
    );
}

#[tokio::test]
async fn get_provider_schema() {
    let plugin = Plugin::start();
    let mut client = plugin.provider().await;

    let started = Instant::now();
    let schema = client
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("GetProviderSchema answers")
        .into_inner();
    eprintln!("GetProviderSchema answered in {:?}", started.elapsed());

    assert!(schema.diagnostics.is_empty(), "{:#?}", schema.diagnostics);
    let capabilities = schema.server_capabilities.expect("server capabilities");
    assert!(capabilities.plan_destroy);

    let provider = schema
        .provider
        .as_ref()
        .and_then(|s| s.block.as_ref())
        .expect("provider");
    let region = provider
        .attributes
        .iter()
        .find(|a| a.name == "region")
        .expect("region");
    assert!(region.optional && !region.required);
    let default_tags = provider
        .block_types
        .iter()
        .find(|b| b.type_name == "default_tags")
        .expect("a default_tags block");
    assert_eq!(
        default_tags.nesting,
        pb::schema::nested_block::NestingMode::Single as i32
    );
    assert_eq!(
        block_type(default_tags.block.as_ref().unwrap()),
        Type::object([("tags", Type::map(Type::String))])
    );

    let network = schema.resource_schemas.get(NETWORK).expect("atlas_network");
    let block = network.block.as_ref().expect("a root block");
    for attribute in &block.attributes {
        // Terraform refuses a schema with both or neither.
        assert!(
            attribute.r#type.is_empty() != attribute.nested_type.is_none(),
            "{} must have exactly one of type and nested_type",
            attribute.name
        );
        assert!(
            attribute.required || attribute.optional || attribute.computed,
            "{} is neither required, optional nor computed",
            attribute.name
        );
    }
    let ty = block_type(block);
    let attributes = ty.attribute_types().unwrap();
    assert_eq!(attributes["cidr_block"], Type::String);
    assert_eq!(attributes["tags_all"], Type::map(Type::String));
    assert_eq!(attributes["public_subnet_cidrs"], Type::list(Type::String));
}

#[tokio::test]
async fn validate_resource_config_bad_cidr_block() {
    let plugin = Plugin::start();
    let mut client = plugin.provider().await;
    let types = types(&mut client).await;

    let config = object(
        &types.network,
        [
            ("name", Value::string("atlas-test")),
            ("cidr_block", Value::string("10.0.0.0/33")),
        ],
    );
    let response = validate(&mut client, dynamic(&config, &types.network)).await;

    let errors = errors(&response.diagnostics);
    assert!(!errors.is_empty(), "no error for 10.0.0.0/33");
    for error in &errors {
        assert_eq!(path_of(error), "cidr_block", "{error:#?}");
        assert!(
            !error.summary.is_empty() && !error.detail.is_empty(),
            "{error:#?}"
        );
    }

    let good = object(
        &types.network,
        [
            ("name", Value::string("atlas-test")),
            ("cidr_block", Value::string("10.0.0.0/16")),
        ],
    );
    let response = validate(&mut client, dynamic(&good, &types.network)).await;
    assert!(
        response.diagnostics.is_empty(),
        "{:#?}",
        response.diagnostics
    );
}

#[tokio::test]
async fn configure_provider() {
    // Whatever the endpoints map misses would go to AWS_ENDPOINT_URL: a listener that
    // must see no connection, because configuring calls no AWS API.
    let watch = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    watch.set_nonblocking(true).unwrap();
    let url = format!("http://{}", watch.local_addr().unwrap());
    let plugin = Plugin::start_with(Launch::terraform().env("AWS_ENDPOINT_URL", url));
    let mut client = plugin.provider().await;
    let types = types(&mut client).await;

    let started = Instant::now();
    configure(&mut client, &types, &[("Environment", "test")]).await;
    eprintln!("ConfigureProvider answered in {:?}", started.elapsed());

    // The configuration took effect: default tags reach the plan.
    let config = object(
        &types.network,
        [
            ("name", Value::string("atlas-test")),
            ("cidr_block", Value::string("10.0.0.0/16")),
            ("tags", string_map(&[("Name", "atlas-test")])),
        ],
    );
    let response = plan_create(&mut client, &types.network, &config).await;
    assert!(
        errors(&response.diagnostics).is_empty(),
        "{:#?}",
        response.diagnostics
    );
    let planned = decode(response.planned_state.as_ref(), &types.network);
    assert_eq!(
        attr(&planned, "tags_all"),
        &string_map(&[("Environment", "test"), ("Name", "atlas-test")])
    );

    match watch.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("the provider called an AWS endpoint while configuring: {other:?}"),
    }
}

#[tokio::test]
async fn plan_create_with_unknown_tags() {
    let plugin = Plugin::start();
    let mut client = plugin.provider().await;
    let types = types(&mut client).await;
    configure(&mut client, &types, &[]).await;

    let unknown = Value::unknown();
    let tags_type = Type::map(Type::String);
    assert_eq!(
        unknown.encode_msgpack(&tags_type).unwrap(),
        [0xd4, 0x00, 0x00],
        "Terraform's unknown"
    );
    let config = object(
        &types.network,
        [
            ("name", Value::string("atlas-test")),
            ("cidr_block", Value::string("10.0.0.0/16")),
            ("tags", unknown),
        ],
    );
    let response = plan_create(&mut client, &types.network, &config).await;
    assert!(
        errors(&response.diagnostics).is_empty(),
        "{:#?}",
        response.diagnostics
    );
    assert!(
        response.requires_replace.is_empty(),
        "a create replaces nothing"
    );
    let planned = decode(response.planned_state.as_ref(), &types.network);

    assert!(
        !attr(&planned, "tags").is_known(),
        "the configuration's unknown is kept"
    );
    assert!(
        !attr(&planned, "tags_all").is_known(),
        "tags_all depends on tags"
    );
    for computed in [
        "id",
        "vpc_id",
        "availability_zones",
        "public_subnet_ids",
        "nat_gateway_ids",
    ] {
        assert!(
            !attr(&planned, computed).is_known(),
            "{computed} is known after apply"
        );
    }
    assert_eq!(
        attr(&planned, "public_subnet_cidrs"),
        &Value::strings(["10.0.0.0/24", "10.0.1.0/24"])
    );
    assert_eq!(
        attr(&planned, "private_subnet_cidrs"),
        &Value::strings(["10.0.128.0/24", "10.0.129.0/24"])
    );
    assert_eq!(attr(&planned, "name"), &Value::string("atlas-test"));
    assert_eq!(
        attr(&planned, "flow_logs"),
        &Value::Bool(true),
        "the default"
    );
    assert_eq!(
        attr(&planned, "flow_log_retention_days"),
        &Value::Number(Number::from_i64(30)),
        "the default"
    );
}

#[tokio::test]
async fn plan_with_refined_unknown() {
    // What Terraform sends for "pfx-${unknown}": ext 12 holding {1: false, 2: "pfx-"}.
    let observed = [
        0xc7, 0x09, 0x0c, 0x82, 0x01, 0xc2, 0x02, 0xa4, b'p', b'f', b'x', b'-',
    ];
    let decoded = Value::decode_msgpack(&observed, &Type::String).expect("Terraform's bytes");
    let expected = Refinements {
        not_null: true,
        string_prefix: Some("pfx-".to_owned()),
        ..Refinements::default()
    };
    assert_eq!(decoded.refinements(), Some(&expected));
    assert_eq!(decoded.encode_msgpack(&Type::String).unwrap(), observed);

    let plugin = Plugin::start();
    let mut client = plugin.provider().await;
    let types = types(&mut client).await;
    configure(&mut client, &types, &[]).await;

    let name = Value::Unknown(Refinements {
        not_null: true,
        string_prefix: Some("atlas-".to_owned()),
        ..Refinements::default()
    });
    let config = object(
        &types.network,
        [
            ("name", name.clone()),
            ("cidr_block", Value::string("10.0.0.0/16")),
        ],
    );
    let response = plan_create(&mut client, &types.network, &config).await;
    assert!(
        errors(&response.diagnostics).is_empty(),
        "{:#?}",
        response.diagnostics
    );
    let planned = decode(response.planned_state.as_ref(), &types.network);
    assert_eq!(
        attr(&planned, "name").refinements(),
        name.refinements(),
        "the planned value keeps the refinements Terraform sent"
    );
    assert_eq!(
        attr(&planned, "public_subnet_cidrs"),
        &Value::strings(["10.0.0.0/24", "10.0.1.0/24"])
    );
}

#[tokio::test]
async fn malformed_msgpack() {
    let mut plugin = Plugin::start();
    let mut client = plugin.provider().await;
    let types = types(&mut client).await;

    // 0xc1 is never used by msgpack; the other is a map of seven entries cut short.
    let malformed: [&[u8]; 2] = [&[0xc1], &[0x87, 0xa4, b'n', b'a']];
    for bytes in malformed {
        let response = validate(&mut client, raw(bytes)).await;
        assert_eq!(
            errors(&response.diagnostics).len(),
            1,
            "{bytes:x?}: {:#?}",
            response.diagnostics
        );

        let null = dynamic(&Value::Null, &types.network);
        let response = plan_create_raw(&mut client, null, raw(bytes)).await;
        assert!(!errors(&response.diagnostics).is_empty(), "{bytes:x?}");

        let response = client
            .configure_provider(pb::configure_provider::Request {
                terraform_version: "1.11.4".to_owned(),
                config: Some(raw(bytes)),
                client_capabilities: Some(client_capabilities()),
            })
            .await
            .expect("ConfigureProvider answers with diagnostics, not a gRPC error")
            .into_inner();
        assert!(!errors(&response.diagnostics).is_empty(), "{bytes:x?}");
    }

    // Still serving, on this connection and a new one.
    assert!(plugin.is_running());
    client
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("GetProviderSchema after malformed input");
    let mut fresh = plugin.provider().await;
    fresh
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("GetProviderSchema on a new connection");
}

#[tokio::test]
async fn object_missing_attributes() {
    let plugin = Plugin::start();
    let mut client = plugin.provider().await;
    let types = types(&mut client).await;

    let partial_type = Type::object([("name", Type::String), ("cidr_block", Type::String)]);
    let partial = Value::object([
        ("name", Value::string("atlas-test")),
        ("cidr_block", Value::string("10.0.0.0/16")),
    ]);
    let response = validate(&mut client, dynamic(&partial, &partial_type)).await;

    let errors = errors(&response.diagnostics);
    assert_eq!(errors.len(), 1, "{:#?}", response.diagnostics);
    assert!(
        errors[0]
            .detail
            .contains("attributes is required (2 given)"),
        "{:#?}",
        errors[0]
    );
    assert!(types.network.attribute_types().unwrap().len() > 2);
}

#[tokio::test]
async fn stop_provider() {
    let plugin = Plugin::start();
    let mut client = plugin.provider().await;

    let response = client
        .stop_provider(pb::stop_provider::Request {})
        .await
        .expect("StopProvider answers")
        .into_inner();
    assert_eq!(response.error, "");
}

#[tokio::test]
async fn shutdown() {
    let mut plugin = Plugin::start();
    let channel = plugin.channel().await;
    let mut client = ProviderClient::new(channel.clone());
    let mut controller = GrpcControllerClient::new(channel);
    client
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("GetProviderSchema answers");

    let started = Instant::now();
    controller
        .shutdown(plugin::Empty {})
        .await
        .expect("Shutdown answers");
    // go-plugin's client closes its connection once Shutdown returns, then kills a
    // plugin that has not exited within two seconds.
    drop(controller);
    drop(client);
    let status = plugin
        .wait_for_exit(Duration::from_secs(2))
        .await
        .expect("the provider exits within 2 seconds of Shutdown");
    eprintln!("exited {:?} after Shutdown", started.elapsed());
    assert!(status.success(), "{status}");
}

#[tokio::test]
async fn shutdown_with_a_connection_left_open() {
    let mut plugin = Plugin::start();
    let channel = plugin.channel().await;
    let mut controller = GrpcControllerClient::new(channel.clone());
    let mut client = ProviderClient::new(channel);
    client
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("GetProviderSchema answers");

    let started = Instant::now();
    controller
        .shutdown(plugin::Empty {})
        .await
        .expect("Shutdown answers");
    // A client that never hangs up must not keep the provider past Terraform's deadline.
    let status = plugin
        .wait_for_exit(Duration::from_secs(2))
        .await
        .expect("the provider exits within 2 seconds of Shutdown");
    eprintln!(
        "exited {:?} after Shutdown, connection open",
        started.elapsed()
    );
    assert!(status.success(), "{status}");
    drop(client);
}

#[test]
fn no_cookie() {
    let mut child = Launch::terraform()
        .without(common::MAGIC_COOKIE_KEY)
        .command()
        .spawn()
        .expect("starting the provider binary");
    let stdout = common::drain(child.stdout.take().unwrap());
    let stderr = common::drain(child.stderr.take().unwrap());

    let status = common::wait_for_exit(&mut child, Duration::from_secs(10));
    let Some(status) = status else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("the provider kept running without the cookie");
    };
    // The pipes close with the process; give the readers a moment to finish.
    std::thread::sleep(Duration::from_millis(100));
    let stdout = String::from_utf8_lossy(&stdout.lock().unwrap()).into_owned();
    let stderr = String::from_utf8_lossy(&stderr.lock().unwrap()).into_owned();

    assert_eq!(status.code(), Some(1));
    assert_eq!(
        stdout, "",
        "nothing on stdout, where Terraform reads the handshake"
    );
    assert!(
        stderr.contains("Terraform"),
        "a message a person can act on: {stderr:?}"
    );
}

#[tokio::test]
async fn client_with_another_certificate_is_refused() {
    let plugin = Plugin::start_with(Launch::terraform().env("TF_LOG_PROVIDER", "warn"));
    refused(&plugin, Some(&ClientIdentity::generate())).await;
}

#[tokio::test]
async fn client_without_certificate_is_refused() {
    let plugin = Plugin::start_with(Launch::terraform().env("TF_LOG_PROVIDER", "warn"));
    refused(&plugin, None).await;
}

/// A client presenting `identity` gets no answer, and Terraform still does.
async fn refused(plugin: &Plugin, identity: Option<&ClientIdentity>) {
    let attempt = async {
        let channel = plugin
            .channel_as(identity)
            .await
            .map_err(|e| format!("{e:?}"))?;
        ProviderClient::new(channel)
            .get_provider_schema(pb::get_provider_schema::Request {})
            .await
            .map_err(|e| format!("{e:?}"))
    };
    let result = tokio::time::timeout(Duration::from_secs(15), attempt)
        .await
        .expect("the refusal is prompt");
    match result {
        Ok(_) => panic!("the provider answered a client it should refuse"),
        Err(e) => eprintln!("refused: {e}"),
    }
    // Under TLS 1.3 the client only sees the connection close; the provider's warning
    // shows the refusal was its decision.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !logged_refusal(&plugin.stderr()) {
        assert!(
            Instant::now() < deadline,
            "no refusal logged:\n{}",
            plugin.stderr()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    plugin
        .provider()
        .await
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("Terraform's client is still served");
}

/// Whether the provider's JSON log has a warning about a refused client.
fn logged_refusal(stderr: &str) -> bool {
    stderr
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .any(|entry| {
            entry["@level"] == "warn"
                && entry["@message"]
                    .as_str()
                    .is_some_and(|m| m.contains("refused"))
        })
}
