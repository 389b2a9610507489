resource "atlas_network" "this" {
  name       = "atlas-staging"
  cidr_block = "10.20.0.0/16"
}

resource "atlas_security_model" "this" {
  vpc_id      = atlas_network.this.vpc_id
  name_prefix = "atlas-staging" # groups are named <prefix>-<role>

  alb_ingress_cidrs         = ["0.0.0.0/0"]
  msk_public_access_cidrs   = ["203.0.113.0/24"]
  msk_public_access_enabled = true
  rds_allowed_cidrs         = []
  rds_access_from           = "dashboard_backend"
  dashboard_target_port     = 3000

  # Findings that fail the plan instead of warning.
  forbidden_findings = ["rds_world_open"]
}

output "security_group_ids" {
  value = atlas_security_model.this.group_ids
}

output "exposure" {
  value = atlas_security_model.this.exposure
}
