# staging2 runs a second copy of the workloads on staging's foundation: staging's VPC,
# subnets, security groups and ALB, read from staging's state. It creates no network, no
# NAT gateway, no route table, no endpoint, no security group and no load balancer: only
# its ECS cluster (with its Service Connect namespace, so that its `scoring` and
# `camunda` do not collide with staging's), its services, their target groups and their
# hostname rules on staging's HTTPS listener.

provider "atlas" {
  region = var.region

  default_tags {
    tags = {
      project     = "atlas"
      environment = "staging2"
      managed_by  = "terraform"
    }
  }
}

data "terraform_remote_state" "staging" {
  backend = "s3"

  config = {
    bucket = var.staging_state.bucket
    key    = var.staging_state.key
    region = var.staging_state.region

    endpoints                   = { for service, url in { s3 = var.staging_state.endpoint } : service => url if url != null }
    use_path_style              = var.staging_state.endpoint != null
    skip_credentials_validation = var.staging_state.endpoint != null
    skip_requesting_account_id  = var.staging_state.endpoint != null
    skip_metadata_api_check     = var.staging_state.endpoint != null
    skip_region_validation      = var.staging_state.endpoint != null
  }
}

locals {
  staging = data.terraform_remote_state.staging.outputs
}

# Checks that staging's foundation still has the design's shape (the data source fails
# on any deviation) and that it is the one staging's outputs describe.
data "atlas_network" "staging" {
  vpc_id = local.staging.vpc_id

  lifecycle {
    postcondition {
      condition     = join(",", self.private_subnet_ids) == join(",", local.staging.private_subnet_ids)
      error_message = "staging's private_subnet_ids output does not match its VPC: apply terraform/staging first."
    }

    postcondition {
      condition     = join(",", self.public_subnet_ids) == join(",", local.staging.public_subnet_ids)
      error_message = "staging's public_subnet_ids output does not match its VPC: apply terraform/staging first."
    }
  }
}

resource "atlas_cluster" "this" {
  name               = "atlas-staging2"
  container_insights = var.container_insights
}

module "workloads" {
  source = "../modules/workloads"

  name_prefix           = "atlas-staging2"
  cluster_arn           = atlas_cluster.this.arn
  private_subnet_ids    = data.atlas_network.staging.private_subnet_ids
  security_group_ids    = local.staging.security_group_ids
  https_listener_arn    = local.staging.https_listener_arn
  domain                = var.domain
  events_hostnames      = ["events.${var.domain}"]
  container_images      = var.container_images
  dashboard_target_port = local.staging.dashboard_target_port
  desired_count         = var.desired_count
}
