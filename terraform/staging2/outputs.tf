output "vpc_id" {
  description = "ID of staging's VPC, which staging2 runs in"
  value       = data.atlas_network.staging.vpc_id
}

output "private_subnet_ids" {
  description = "staging's private subnets, which staging2's tasks run in"
  value       = data.atlas_network.staging.private_subnet_ids
}

output "alb_dns_name" {
  description = "DNS name of staging's ALB, which also serves staging2's hostnames"
  value       = local.staging.alb_dns_name
}

output "cluster_arn" {
  description = "ARN of staging2's ECS cluster"
  value       = atlas_cluster.this.arn
}

output "service_arns" {
  description = "ECS service ARN by workload"
  value       = module.workloads.service_arns
}

output "target_group_arns" {
  description = "Target group ARN by routed workload (staging2 owns these)"
  value       = module.workloads.target_group_arns
}

output "hostnames" {
  description = "Public hostname by workload, on staging's ALB"
  value       = module.workloads.hostnames
}

output "exposure_report" {
  description = "The exposure report of staging's security model, whose groups staging2's workloads use"
  value       = local.staging.exposure_report
}
