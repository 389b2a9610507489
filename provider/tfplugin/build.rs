//! Generates the Rust code for the Terraform plugin protocol (tfplugin6) and
//! go-plugin's auxiliary services from `proto/`.
//!
//! The `.proto` files are parsed by `protox` (pure Rust), so no system
//! `protoc` is needed. `tonic-prost-build` then emits messages plus server and
//! client stubs into `OUT_DIR`, one file per protobuf package:
//! `tfplugin6.rs`, `plugin.rs` and `google.protobuf.rs` (the well-known
//! `Timestamp` and `Empty`, compiled here so the crate needs no `prost-types`).

use std::path::PathBuf;

const PROTOS: [&str; 2] = ["proto/tfplugin6.proto", "proto/plugin.proto"];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let include = manifest_dir.join("proto");

    println!("cargo:rerun-if-changed=build.rs");
    for proto in PROTOS {
        println!("cargo:rerun-if-changed={proto}");
    }

    let files: Vec<PathBuf> = PROTOS.iter().map(|p| manifest_dir.join(p)).collect();
    let fds = protox::compile(&files, [&include])?;

    tonic_prost_build::configure()
        .build_server(true)
        // Clients are cheap to generate and let tests drive the server.
        .build_client(true)
        // `connect()` helpers need tonic's `transport` feature, which this
        // workspace does not enable; tests build a Channel themselves.
        .build_transport(false)
        .compile_well_known_types(true)
        .emit_rerun_if_changed(false)
        .compile_fds(fds)?;

    Ok(())
}
