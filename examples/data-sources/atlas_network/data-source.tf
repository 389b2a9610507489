variable "vpc_id" {
  type        = string
  description = "The VPC of the foundation to read, such as another root's vpc_id output"
}

# Fails with one diagnostic per deviation from the required shape.
data "atlas_network" "shared" {
  vpc_id = var.vpc_id
}

output "private_subnet_ids" {
  value = data.atlas_network.shared.private_subnet_ids
}
