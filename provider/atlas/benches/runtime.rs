//! `make bench`: the runtime's figures, measured side by side in one run.
//!
//! - time from process start to the handshake line (median of many launches);
//! - time to answer GetProviderSchema over mutual TLS (median of many calls);
//! - peak resident memory of the provider over a plan of terraform/staging against the
//!   emulator (every provider process Terraform starts is sampled);
//! - the size of the release binary;
//! - the AWS calls of a no-op plan of terraform/staging, by operation, beside the
//!   minimum of one read per kind of AWS object the root owns;
//! - the apply time of terraform/staging with 50 ms injected before every AWS call of
//!   the provider, beside the critical-path bound (see [`CRITICAL_PATH`]);
//! - plan time and calls for roots of 1, 10 and 50 services (see [`services_root`]).
//!
//! Targets from the runtime issue: handshake under 20 ms, peak RSS under 40 MB, binary
//! under 60 MB; from the resilience issue: a no-op plan of staging in at most 15 calls,
//! an apply within 1.5 times the critical path, plan cost linear in services. The bench
//! prints the figures beside the targets in one table; it never fails on them.

#[path = "../tests/common/mod.rs"]
#[allow(dead_code)]
mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use atlas_acceptance::inventory::Inventory;
use atlas_acceptance::{Emulator, FaultSettings, Request, Workspace};
use common::Plugin;
use tfplugin::proto::tfplugin6 as pb;

const LAUNCHES: usize = 20;
const SCHEMA_CALLS: usize = 50;

/// The latency injected before each of the provider's AWS calls for the apply figure.
const LATENCY_MS: u64 = 50;

/// The services the provider calls; the latency is not added to S3, which only
/// Terraform's state backend uses, so that the figure is the provider's.
const PROVIDER_SERVICES: &[&str] = &[
    "ec2",
    "ecs",
    "elasticloadbalancing",
    "iam",
    "kafka",
    "logs",
    "servicediscovery",
    "sts",
];

/// The critical path of creating terraform/staging: the longest chain of AWS calls that
/// must happen one after another, because each needs what the previous one returned or
/// must see the previous one done. It runs through four resources, each of which needs
/// the one before it (Terraform's graph: the network's ids, the groups' ids, the
/// listener's ARN). Everything else (DNS attributes, the internet gateway, route tables,
/// Elastic IPs, associations, the S3 endpoint, the flow log, the cluster and namespace,
/// the default target group, the services without a route) can run beside this chain:
///
/// atlas_network
/// 1. DescribeVpcs: no network of this name exists, or only an interrupted one (the
///    check that keeps a network from being built twice; it must precede the VPC);
/// 2. CreateVpc;
/// 3. CreateSubnet (a public subnet needs the VPC id);
/// 4. CreateNatGateway (needs the public subnet; its Elastic IP is allocated beside);
/// 5. DescribeNatGateways (wait until available: one call where the gateway is
///    available at once, as on the emulator);
/// 6. CreateRoute (the private default route needs an available gateway);
/// 7. DeleteTags (the VPC's "being created" mark goes only once the network is whole).
///
/// atlas_security_model (needs the VPC id)
/// 8. CreateSecurityGroup (all ten side by side);
/// 9. AuthorizeSecurityGroupIngress (a rule naming another group needs its id).
///
/// atlas_ingress (needs the public subnets and the alb group)
/// 10. CreateLoadBalancer;
/// 11. DescribeLoadBalancers (wait until active);
/// 12. CreateListener (the HTTPS listener needs the load balancer).
///
/// atlas_service with a hostname route (needs the listener)
/// 13. RegisterTaskDefinition;
/// 14. DescribeSubnets (the VPC of the service's own target group);
/// 15. CreateTargetGroup;
/// 16. DescribeRules (the first free priority on the listener);
/// 17. CreateRule (forwards to the new target group);
/// 18. CreateService (registers with the target group the rule already uses).
///
/// The bound is the sum, over this chain, of the median duration of each operation as
/// the request log timed it in the same apply (the injected latency plus the
/// emulator's own time); an apply cannot finish its AWS work faster. Terraform's own
/// work between resources (planning each, walking the graph) is not in the bound. The
/// request log's timestamps also give the observed chain: the longest sequence of calls
/// in which each started after the previous one finished, printed beside for comparison.
const CRITICAL_PATH: &[(&str, &str)] = &[
    ("ec2", "DescribeVpcs"),
    ("ec2", "CreateVpc"),
    ("ec2", "CreateSubnet"),
    ("ec2", "CreateNatGateway"),
    ("ec2", "DescribeNatGateways"),
    ("ec2", "CreateRoute"),
    ("ec2", "DeleteTags"),
    ("ec2", "CreateSecurityGroup"),
    ("ec2", "AuthorizeSecurityGroupIngress"),
    ("elasticloadbalancing", "CreateLoadBalancer"),
    ("elasticloadbalancing", "DescribeLoadBalancers"),
    ("elasticloadbalancing", "CreateListener"),
    ("ecs", "RegisterTaskDefinition"),
    ("ec2", "DescribeSubnets"),
    ("elasticloadbalancing", "CreateTargetGroup"),
    ("elasticloadbalancing", "DescribeRules"),
    ("elasticloadbalancing", "CreateRule"),
    ("ecs", "CreateService"),
];

