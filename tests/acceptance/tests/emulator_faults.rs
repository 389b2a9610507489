//! The emulator's latency and fault switches (tests/emulator/faults.py): each kind of
//! fault has the shape AWS gives it, is injected before moto acts, shows in the request
//! log, and the rate's choices reproduce from the seed.

use std::process::Command;
use std::time::{Duration, Instant};

use atlas_acceptance::{repo_root, Emulator, FaultKind, FaultSettings};
use aws_config::retry::RetryConfig;
use aws_sdk_ec2::error::ProvideErrorMetadata;

/// SDK clients that never retry, so that each fault reaches the test.
async fn no_retries(emulator: &Emulator) -> aws_config::SdkConfig {
    emulator
        .sdk_config()
        .await
        .to_builder()
        .retry_config(RetryConfig::disabled())
        .build()
}

#[test]
fn the_python_pieces_pass_their_self_test() {
    let root = repo_root();
    let output = Command::new(root.join(".venv/bin/python"))
        .arg(root.join("tests/emulator/server.py"))
        .arg("--self-test")
        .output()
        .expect("run server.py --self-test (make venv first)");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn each_protocol_gets_its_own_throttling_error_and_nothing_is_created() {
    let emulator = Emulator::start();
    let config = no_retries(&emulator).await;
    let ec2 = aws_sdk_ec2::Client::new(&config);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
    let iam = aws_sdk_iam::Client::new(&config);
    emulator.set_faults(&FaultSettings::rate(1.0, 1).kinds(&[FaultKind::Throttle]));

    let error = ec2
        .create_vpc()
        .cidr_block("10.9.0.0/16")
        .send()
        .await
        .expect_err("throttled");
    assert_eq!(error.code(), Some("RequestLimitExceeded"), "{error:?}");
    assert_eq!(error.raw_response().map(|r| r.status().as_u16()), Some(503));
    let error = logs
        .create_log_group()
        .log_group_name("g")
        .send()
        .await
        .expect_err("throttled");
    assert_eq!(error.code(), Some("ThrottlingException"), "{error:?}");
    assert_eq!(error.raw_response().map(|r| r.status().as_u16()), Some(400));
    let error = iam
        .create_role()
        .role_name("r")
        .assume_role_policy_document("{}")
        .send()
        .await
        .expect_err("throttled");
    assert_eq!(error.code(), Some("Throttling"), "{error:?}");
    assert_eq!(error.raw_response().map(|r| r.status().as_u16()), Some(400));

    emulator.set_faults(&FaultSettings::default());
    let vpcs = ec2.describe_vpcs().send().await.expect("DescribeVpcs");
    assert!(
        vpcs.vpcs().iter().all(|v| v.is_default() == Some(true)),
        "a throttled CreateVpc created a VPC"
    );
    let groups = logs.describe_log_groups().send().await.expect("groups");
    assert!(
        groups.log_groups().is_empty(),
        "a throttled create made a group"
    );

    let faulted = emulator.faulted();
    let seen: Vec<_> = faulted
        .iter()
        .map(|r| {
            (
                r.service.as_deref(),
                r.operation.as_deref(),
                r.fault.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (Some("ec2"), Some("CreateVpc"), Some("throttle")),
            (Some("logs"), Some("CreateLogGroup"), Some("throttle")),
            (Some("iam"), Some("CreateRole"), Some("throttle")),
        ]
    );
    assert_eq!(emulator.faults()["injected"], 3);
}

#[tokio::test]
async fn the_nth_call_fails_as_asked_and_a_drop_closes_the_connection() {
    let emulator = Emulator::start();
    let ec2 = aws_sdk_ec2::Client::new(&no_retries(&emulator).await);
    emulator.set_faults(
        &FaultSettings::default()
            .nth("ec2", "DescribeVpcs", 2, FaultKind::InternalError)
            .nth("ec2", "DescribeVpcs", 3, FaultKind::Drop),
    );

    ec2.describe_vpcs()
        .send()
        .await
        .expect("the first call passes");
    let error = ec2
        .describe_vpcs()
        .send()
        .await
        .expect_err("the second fails");
    assert_eq!(error.code(), Some("InternalError"), "{error:?}");
    assert_eq!(error.raw_response().map(|r| r.status().as_u16()), Some(500));
    let error = ec2
        .describe_vpcs()
        .send()
        .await
        .expect_err("the third is dropped");
    assert!(
        error.raw_response().is_none(),
        "a dropped connection has no answer: {error:?}"
    );
    ec2.describe_vpcs().send().await.expect("the fourth passes");

    let faults: Vec<_> = emulator
        .requests()
        .iter()
        .map(|r| (r.fault.clone(), r.status))
        .collect();
    assert_eq!(
        faults,
        [
            (None, Some(200)),
            (Some("internal_error".to_owned()), Some(500)),
            (Some("drop".to_owned()), None),
            (None, Some(200)),
        ]
    );
}

#[tokio::test]
async fn latency_is_added_to_every_call() {
    let emulator = Emulator::start_with(&FaultSettings::latency(200));
    let ec2 = aws_sdk_ec2::Client::new(&no_retries(&emulator).await);
    let started = Instant::now();
    for _ in 0..3 {
        ec2.describe_vpcs().send().await.expect("DescribeVpcs");
    }
    assert!(started.elapsed() >= Duration::from_millis(600));
    for request in emulator.requests() {
        assert!(request.finished - request.started >= 0.2, "{request:?}");
    }
}

#[tokio::test]
async fn the_same_seed_fails_the_same_calls() {
    let mut runs = Vec::new();
    for _ in 0..2 {
        let emulator = Emulator::start_with(&FaultSettings::rate(0.3, 42));
        let ec2 = aws_sdk_ec2::Client::new(&no_retries(&emulator).await);
        for _ in 0..20 {
            let _ = ec2.describe_vpcs().send().await;
            let _ = ec2.describe_subnets().send().await;
        }
        let faults: Vec<_> = emulator.requests().into_iter().map(|r| r.fault).collect();
        runs.push(faults);
    }
    let failed = runs[0].iter().filter(|f| f.is_some()).count();
    assert!(
        (4..=24).contains(&failed),
        "{failed} of 40 calls failed at a rate of 0.3"
    );
    assert_eq!(runs[0], runs[1]);
}
