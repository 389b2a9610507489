# The committed production values. The edge stays open to the internet as the platform
# page records (alb_ingress_cidrs); the database stays on the private subnets, is not
# publicly accessible, and the plan fails if it ever becomes world-open.

domain = "atlas.example.com"

container_images = {
  events_ingestion  = "public.ecr.aws/atlas/events-ingestion:latest"
  dashboard_backend = "public.ecr.aws/atlas/dashboard-backend:latest"
  scoring           = "public.ecr.aws/atlas/scoring:latest"
  camunda           = "public.ecr.aws/camunda/camunda:8.6"
  kafka_ui          = "public.ecr.aws/provectus/kafka-ui:latest"
  clickhouse_agent  = "public.ecr.aws/atlas/clickhouse-prometheus-agent:latest"
}

desired_count = 2

alb_ingress_cidrs = ["0.0.0.0/0"]

msk_enable_public_access = false
msk_public_access_cidrs  = []

database_publicly_accessible = false
rds_allowed_cidrs            = ["10.30.0.0/16"]
forbidden_findings           = ["rds_world_open"]
