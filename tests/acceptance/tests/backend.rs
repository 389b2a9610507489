//! Terraform's S3 backend with the settings of terraform/staging/backend, against
//! the emulator: state and its lock file live in the emulator's bucket.

use atlas_acceptance::{Emulator, PlanOutcome, Workspace, STATE_BUCKET};

const FIXTURE: &str = "tests/acceptance/tests/fixtures/backend_only";

#[test]
fn staging_backend_settings_keep_state_and_lock_in_the_emulator() {
    let emulator = Emulator::start();
    let workspace = Workspace::copy_root(&emulator, FIXTURE);

    workspace.init();
    workspace.apply();
    assert_eq!(workspace.output("marker"), "kept in the emulator's S3");

    let state = format!("/{STATE_BUCKET}/staging/terraform.tfstate");
    let lock = format!("{state}.tflock");
    let requests = emulator.requests();
    let saw = |method: &str, path: &str| {
        requests.iter().any(|request| {
            request.method == method
                && request.path == path
                && matches!(request.status, Some(200..=299))
        })
    };
    assert!(
        saw("PUT", &state),
        "the state was not written: {requests:#?}"
    );
    assert!(saw("PUT", &lock), "no lock file was taken: {requests:#?}");
    assert!(
        saw("DELETE", &lock),
        "the lock file was not released: {requests:#?}"
    );

    // A second copy of the root shares the state through the bucket alone.
    let other = Workspace::copy_root(&emulator, FIXTURE);
    other.init();
    assert_eq!(other.plan_detailed_exitcode(), PlanOutcome::NoChanges);

    workspace.destroy();
    assert!(
        matches!(other.plan_detailed_exitcode(), PlanOutcome::Changes(_)),
        "after destroy, the other copy should plan to create the marker again"
    );
}
