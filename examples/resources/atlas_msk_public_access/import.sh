# The cluster ARN.
terraform import atlas_msk_public_access.this arn:aws:kafka:eu-west-1:123456789012:cluster/atlas-staging/01234567-89ab-cdef-0123-456789abcdef-1
