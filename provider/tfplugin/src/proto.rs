//! Generated protocol types and gRPC stubs (see `build.rs` and `proto/`).
//!
//! - [`tfplugin6`]: Terraform plugin protocol 6.8, the `tfplugin6.Provider`
//!   service with its messages.
//! - [`plugin`]: go-plugin's `GRPCController`, `GRPCStdio` and `GRPCBroker`.
//! - [`google::protobuf`]: the well-known `Timestamp` and `Empty` they use.
//!
//! Each package module holds prost message structs, a `*_server` module
//! (trait + tower service) and a `*_client` module per service.

/// Terraform plugin protocol, major version 6 (minor 6.8).
#[allow(
    unreachable_pub,
    missing_debug_implementations,
    missing_docs,
    clippy::all,
    clippy::pedantic,
    rustdoc::all
)]
pub mod tfplugin6 {
    tonic::include_proto!("tfplugin6");
}

/// go-plugin's auxiliary services (controller, stdio, broker).
#[allow(
    unreachable_pub,
    missing_debug_implementations,
    missing_docs,
    clippy::all,
    clippy::pedantic,
    rustdoc::all
)]
pub mod plugin {
    tonic::include_proto!("plugin");
}

/// Protobuf well-known types referenced by the protocols.
#[allow(
    unreachable_pub,
    missing_debug_implementations,
    missing_docs,
    clippy::all,
    clippy::pedantic,
    rustdoc::all
)]
pub mod google {
    /// Package `google.protobuf`.
    pub mod protobuf {
        tonic::include_proto!("google.protobuf");
    }
}

#[cfg(test)]
mod tests {
    use super::tfplugin6;
    use prost::Message;

    #[test]
    fn dynamic_value_round_trips() {
        let value = tfplugin6::DynamicValue {
            msgpack: vec![0x81, 0xa2, b'i', b'd', 0xc0],
            json: Vec::new(),
        };
        let bytes = value.encode_to_vec();
        let decoded = tfplugin6::DynamicValue::decode(bytes.as_slice()).unwrap();
        assert_eq!(decoded, value);
    }

    #[test]
    fn schema_response_round_trips() {
        use tfplugin6::schema::{self, Attribute, Block};

        let attribute = Attribute {
            name: "id".into(),
            r#type: br#""string""#.to_vec(),
            computed: true,
            write_only: false,
            ..Default::default()
        };
        let secret = Attribute {
            name: "secret".into(),
            r#type: br#""string""#.to_vec(),
            optional: true,
            sensitive: true,
            write_only: true,
            ..Default::default()
        };
        let nested = schema::NestedBlock {
            type_name: "rule".into(),
            block: Some(Block::default()),
            nesting: schema::nested_block::NestingMode::List as i32,
            min_items: 0,
            max_items: 3,
        };
        let resource = tfplugin6::Schema {
            version: 2,
            block: Some(Block {
                attributes: vec![attribute, secret],
                block_types: vec![nested],
                description_kind: tfplugin6::StringKind::Markdown as i32,
                ..Default::default()
            }),
        };
        let response = tfplugin6::get_provider_schema::Response {
            provider: Some(tfplugin6::Schema::default()),
            resource_schemas: [("atlas_thing".to_string(), resource)].into(),
            diagnostics: vec![tfplugin6::Diagnostic {
                severity: tfplugin6::diagnostic::Severity::Warning as i32,
                summary: "careful".into(),
                detail: String::new(),
                attribute: Some(tfplugin6::AttributePath {
                    steps: vec![tfplugin6::attribute_path::Step {
                        selector: Some(tfplugin6::attribute_path::step::Selector::AttributeName(
                            "id".into(),
                        )),
                    }],
                }),
            }],
            server_capabilities: Some(tfplugin6::ServerCapabilities {
                plan_destroy: true,
                ..Default::default()
            }),
            ..Default::default()
        };

        let bytes = response.encode_to_vec();
        let decoded = tfplugin6::get_provider_schema::Response::decode(bytes.as_slice()).unwrap();
        assert_eq!(decoded, response);
        let block = decoded.resource_schemas["atlas_thing"]
            .block
            .as_ref()
            .unwrap();
        assert!(block.attributes[1].write_only);
    }

    #[test]
    fn write_only_is_field_11() {
        // Field 11, varint: key byte (11 << 3) | 0 = 0x58, value 1.
        let attribute = tfplugin6::schema::Attribute {
            write_only: true,
            ..Default::default()
        };
        assert_eq!(attribute.encode_to_vec(), vec![0x58, 0x01]);
    }

    #[test]
    fn service_names_match_the_wire_contract() {
        use tfplugin6::provider_server::SERVICE_NAME;

        assert_eq!(SERVICE_NAME, "tfplugin6.Provider");
        assert_eq!(
            format!("/{SERVICE_NAME}/GetProviderSchema"),
            "/tfplugin6.Provider/GetProviderSchema"
        );

        // The router matches on full method paths; make sure they are there.
        let generated = include_str!(concat!(env!("OUT_DIR"), "/tfplugin6.rs"));
        for method in [
            "GetMetadata",
            "GetProviderSchema",
            "ValidateProviderConfig",
            "ValidateResourceConfig",
            "ValidateDataResourceConfig",
            "UpgradeResourceState",
            "ConfigureProvider",
            "ReadResource",
            "PlanResourceChange",
            "ApplyResourceChange",
            "ImportResourceState",
            "MoveResourceState",
            "ReadDataSource",
            "GetFunctions",
            "CallFunction",
            "ValidateEphemeralResourceConfig",
            "OpenEphemeralResource",
            "RenewEphemeralResource",
            "CloseEphemeralResource",
            "StopProvider",
        ] {
            let path = format!("\"/tfplugin6.Provider/{method}\"");
            assert!(generated.contains(&path), "missing route {path}");
        }

        let plugin = include_str!(concat!(env!("OUT_DIR"), "/plugin.rs"));
        for path in [
            "/plugin.GRPCController/Shutdown",
            "/plugin.GRPCStdio/StreamStdio",
            "/plugin.GRPCBroker/StartStream",
        ] {
            assert!(
                plugin.contains(&format!("\"{path}\"")),
                "missing route {path}"
            );
        }
        assert_eq!(
            super::plugin::grpc_controller_server::SERVICE_NAME,
            "plugin.GRPCController"
        );
        assert_eq!(
            super::plugin::grpc_stdio_server::SERVICE_NAME,
            "plugin.GRPCStdio"
        );
        assert_eq!(
            super::plugin::grpc_broker_server::SERVICE_NAME,
            "plugin.GRPCBroker"
        );
    }
}
