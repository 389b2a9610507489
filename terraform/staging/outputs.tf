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
  description = "ID of the staging VPC"
  value       = atlas_network.this.vpc_id
}
