//! `terraform-provider-atlas`: the Atlas AWS design as a few high-level Terraform
//! resources.
//!
//! Terraform starts this binary by itself. Run by hand it explains that; with `--debug` it
//! serves in debug mode and prints the `TF_REATTACH_PROVIDERS` value to export.

mod aws;
mod cluster;
mod convert;
mod ingress;
mod msk_public_access;
mod network;
mod provider;
mod security_model;
mod service;
mod tags;

use std::process::ExitCode;

/// The provider's registry address.
const ADDRESS: &str = "registry.terraform.io/atlas/atlas";

fn main() -> ExitCode {
    let mut debug = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--debug" | "-debug" => debug = true,
            "--version" | "-version" => {
                println!("terraform-provider-atlas {}", env!("CARGO_PKG_VERSION"));
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!(
                    "terraform-provider-atlas: unknown argument {other:?}; the only flags are \
                     --debug and --version"
                );
                return ExitCode::FAILURE;
            }
        }
    }
    if debug
        && std::env::var_os("TF_LOG_PROVIDER").is_none()
        && std::env::var_os("TF_LOG").is_none()
    {
        // Debug mode is for a person at a terminal: show what the provider does.
        std::env::set_var("TF_LOG_PROVIDER", "DEBUG");
    }
    tfplugin::log::init("terraform_provider_atlas");
    tfplugin::serve::run(
        provider::AtlasProvider::default,
        tfplugin::serve::ServeOptions {
            address: ADDRESS,
            executable: "terraform-provider-atlas",
            debug,
        },
    )
}
