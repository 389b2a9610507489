resource "atlas_cluster" "staging" {
  name               = "atlas-staging"
  container_insights = true

  # The Cloud Map HTTP namespace that Service Connect uses; defaults to the name.
  # namespace_name = "atlas-staging"

  tags = {
    component = "compute"
  }
}

output "cluster_arn" {
  value = atlas_cluster.staging.arn
}

output "service_connect_namespace_arn" {
  value = atlas_cluster.staging.namespace_arn
}