/// The service counts of the plan-cost rows.
const SERVICE_COUNTS: [usize; 3] = [1, 10, 50];

/// The HCL of a root with `services` services for the plan-cost rows: the network, the
/// security model, the cluster, and `services` Fargate services with Service Connect
/// (each a server under its own name), so that the cost per service is read beside a
/// fixed cost for the rest.
fn services_root(services: usize) -> String {
    let mut hcl = String::from(
        r#"terraform {
  backend "s3" {}

  required_providers {
    atlas = {
      source = "atlas/atlas"
    }
  }
}

provider "atlas" {}

resource "atlas_network" "this" {
  name       = "bench"
  cidr_block = "10.40.0.0/16"
}

resource "atlas_security_model" "this" {
  vpc_id                = atlas_network.this.vpc_id
  name_prefix           = "bench"
  dashboard_target_port = 3000
}

resource "atlas_cluster" "this" {
  name = "bench"
}
"#,
    );
    for index in 0..services {
        hcl.push_str(&format!(
            r#"
resource "atlas_service" "s{index}" {{
  name               = "bench-{index}"
  cluster_arn        = atlas_cluster.this.arn
  subnet_ids         = atlas_network.this.private_subnet_ids
  security_group_ids = [atlas_security_model.this.group_ids["ecs"]]

  container {{
    image        = "public.ecr.aws/atlas/bench:latest"
    cpu          = 256
    memory       = 512
    port         = 8080
    port_name    = "http"
    app_protocol = "http"
  }}

  service_connect {{
    service {{
      port_name      = "http"
      discovery_name = "bench-{index}"

      client_alias {{
        dns_name = "bench-{index}"
        port     = 8080
      }}
    }}
  }}
}}
"#
        ));
    }
    hcl
}

/// Applies `hcl` as a root (with an S3 backend on `emulator`), then times a plan of it
/// and counts the provider's AWS calls during that plan.
fn plan_cost(emulator: &Emulator, hcl: &str) -> (Duration, usize) {
    let workspace = Workspace::copy_root(emulator, "tests/acceptance/tests/fixtures/backend_only");
    workspace.write_file("main.tf", hcl);
    workspace.init();
    workspace.apply();
    let before = emulator.requests().len();
    let started = Instant::now();
    let _ = workspace.plan_detailed_exitcode();
    let elapsed = started.elapsed();
    let calls = provider_calls(&emulator.requests()[before..]).len();
    workspace.destroy();
    (elapsed, calls)
}

