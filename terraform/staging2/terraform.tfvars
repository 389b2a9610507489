# The committed staging2 values. staging2 has no network or security inputs of its own:
# it inherits staging's (and staging's exposure) through staging's outputs.

# Where terraform/staging keeps its state; against the emulator the demo and the tests
# replace this with the emulator's bucket and endpoint (an *.auto.tfvars file).
staging_state = {
  bucket = "REPLACE-ME-atlas-terraform-state"
  key    = "staging/terraform.tfstate"
  region = "eu-west-1"
}

domain = "staging2.atlas.example.com"

container_images = {
  events_ingestion  = "public.ecr.aws/atlas/events-ingestion:latest"
  dashboard_backend = "public.ecr.aws/atlas/dashboard-backend:latest"
  scoring           = "public.ecr.aws/atlas/scoring:latest"
  camunda           = "public.ecr.aws/camunda/camunda:8.6"
  kafka_ui          = "public.ecr.aws/provectus/kafka-ui:latest"
  clickhouse_agent  = "public.ecr.aws/atlas/clickhouse-prometheus-agent:latest"
}
