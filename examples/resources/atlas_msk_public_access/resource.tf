variable "msk_cluster_arn" {
  type        = string
  description = "ARN of the existing MSK cluster whose public access to manage"
}

resource "atlas_msk_public_access" "this" {
  cluster_arn = var.msk_cluster_arn
  enabled     = true

  timeouts {
    update = "90m"
  }
}

output "msk_public_bootstrap_brokers" {
  value = atlas_msk_public_access.this.bootstrap_brokers_public_sasl_iam
}
