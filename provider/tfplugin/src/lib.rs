//! The Terraform plugin protocol v6 runtime.

pub mod proto;
pub mod value;
pub mod diag;
pub mod plan;
pub mod resource;
pub mod schema;
pub mod validate;
pub mod server;
pub mod log;
pub mod serve;
