# The cluster name.
terraform import atlas_cluster.staging atlas-staging
