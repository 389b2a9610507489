//! `make bench`: the runtime's figures, measured side by side in one run.
//!
//! - time from process start to the handshake line (median of many launches);
//! - time to answer GetProviderSchema over mutual TLS (median of many calls);
//! - peak resident memory of the provider over a plan of terraform/staging against the
//!   emulator (every provider process Terraform starts is sampled);
//! - the size of the release binary.
//!
//! Targets from the runtime issue: handshake under 20 ms, peak RSS under 40 MB, binary
//! under 60 MB. The bench prints the figures beside the targets; it never fails on them.

#[path = "../tests/common/mod.rs"]
#[allow(dead_code)]
mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use atlas_acceptance::{Emulator, Workspace};
use common::Plugin;
use tfplugin::proto::tfplugin6 as pb;

const LAUNCHES: usize = 20;
const SCHEMA_CALLS: usize = 50;

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
    let plan_started = Instant::now();
    let _ = workspace.plan_detailed_exitcode();
    let plan_time = plan_started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let peaks = sampler.join().expect("the sampler thread");
    let peak_kb = peaks.values().copied().max().unwrap_or(0);
    workspace.destroy();

    // 4. The binary.
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
}
