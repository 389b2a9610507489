output "service_arns" {
  description = "Service ARN by workload"
  value = {
    events_ingestion  = atlas_service.events_ingestion.arn
    dashboard_backend = atlas_service.dashboard_backend.arn
    scoring           = atlas_service.scoring.arn
    camunda           = atlas_service.camunda.arn
    kafka_ui          = atlas_service.kafka_ui.arn
    clickhouse_agent  = atlas_service.clickhouse_agent.arn
  }
}

output "target_group_arns" {
  description = "Target group ARN by routed workload"
  value = {
    events_ingestion  = atlas_service.events_ingestion.target_group_arn
    dashboard_backend = atlas_service.dashboard_backend.target_group_arn
    scoring           = atlas_service.scoring.target_group_arn
    kafka_ui          = atlas_service.kafka_ui.target_group_arn
  }
}

output "hostnames" {
  description = "Public hostname by workload routed through the ALB by hostname"
  value = merge(
    {
      dashboard_backend = "dashboard.${var.domain}"
      scoring           = "scoring.${var.domain}"
      kafka_ui          = "kafka-ui.${var.domain}"
    },
    length(var.events_hostnames) == 0 ? {} : { events_ingestion = var.events_hostnames[0] },
  )
}

output "service_connect_names" {
  description = "Names the workloads are reachable by inside the Service Connect namespace"
  value       = ["scoring", "camunda"]
}
