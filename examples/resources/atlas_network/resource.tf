resource "atlas_network" "staging" {
  name       = "atlas-staging"
  cidr_block = "10.20.0.0/16"

  # Subnet CIDRs are derived from cidr_block and shown in the plan; set them to choose.
  flow_logs               = true
  flow_log_retention_days = 30

  tags = {
    component = "network"
  }
}

output "private_subnet_ids" {
  value = atlas_network.staging.private_subnet_ids
}
