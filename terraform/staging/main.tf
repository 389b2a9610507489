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

resource "atlas_security_model" "this" {
  vpc_id      = atlas_network.this.vpc_id
  name_prefix = "atlas-staging"

  alb_ingress_cidrs         = var.alb_ingress_cidrs
  msk_public_access_cidrs   = var.msk_public_access_cidrs
  msk_public_access_enabled = var.msk_enable_public_access
  rds_allowed_cidrs         = var.rds_allowed_cidrs
  rds_access_from           = var.rds_access_from
  dashboard_target_port     = var.dashboard_target_port
  forbidden_findings        = var.forbidden_findings

  tags = {
    component = "security"
  }
}

resource "atlas_msk_public_access" "this" {
  count = var.msk_cluster_arn == null ? 0 : 1

  cluster_arn = var.msk_cluster_arn
  enabled     = var.msk_enable_public_access
}

resource "atlas_cluster" "this" {
  name               = "atlas-staging"
  container_insights = var.container_insights
}

resource "atlas_ingress" "this" {
  name               = "atlas-staging"
  vpc_id             = atlas_network.this.vpc_id
  subnet_ids         = atlas_network.this.public_subnet_ids
  security_group_ids = [atlas_security_model.this.group_ids["alb"]]
  certificate_arn    = var.certificate_arn
}

module "workloads" {
  source = "../modules/workloads"

  name_prefix              = "atlas-staging"
  cluster_arn              = atlas_cluster.this.arn
  private_subnet_ids       = atlas_network.this.private_subnet_ids
  security_group_ids       = atlas_security_model.this.group_ids
  https_listener_arn       = atlas_ingress.this.https_listener_arn
  default_target_group_arn = atlas_ingress.this.default_target_group_arn
  domain                   = var.domain
  container_images         = var.container_images
  dashboard_target_port    = var.dashboard_target_port
  desired_count            = var.desired_count
}
