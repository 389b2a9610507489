//! Creates a network against an AWS endpoint, reads it back, deletes it and checks that
//! it is gone: the emulator-backed check of `atlas_network`'s AWS side.
//!
//! ```text
//! AWS_ENDPOINT_URL=http://127.0.0.1:5000 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
//! AWS_REGION=eu-west-1 cargo run -p terraform-provider-atlas --example network_smoke
//! ```
//!
//! It refuses to run without `AWS_ENDPOINT_URL`, so that it never touches a real account
//! by accident. It exits non-zero on the first failed check.

// The example compiles the provider's modules itself (the provider is a binary, not a
// library), and uses only part of them.
#![allow(dead_code)]

#[path = "../src/aws/mod.rs"]
mod aws;
#[path = "../src/network"]
mod network {
    pub(crate) mod model;
    pub(crate) mod ops;
}

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use aws::AwsClients;
use network::model::{NetworkSpec, NetworkState};
use network::ops;

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => {
            println!("ok: create, read, delete and read-after-delete all behaved");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("network_smoke: {message}");
            ExitCode::FAILURE
        }
    }
}

fn check(ok: bool, what: &str, state: &NetworkState) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(format!("check failed: {what}\nstate: {state:#?}"))
    }
}

async fn run() -> Result<(), String> {
    let Ok(endpoint) = std::env::var("AWS_ENDPOINT_URL") else {
        return Err("AWS_ENDPOINT_URL is not set; point it at the emulator".into());
    };
    println!("endpoint: {endpoint}");
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let c = AwsClients::new(&config);
    if c.region.is_empty() {
        return Err("no region configured; set AWS_REGION".into());
    }

    let name = format!("smoke-{}", std::process::id());
    let spec = NetworkSpec {
        name: name.clone(),
        cidr_block: "10.42.0.0/16".into(),
        availability_zones: None,
        public_subnet_cidrs: None,
        private_subnet_cidrs: None,
        flow_logs: true,
        flow_log_retention_days: 30,
        tags: BTreeMap::from([("team".to_owned(), "platform".to_owned())]),
    };
    let cancel = CancellationToken::new();
    let deadline = || Instant::now() + Duration::from_secs(300);

    let started = Instant::now();
    let created = match ops::create(&c, &spec, &cancel, deadline()).await {
        Ok(state) => state,
        Err(failure) => {
            eprintln!(
                "create failed: {}; cleaning up {:#?}",
                failure.error, failure.partial
            );
            if let Err(err) = ops::delete(&c, &failure.partial, &cancel, deadline()).await {
                eprintln!("cleanup failed too: {err}");
            }
            return Err(format!("create failed: {}", failure.error));
        }
    };
    println!(
        "create: {:?}, vpc {}",
        started.elapsed(),
        created.vpc_id.as_deref().unwrap_or("?")
    );

    let result = checks(&c, &spec, &created, &cancel).await;

    let started = Instant::now();
    ops::delete(&c, &created, &cancel, deadline())
        .await
        .map_err(|err| format!("delete: {err}"))?;
    println!("delete: {:?}", started.elapsed());
    result?;

    let vpc_id = created.vpc_id.as_deref().unwrap_or_default();
    match ops::read(&c, vpc_id).await {
        Ok(None) => println!("read after delete: gone, as it should be"),
        Ok(Some(state)) => return Err(format!("read after delete found {state:#?}")),
        Err(err) => return Err(format!("read after delete: {err}")),
    }
    Ok(())
}

async fn checks(
    c: &AwsClients,
    spec: &NetworkSpec,
    created: &NetworkState,
    cancel: &CancellationToken,
) -> Result<(), String> {
    let two = |list: &Vec<String>| list.len() == 2 && list.iter().all(|s| !s.is_empty());
    check(two(&created.availability_zones), "two zones", created)?;
    check(two(&created.availability_zone_ids), "two zone ids", created)?;
    check(
        created.public_subnet_cidrs == ["10.42.0.0/24", "10.42.1.0/24"]
            && created.private_subnet_cidrs == ["10.42.128.0/24", "10.42.129.0/24"],
        "derived subnet cidrs",
        created,
    )?;
    for (list, what) in [
        (&created.public_subnet_ids, "public subnets"),
        (&created.private_subnet_ids, "private subnets"),
        (&created.private_route_table_ids, "private route tables"),
        (&created.nat_gateway_ids, "nat gateways"),
        (&created.nat_public_ips, "nat public ips"),
        (&created.eip_allocation_ids, "elastic ips"),
    ] {
        check(two(list), what, created)?;
    }
    for (field, what) in [
        (&created.internet_gateway_id, "internet gateway"),
        (&created.public_route_table_id, "public route table"),
        (&created.s3_endpoint_id, "s3 endpoint"),
        (&created.flow_log_id, "flow log"),
        (&created.flow_log_group_name, "log group"),
        (&created.flow_log_role_arn, "flow log role"),
    ] {
        check(field.is_some(), what, created)?;
    }

    let started = Instant::now();
    let vpc_id = created.vpc_id.as_deref().unwrap_or_default();
    let read = ops::read_in_order(c, vpc_id, &created.availability_zones)
        .await
        .map_err(|err| format!("read: {err}"))?
        .ok_or("read: the VPC is missing right after create")?;
    println!("read: {:?}", started.elapsed());
    if &read != created {
        return Err(format!(
            "read differs from create:\ncreated: {created:#?}\nread: {read:#?}"
        ));
    }
    println!("read matches what create returned");

    let mut new_tags = spec.tags.clone();
    new_tags.remove("team");
    new_tags.insert("owner".into(), "smoke".into());
    ops::update_tags(c, created, &spec.tags, &new_tags)
        .await
        .map_err(|e| format!("tags: {e}"))?;
    let read = ops::read_in_order(c, vpc_id, &created.availability_zones)
        .await
        .map_err(|err| format!("read: {err}"))?
        .ok_or("read: the VPC is missing")?;
    check(
        read.tags.get("owner").map(String::as_str) == Some("smoke")
            && !read.tags.contains_key("team"),
        "tags updated",
        &read,
    )?;
    println!("update_tags: ok");

    let mut off = spec.clone();
    off.flow_logs = false;
    let deadline = Instant::now() + Duration::from_secs(120);
    let without = ops::set_flow_logs(c, created, &off, cancel, deadline)
        .await
        .map_err(|failure| format!("flow logs off: {failure}"))?;
    check(
        without.flow_log_id.is_none() && without.flow_log_role_arn.is_none(),
        "flow logs off",
        &without,
    )?;
    let mut on = spec.clone();
    on.flow_log_retention_days = 7;
    let with = ops::set_flow_logs(c, &without, &on, cancel, deadline)
        .await
        .map_err(|failure| format!("flow logs on: {failure}"))?;
    check(
        with.flow_log_id.is_some() && with.flow_log_retention_days == 7,
        "flow logs on",
        &with,
    )?;
    let read = ops::read_in_order(c, vpc_id, &created.availability_zones)
        .await
        .map_err(|err| format!("read: {err}"))?
        .ok_or("read: the VPC is missing")?;
    check(
        read.flow_log_id == with.flow_log_id && read.flow_log_retention_days == 7,
        "flow logs read",
        &read,
    )?;
    println!("set_flow_logs off and on: ok");
    Ok(())
}
