//! A runtime for Terraform providers written in Rust: plugin protocol 6 (6.8, what
//! Terraform 1.11 speaks), served the way go-plugin expects.
//!
//! Terraform holds providers to a long list of rules: how values are encoded, which
//! planned values it accepts, what a result after apply may differ in, how a provider
//! proves it is the process Terraform started. Getting any of them wrong shows up as an
//! opaque "Provider produced inconsistent result" for the user. This crate owns those
//! rules so that a resource only declares its schema and its cloud calls:
//!
//! - [`serve`] starts the process: magic cookie, handshake line, mutual TLS pinned to
//!   Terraform's client certificate, the go-plugin services, graceful shutdown, debug
//!   mode.
//! - [`server`] answers every RPC: decodes values against the schema, runs validators and
//!   the planning every resource needs ([`plan`]), calls provider code behind a panic
//!   guard, and checks results before answering.
//! - [`value`] is cty's type system and its msgpack and JSON forms, lossless for numbers
//!   and unknowns (refinements included).
//! - [`schema`], [`validate`], [`resource`] and [`diag`] are what a provider author uses.
//! - [`log`] writes Terraform's JSON log lines, so `TF_LOG_PROVIDER` shows them natively.
//!
//! It knows nothing of any cloud.

pub mod diag;
pub mod log;
pub mod plan;
pub mod proto;
pub mod resource;
pub mod schema;
pub mod serve;
pub mod server;
pub mod validate;
pub mod value;
