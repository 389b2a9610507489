# The VPC id.
terraform import atlas_network.staging vpc-0123456789abcdef0
