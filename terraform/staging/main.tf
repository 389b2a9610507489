provider "atlas" {
  region = var.region

  default_tags {
    tags = {
      project     = "atlas"
      environment = "staging"
      managed_by  = "terraform"
    }
  }
}

resource "atlas_network" "this" {
  name       = "atlas-staging"
  cidr_block = var.vpc_cidr

  flow_logs               = true
  flow_log_retention_days = 30

  tags = {
    component = "network"
  }
}
