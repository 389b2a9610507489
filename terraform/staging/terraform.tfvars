# The committed staging values. As the platform page records, staging's example values
# leave the edge, MSK's public path and the database open; the exposure report of
# atlas_security_model lists each of these as a plan-time warning.

domain = "staging.atlas.example.com"

container_images = {
  events_ingestion  = "public.ecr.aws/atlas/events-ingestion:latest"
  dashboard_backend = "public.ecr.aws/atlas/dashboard-backend:latest"
  scoring           = "public.ecr.aws/atlas/scoring:latest"
  camunda           = "public.ecr.aws/camunda/camunda:8.6"
  kafka_ui          = "public.ecr.aws/provectus/kafka-ui:latest"
  clickhouse_agent  = "public.ecr.aws/atlas/clickhouse-prometheus-agent:latest"
}

alb_ingress_cidrs = ["0.0.0.0/0"]

msk_enable_public_access = true
msk_public_access_cidrs  = ["0.0.0.0/0"]

database_publicly_accessible = true
rds_allowed_cidrs            = ["0.0.0.0/0"]
