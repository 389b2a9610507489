//! The protocol paths that reach AWS, driven as Terraform drives them against the local
//! emulator: apply, read, import, destroy, and the read of an object that has vanished.
//! What exists is checked through the AWS SDK, not through the provider.

// Each test binary uses a part of the shared helpers.
#[allow(dead_code)]
mod common;

use atlas_acceptance::Emulator;
use common::{block_type, decode, dynamic, errors, object, Launch, Plugin};
use tfplugin::proto::tfplugin6 as pb;
use tfplugin::proto::tfplugin6::provider_client::ProviderClient;
use tfplugin::value::{Type, Value};
use tonic::transport::Channel;

const NETWORK: &str = "atlas_network";

struct Session {
    client: ProviderClient<Channel>,
    provider: Type,
    network: Type,
}

/// Starts the provider with the emulator's environment, as the CLI would pass it, and
/// configures it.
async fn session(plugin: &Plugin) -> Session {
    let mut client = plugin.provider().await;
    let schema = client
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("GetProviderSchema answers")
        .into_inner();
    let block = |s: Option<&pb::Schema>| block_type(s.and_then(|s| s.block.as_ref()).unwrap());
    let provider = block(schema.provider.as_ref());
    let network = block(schema.resource_schemas.get(NETWORK));
    let config = object(&provider, [("region", Value::string("eu-west-1"))]);
    let response = client
        .configure_provider(pb::configure_provider::Request {
            terraform_version: "1.11.4".to_owned(),
            config: Some(dynamic(&config, &provider)),
            client_capabilities: None,
        })
        .await
        .expect("ConfigureProvider answers")
        .into_inner();
    assert!(
        errors(&response.diagnostics).is_empty(),
        "{:#?}",
        response.diagnostics
    );
    Session {
        client,
        provider,
        network,
    }
}

fn launch(emulator: &Emulator) -> Launch {
    let mut launch = Launch::terraform();
    for (key, value) in emulator.env() {
        launch = launch.env(key, value);
    }
    launch
}

impl Session {
    async fn plan(&mut self, prior: &Value, proposed: &Value, config: &Value) -> Value {
        let ty = &self.network;
        let response = self
            .client
            .plan_resource_change(pb::plan_resource_change::Request {
                type_name: NETWORK.to_owned(),
                prior_state: Some(dynamic(prior, ty)),
                proposed_new_state: Some(dynamic(proposed, ty)),
                config: Some(dynamic(config, ty)),
                ..Default::default()
            })
            .await
            .expect("PlanResourceChange answers")
            .into_inner();
        assert!(
            errors(&response.diagnostics).is_empty(),
            "{:#?}",
            response.diagnostics
        );
        decode(response.planned_state.as_ref(), ty)
    }

    async fn apply(&mut self, prior: &Value, planned: &Value, config: &Value) -> Value {
        let ty = &self.network;
        let response = self
            .client
            .apply_resource_change(pb::apply_resource_change::Request {
                type_name: NETWORK.to_owned(),
                prior_state: Some(dynamic(prior, ty)),
                planned_state: Some(dynamic(planned, ty)),
                config: Some(dynamic(config, ty)),
                ..Default::default()
            })
            .await
            .expect("ApplyResourceChange answers")
            .into_inner();
        assert!(
            errors(&response.diagnostics).is_empty(),
            "{:#?}",
            response.diagnostics
        );
        decode(response.new_state.as_ref(), ty)
    }

    async fn read(&mut self, current: &Value) -> (Value, Vec<pb::Diagnostic>) {
        let ty = &self.network;
        let response = self
            .client
            .read_resource(pb::read_resource::Request {
                type_name: NETWORK.to_owned(),
                current_state: Some(dynamic(current, ty)),
                ..Default::default()
            })
            .await
            .expect("ReadResource answers")
            .into_inner();
        (
            decode(response.new_state.as_ref(), ty),
            response.diagnostics,
        )
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_read_import_destroy_and_read_vanished() {
    let emulator = Emulator::start();
    let plugin = Plugin::start_with(launch(&emulator));
    let mut s = session(&plugin).await;
    let _ = &s.provider;

    let config = object(
        &s.network,
        [
            ("name", Value::string("protocol")),
            ("cidr_block", Value::string("10.40.0.0/16")),
            ("flow_logs", Value::Bool(false)),
        ],
    );
    let planned = s.plan(&Value::Null, &config, &config).await;
    let created = s.apply(&Value::Null, &planned, &config).await;
    assert!(
        created.is_wholly_known(),
        "a state after apply is wholly known"
    );
    let vpc_id = created
        .get("id")
        .and_then(Value::as_str)
        .expect("an id")
        .to_owned();

    let ec2 = aws_sdk_ec2::Client::new(&emulator.sdk_config().await);
    let vpcs = ec2
        .describe_vpcs()
        .vpc_ids(&vpc_id)
        .send()
        .await
        .expect("the VPC exists");
    assert_eq!(vpcs.vpcs()[0].cidr_block(), Some("10.40.0.0/16"));

    // A refresh of an unchanged network returns the same state.
    let (read, diagnostics) = s.read(&created).await;
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
    assert_eq!(read, created);

    // Import by VPC id, then read: the same network, found again from its tags.
    let response = s
        .client
        .import_resource_state(pb::import_resource_state::Request {
            type_name: NETWORK.to_owned(),
            id: vpc_id.clone(),
            client_capabilities: None,
        })
        .await
        .expect("ImportResourceState answers")
        .into_inner();
    assert!(
        errors(&response.diagnostics).is_empty(),
        "{:#?}",
        response.diagnostics
    );
    assert_eq!(
        response.imported_resources.len(),
        1,
        "exactly one object for an import block"
    );
    let imported = decode(response.imported_resources[0].state.as_ref(), &s.network);
    let (imported, _) = s.read(&imported).await;
    for name in [
        "id",
        "name",
        "cidr_block",
        "public_subnet_ids",
        "private_subnet_ids",
        "nat_gateway_ids",
    ] {
        assert_eq!(imported.get(name), created.get(name), "{name} after import");
    }

    // Destroy: a null plan, then an apply that returns null.
    let planned = s.plan(&created, &Value::Null, &Value::Null).await;
    assert!(planned.is_null(), "a destroy plan stays null");
    let gone = s.apply(&created, &Value::Null, &Value::Null).await;
    assert!(gone.is_null());
    let vpcs = ec2.describe_vpcs().send().await.expect("DescribeVpcs");
    assert!(
        vpcs.vpcs()
            .iter()
            .all(|v| v.vpc_id() != Some(vpc_id.as_str())),
        "the VPC is gone"
    );

    // A read of the vanished network drops it from state with a warning.
    let (read, diagnostics) = s.read(&created).await;
    assert!(read.is_null(), "a vanished network reads as null");
    assert!(
        diagnostics
            .iter()
            .any(|d| d.severity == pb::diagnostic::Severity::Warning as i32),
        "a warning says the network is gone: {diagnostics:#?}"
    );
}
