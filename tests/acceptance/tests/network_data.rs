//! Data source `atlas_network`: a second root reads a foundation by VPC id, gets the
//! same ids as the owning root's resource, and fails with one diagnostic per deviation
//! once the foundation is broken outside Terraform.

use atlas_acceptance::{Emulator, Workspace};

#[tokio::test(flavor = "multi_thread")]
async fn data_source_reads_a_good_network_and_reports_a_broken_one() {
    let emulator = Emulator::start();
    let owner = Workspace::copy_root(&emulator, "tests/acceptance/tests/fixtures/network_basic");
    owner.init();
    owner.apply();
    let network = owner.output("network");
    let vpc_id = network["vpc_id"].as_str().unwrap().to_owned();

    let reader = Workspace::copy_root(&emulator, "tests/acceptance/tests/fixtures/network_data");
    reader.write_file("terraform.tfvars", &format!("vpc_id = \"{vpc_id}\"\n"));
    reader.init();
    reader.apply();
    let read = reader.output("network");
    for name in [
        "vpc_id",
        "cidr_block",
        "availability_zones",
        "availability_zone_ids",
        "public_subnet_ids",
        "private_subnet_ids",
        "internet_gateway_id",
        "public_route_table_id",
        "private_route_table_ids",
        "nat_gateway_ids",
        "nat_public_ips",
        "eip_allocation_ids",
        "s3_endpoint_id",
        "flow_log_id",
        "flow_log_group_name",
    ] {
        assert_eq!(read[name], network[name], "{name}");
    }
    assert_eq!(read["name"], "net-basic");

    // Break it: one zone loses its NAT gateway, the other's private route table loses
    // the endpoint.
    let ec2 = aws_sdk_ec2::Client::new(&emulator.sdk_config().await);
    let nat = network["nat_gateway_ids"][0].as_str().unwrap();
    let zone = network["availability_zones"][0].as_str().unwrap();
    let table = network["private_route_table_ids"][1].as_str().unwrap();
    let endpoint = network["s3_endpoint_id"].as_str().unwrap();
    ec2.delete_nat_gateway()
        .nat_gateway_id(nat)
        .send()
        .await
        .unwrap();
    ec2.modify_vpc_endpoint()
        .vpc_endpoint_id(endpoint)
        .remove_route_table_ids(table)
        .send()
        .await
        .unwrap();

    let output = reader.try_tf(&["plan", "-input=false", "-no-color"]);
    assert!(
        !output.status.success(),
        "a broken foundation passed the check"
    );
    // Terraform may wrap long details: compare with single spaces.
    let stderr = String::from_utf8_lossy(&output.stderr)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let diagnostics: Vec<&str> = stderr.split("Error: ").skip(1).collect();
    assert_eq!(
        diagnostics.len(),
        2,
        "one diagnostic per deviation: {stderr}"
    );
    assert!(
        diagnostics
            .iter()
            .all(|d| d.starts_with("Network Out of Shape")
                && d.contains("on main.tf line 20, in data \"atlas_network\" \"foundation\"")),
        "{stderr}"
    );
    assert!(
        diagnostics
            .iter()
            .any(|d| d.contains(&format!("The NAT gateway of zone {zone}"))),
        "{stderr}"
    );
    assert!(
        diagnostics
            .iter()
            .any(|d| d.contains(&format!("is not attached to private route table {table}"))),
        "{stderr}"
    );
}
