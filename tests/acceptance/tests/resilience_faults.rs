//! Faults on a fifth of all AWS calls (throttling, HTTP 500, dropped connections, all
//! injected before the emulator acts): each root still applies, a second plan is empty,
//! and the emulator holds exactly the objects the state names, each once.
//!
//! A root is one line in `ROOTS`' test list below: `faults_case!(name, "path")`.

use atlas_acceptance::inventory::Inventory;
use atlas_acceptance::{Emulator, FaultSettings, PlanOutcome, Workspace};

/// A fifth of the calls fail.
const RATE: f64 = 0.2;

/// The choices of failing calls are fixed by this seed, so a failure reproduces.
const SEED: u64 = 20_261_204;

async fn applies_and_converges_under_faults(root: &str) {
    let emulator = Emulator::start();
    let workspace = Workspace::copy_root(&emulator, root);
    workspace.init();

    // After init, so that Terraform's own state bucket set-up is not what is tested;
    // the backend's calls during plan and apply are faulted like everything else.
    emulator.set_faults(&FaultSettings::rate(RATE, SEED));
    workspace.apply();
    let outcome = workspace.plan_detailed_exitcode();
    let injected = emulator.faulted();
    emulator.set_faults(&FaultSettings::default());

    assert_eq!(
        outcome,
        PlanOutcome::NoChanges,
        "the second plan is not empty"
    );
    let calls = emulator.requests().len();
    assert!(
        injected.len() * 10 >= calls,
        "faults were injected on {} of {calls} calls, far below {RATE}",
        injected.len()
    );
    for kind in ["throttle", "internal_error", "drop"] {
        assert!(
            injected.iter().any(|r| r.fault.as_deref() == Some(kind)),
            "no {kind} fault was injected: {injected:#?}"
        );
    }
    eprintln!("{} faults injected on {calls} calls", injected.len());

    let held = Inventory::read(&emulator.sdk_config().await).await;
    let referenced = Inventory::referenced_by(&workspace.show_json());
    assert!(!held.0.is_empty(), "the root created nothing");
    assert_eq!(
        held,
        referenced,
        "the emulator holds {:?}, the state names {:?}",
        held.counts(),
        referenced.counts()
    );
    workspace.destroy();
}

macro_rules! faults_case {
    ($name:ident, $root:literal) => {
        #[tokio::test(flavor = "multi_thread")]
        async fn $name() {
            applies_and_converges_under_faults($root).await;
        }
    };
}

faults_case!(
    staging_applies_and_converges_with_a_fifth_of_calls_failing,
    "terraform/staging"
);

faults_case!(
    production_applies_and_converges_with_a_fifth_of_calls_failing,
    "terraform/production"
);

/// staging2 stands on staging's state: staging is applied first without faults, then
/// staging2 under them; the emulator then holds exactly what the two states name.
#[tokio::test(flavor = "multi_thread")]
async fn staging2_applies_and_converges_with_a_fifth_of_calls_failing() {
    let emulator = Emulator::start();
    let staging = Workspace::copy_root(&emulator, "terraform/staging");
    staging.init();
    staging.apply();
    let staging2 = Workspace::copy_root(&emulator, "terraform/staging2");
    staging2.init();

    emulator.set_faults(&FaultSettings::rate(RATE, SEED));
    staging2.apply();
    let outcome = staging2.plan_detailed_exitcode();
    let injected = emulator.faulted();
    emulator.set_faults(&FaultSettings::default());
    assert_eq!(
        outcome,
        PlanOutcome::NoChanges,
        "the second plan is not empty"
    );
    assert!(!injected.is_empty(), "no fault was injected");

    let held = Inventory::read(&emulator.sdk_config().await).await;
    let mut referenced = Inventory::referenced_by(&staging.show_json());
    for (kind, ids) in Inventory::referenced_by(&staging2.show_json()).0 {
        referenced.0.entry(kind).or_default().extend(ids);
    }
    assert_eq!(
        held,
        referenced,
        "the emulator holds {:?}, the states name {:?}",
        held.counts(),
        referenced.counts()
    );
    staging2.destroy();
    staging.destroy();
}
