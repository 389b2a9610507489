output "availability_zone_ids" {
  description = "Zone ids of the two availability zones, in the order of availability_zones"
  value       = atlas_network.this.availability_zone_ids
}

output "availability_zones" {
  description = "Names of the two availability zones the network spans"
  value       = atlas_network.this.availability_zones
}

output "flow_log_group_name" {
  description = "CloudWatch Logs group that receives the VPC's REJECT flow logs"
  value       = atlas_network.this.flow_log_group_name
}

output "flow_log_id" {
  description = "ID of the VPC flow log"
  value       = atlas_network.this.flow_log_id
}

output "nat_gateway_ids" {
  description = "IDs of the NAT gateways, one per public subnet, ordered by zone"
  value       = atlas_network.this.nat_gateway_ids
}

output "nat_public_ips" {
  description = "Elastic IP addresses of the NAT gateways, ordered by zone"
  value       = atlas_network.this.nat_public_ips
}

output "private_route_table_ids" {
  description = "IDs of the private route tables, one per zone, ordered by zone"
  value       = atlas_network.this.private_route_table_ids
}

output "private_subnet_ids" {
  description = "IDs of the private subnets, ordered by zone"
  value       = atlas_network.this.private_subnet_ids
}

output "public_route_table_id" {
  description = "ID of the public route table, whose default route goes to the internet gateway"
  value       = atlas_network.this.public_route_table_id
}

output "public_subnet_ids" {
  description = "IDs of the public subnets, ordered by zone"
  value       = atlas_network.this.public_subnet_ids
}

output "s3_endpoint_id" {
  description = "ID of the S3 gateway VPC endpoint on the private route tables"
  value       = atlas_network.this.s3_endpoint_id
}

output "vpc_cidr_block" {
  description = "IPv4 CIDR block of the VPC"
  value       = atlas_network.this.cidr_block
}

output "vpc_id" {
  description = "ID of the production VPC"
  value       = atlas_network.this.vpc_id
}

# The security model, the edge and the cluster of production.

output "security_group_ids" {
  description = "Security group id by role: alb, ecs, dashboard_backend, scoring, camunda, valkey, clickhouse_agent, msk_connect, msk, rds"
  value       = atlas_security_model.this.group_ids
}

output "dashboard_target_port" {
  description = "The dashboard backend's port, which the dashboard_backend group opens to the ALB"
  value       = var.dashboard_target_port
}

output "exposure_report" {
  description = "Every path by which something outside the VPC reaches a group, from atlas_security_model"
  value       = atlas_security_model.this.exposure
}

output "alb_dns_name" {
  description = "DNS name of the internet-facing ALB; point the hostnames at it"
  value       = atlas_ingress.this.dns_name
}

output "alb_zone_id" {
  description = "Route 53 hosted zone id of the ALB, for alias records"
  value       = atlas_ingress.this.zone_id
}

output "https_listener_arn" {
  description = "ARN of the ALB's HTTPS listener, which carries every hostname rule"
  value       = atlas_ingress.this.https_listener_arn
}

output "default_target_group_arn" {
  description = "ARN of the ALB's default target group (events ingestion)"
  value       = atlas_ingress.this.default_target_group_arn
}

output "cluster_arn" {
  description = "ARN of the production ECS cluster"
  value       = atlas_cluster.this.arn
}

output "service_connect_namespace_arn" {
  description = "ARN of the Cloud Map HTTP namespace the production services use for Service Connect"
  value       = atlas_cluster.this.namespace_arn
}

output "service_arns" {
  description = "ECS service ARN by workload"
  value       = module.workloads.service_arns
}

output "hostnames" {
  description = "Public hostname by workload routed by hostname"
  value       = module.workloads.hostnames
}

output "database_subnet_ids" {
  description = "Subnets for the dashboard database's subnet group: public while database_publicly_accessible, else private"
  value       = var.database_publicly_accessible ? atlas_network.this.public_subnet_ids : atlas_network.this.private_subnet_ids
}

output "database_publicly_accessible" {
  description = "Whether the dashboard database is meant to be publicly accessible"
  value       = var.database_publicly_accessible
}

output "msk_public_bootstrap_brokers" {
  description = "Public IAM bootstrap brokers of the MSK cluster; null without msk_cluster_arn or with public access off"
  value       = one(atlas_msk_public_access.this[*].bootstrap_brokers_public_sasl_iam)
}
