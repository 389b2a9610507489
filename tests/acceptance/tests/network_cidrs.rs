//! Invalid subnet CIDRs of `atlas_network` are plan-time errors on the line of the
//! attribute at fault, before anything reaches AWS.

use atlas_acceptance::{Emulator, Workspace};

#[test]
fn overlapping_and_outside_cidrs_point_at_their_lines() {
    let emulator = Emulator::start();
    let workspace =
        Workspace::copy_root(&emulator, "tests/acceptance/tests/fixtures/network_cidrs");
    workspace.init();
    let output = workspace.try_tf(&["plan", "-input=false", "-no-color"]);
    assert!(!output.status.success(), "the plan accepted invalid CIDRs");
    // Terraform may wrap long details: compare with single spaces.
    let stderr = String::from_utf8_lossy(&output.stderr)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");

    let diagnostics: Vec<&str> = stderr.split("Error: ").skip(1).collect();
    assert_eq!(diagnostics.len(), 2, "{stderr}");
    let overlap = diagnostics
        .iter()
        .find(|d| d.contains("\"overlap\""))
        .unwrap_or_else(|| panic!("no diagnostic on the overlap resource: {stderr}"));
    assert!(overlap.starts_with("Invalid Network Layout"), "{overlap}");
    assert!(
        overlap.contains("on main.tf line 18, in resource \"atlas_network\" \"overlap\""),
        "{overlap}"
    );
    assert!(
        overlap.contains("10.0.0.0/23 overlaps public_subnet_cidrs[0] (10.0.0.0/24)"),
        "{overlap}"
    );

    let outside = diagnostics
        .iter()
        .find(|d| d.contains("\"outside\""))
        .unwrap_or_else(|| panic!("no diagnostic on the outside resource: {stderr}"));
    assert!(
        outside.contains("on main.tf line 24, in resource \"atlas_network\" \"outside\""),
        "{outside}"
    );
    assert!(
        outside.contains("10.1.0.0/24 is outside the VPC's CIDR block 10.0.0.0/16"),
        "{outside}"
    );

    assert!(
        emulator
            .requests()
            .iter()
            .all(|r| r.service.as_deref() == Some("s3")),
        "the plan reached AWS"
    );
}