/// The requests the provider made: everything but Terraform's state traffic to S3.
fn provider_calls(requests: &[Request]) -> Vec<&Request> {
    requests
        .iter()
        .filter(|r| r.service.as_deref() != Some("s3"))
        .collect()
}

/// The longest sequence of calls in which each started after the previous finished.
fn observed_chain(calls: &[&Request]) -> usize {
    let mut sorted: Vec<&&Request> = calls.iter().collect();
    sorted.sort_by(|a, b| a.started.total_cmp(&b.started));
    let mut longest = vec![1usize; sorted.len()];
    for i in 0..sorted.len() {
        for j in 0..i {
            if sorted[j].finished <= sorted[i].started {
                longest[i] = longest[i].max(longest[j] + 1);
            }
        }
    }
    longest.into_iter().max().unwrap_or(0)
}

fn median_secs(mut samples: Vec<f64>) -> Option<f64> {
    samples.sort_by(f64::total_cmp);
    samples.get(samples.len() / 2).copied()
}
fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// The peak resident set (VmHWM) of every running provider process, by pid.
fn sample_providers(peaks: &mut BTreeMap<u32, u64>) {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let exe = cmdline.split(|b| *b == 0).next().unwrap_or_default();
        if !String::from_utf8_lossy(exe).contains("terraform-provider-atlas") {
            continue;
        }
        let Ok(status) = std::fs::read_to_string(entry.path().join("status")) else {
            continue;
        };
        if let Some(kb) = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            let peak = peaks.entry(pid).or_insert(0);
            *peak = (*peak).max(kb);
        }
    }
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");

    // 1. Start-up to handshake line.
    let startups: Vec<Duration> = (0..LAUNCHES).map(|_| Plugin::start().startup).collect();
    let startup = median(startups.clone());

    // 2. GetProviderSchema over mutual TLS, on one connection.
    let plugin = Plugin::start();
    let (first, schema) = runtime.block_on(async {
        let mut client = plugin.provider().await;
        let mut samples = Vec::with_capacity(SCHEMA_CALLS);
        for _ in 0..SCHEMA_CALLS {
            let started = Instant::now();
            client
                .get_provider_schema(pb::get_provider_schema::Request {})
                .await
                .expect("GetProviderSchema answers");
            samples.push(started.elapsed());
        }
        (samples[0], median(samples))
    });
    drop(plugin);

    // 3. Peak RSS of every provider process over a plan of terraform/staging.
    let emulator = Emulator::start();
    let workspace = Workspace::copy_root(&emulator, "terraform/staging");
    workspace.init();
    workspace.apply();
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut peaks = BTreeMap::new();
            while !stop.load(Ordering::Relaxed) {
                sample_providers(&mut peaks);
                std::thread::sleep(Duration::from_millis(5));
            }
            peaks
        })
    };
    let before_plan = emulator.requests().len();
    let plan_started = Instant::now();
    let _ = workspace.plan_detailed_exitcode();
    let plan_time = plan_started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let peaks = sampler.join().expect("the sampler thread");
    let peak_kb = peaks.values().copied().max().unwrap_or(0);

    // 4. The AWS calls of that no-op plan, by operation, and the minimum: one read per
    // kind of AWS object the state names.
    let requests = emulator.requests();
    let plan_calls = provider_calls(&requests[before_plan..]);
    let mut by_operation: BTreeMap<String, usize> = BTreeMap::new();
    for call in &plan_calls {
        let name = format!(
            "{}:{}",
            call.service.as_deref().unwrap_or("?"),
            call.operation.as_deref().unwrap_or("?")
        );
        *by_operation.entry(name).or_default() += 1;
    }
    let kinds = Inventory::referenced_by(&workspace.show_json());
    let minimum = kinds.0.len();
    workspace.destroy();
    drop(workspace);
    drop(emulator);

    // 5. Apply of staging with latency on every provider call, against the critical path.
    let slow =
        Emulator::start_with(&FaultSettings::latency(LATENCY_MS).services(PROVIDER_SERVICES));
    let workspace = Workspace::copy_root(&slow, "terraform/staging");
    workspace.init();
    let before_apply = slow.requests().len();
    let apply_started = Instant::now();
    workspace.apply();
    let apply_time = apply_started.elapsed().as_secs_f64();
    let requests = slow.requests();
    let apply_calls = provider_calls(&requests[before_apply..]);
    let span = apply_calls
        .iter()
        .map(|r| r.finished)
        .fold(f64::MIN, f64::max)
        - apply_calls
            .iter()
            .map(|r| r.started)
            .fold(f64::MAX, f64::min);
    let bound: f64 = CRITICAL_PATH
        .iter()
        .map(|(service, operation)| {
            median_secs(
                apply_calls
                    .iter()
                    .filter(|r| r.is(service, operation))
                    .map(|r| r.finished - r.started)
                    .collect(),
            )
            .unwrap_or_else(|| panic!("the apply made no {service}:{operation} call"))
        })
        .sum();
    let chain = observed_chain(&apply_calls);
    workspace.destroy();
    drop(workspace);
    drop(slow);

    // 6. Plan cost by number of services.
    let mut service_rows = Vec::new();
    for count in SERVICE_COUNTS {
        let emulator = Emulator::start();
        let (time, calls) = plan_cost(&emulator, &services_root(count));
        let row = format!(
            "| no-op plan of a root with {count} service(s) (plus network, security model, cluster) \
             | {:.2} s, {calls} AWS calls | linear in services |",
            time.as_secs_f64()
        );
        service_rows.push(row);
    }

    // 7. The binary.
    let size = std::fs::metadata(common::binary())
        .map(|m| m.len())
        .unwrap_or(0);

    println!();
    println!("| figure | measured | target |");
    println!("| --- | --- | --- |");
    println!(
        "| start-up to handshake line (median of {LAUNCHES}) | {} (min {}, max {}) | < 20 ms |",
        ms(startup),
        ms(*startups.iter().min().unwrap()),
        ms(*startups.iter().max().unwrap())
    );
    println!(
        "| GetProviderSchema over mTLS (median of {SCHEMA_CALLS}; first call {}) | {} | |",
        ms(first),
        ms(schema)
    );
    println!(
        "| peak RSS of the provider over a plan of terraform/staging ({} processes, plan {:.2} s) | {:.1} MB | < 40 MB |",
        peaks.len(),
        plan_time.as_secs_f64(),
        peak_kb as f64 / 1024.0
    );
    println!(
        "| release binary size | {:.1} MB | < 60 MB |",
        size as f64 / 1_048_576.0
    );
    let operations: Vec<String> = by_operation
        .iter()
        .map(|(operation, n)| format!("{operation} {n}"))
        .collect();
    println!(
        "| AWS calls of a no-op plan of terraform/staging ({}) | {} (minimum {minimum}: one read per kind of object in state, {}) | <= 15 |",
        operations.join(", "),
        plan_calls.len(),
        kinds.0.keys().copied().collect::<Vec<_>>().join(", ")
    );
    println!(
        "| apply of terraform/staging, {LATENCY_MS} ms per AWS call ({} provider calls; observed chain {chain} calls) | {apply_time:.2} s wall, {span:.2} s of AWS calls; critical path {bound:.2} s ({} calls as timed; {:.2} s counting the latency alone); ratio {:.2} (AWS calls) / {:.2} (wall) | <= 1.5 |",
        apply_calls.len(),
        CRITICAL_PATH.len(),
        CRITICAL_PATH.len() as f64 * LATENCY_MS as f64 / 1000.0,
        span / bound,
        apply_time / bound
    );
    for row in service_rows {
        println!("{row}");
    }
}
