# The VPC id and the name prefix, separated by a slash.
terraform import atlas_security_model.this vpc-0123456789abcdef0/atlas-staging
