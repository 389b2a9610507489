# The Atlas workloads, wired as the platform page describes:
#
# - events ingestion is the ALB's default (its default target group);
# - the dashboard backend joins Service Connect as a client only and is reachable from
#   outside only through its hostname rule;
# - scoring is reachable in the namespace as `scoring` and through its hostname rule;
# - Camunda is reachable in the namespace as `camunda`, with a 30-second per-request
#   timeout so the scoring worker's long-poll can exceed the HTTP default;
# - Kafka UI is routed by hostname only;
# - the ClickHouse Prometheus agent has no inbound path at all.

locals {
  groups = var.security_group_ids
}

resource "atlas_service" "events_ingestion" {
  name               = "${var.name_prefix}-events-ingestion"
  cluster_arn        = var.cluster_arn
  subnet_ids         = var.private_subnet_ids
  security_group_ids = [local.groups["ecs"]]
  desired_count      = var.desired_count
  execution_role_arn = var.execution_role_arn

  container {
    image        = var.container_images["events_ingestion"]
    cpu          = 512
    memory       = 1024
    port         = 8080
    port_name    = "http"
    app_protocol = "http"
  }

  route {
    listener_arn     = var.https_listener_arn
    hostnames        = length(var.events_hostnames) == 0 ? null : var.events_hostnames
    target_group_arn = length(var.events_hostnames) == 0 ? var.default_target_group_arn : null
  }
}

resource "atlas_service" "dashboard_backend" {
  name               = "${var.name_prefix}-dashboard-backend"
  cluster_arn        = var.cluster_arn
  subnet_ids         = var.private_subnet_ids
  security_group_ids = [local.groups["dashboard_backend"], local.groups["ecs"]]
  desired_count      = var.desired_count
  execution_role_arn = var.execution_role_arn

  container {
    image        = var.container_images["dashboard_backend"]
    cpu          = 512
    memory       = 1024
    port         = var.dashboard_target_port
    port_name    = "http"
    app_protocol = "http"
  }

  # Client only: reaches scoring as `scoring`, publishes nothing in the namespace.
  service_connect {}

  route {
    listener_arn = var.https_listener_arn
    hostnames    = ["dashboard.${var.domain}"]
  }
}

resource "atlas_service" "scoring" {
  name               = "${var.name_prefix}-scoring"
  cluster_arn        = var.cluster_arn
  subnet_ids         = var.private_subnet_ids
  security_group_ids = [local.groups["scoring"]]
  desired_count      = var.desired_count
  execution_role_arn = var.execution_role_arn

  container {
    image        = var.container_images["scoring"]
    cpu          = 1024
    memory       = 2048
    port         = 8083
    port_name    = "http"
    app_protocol = "http"
  }

  service_connect {
    service {
      port_name      = "http"
      discovery_name = "scoring"

      client_alias {
        dns_name = "scoring"
        port     = 8083
      }
    }
  }

  route {
    listener_arn = var.https_listener_arn
    hostnames    = ["scoring.${var.domain}"]
  }
}

resource "atlas_service" "camunda" {
  name               = "${var.name_prefix}-camunda"
  cluster_arn        = var.cluster_arn
  subnet_ids         = var.private_subnet_ids
  security_group_ids = [local.groups["camunda"]]
  desired_count      = var.desired_count
  execution_role_arn = var.execution_role_arn

  container {
    image        = var.container_images["camunda"]
    cpu          = 1024
    memory       = 2048
    port         = 8080
    port_name    = "http"
    app_protocol = "http"
  }

  service_connect {
    service {
      port_name                   = "http"
      discovery_name              = "camunda"
      per_request_timeout_seconds = 30

      client_alias {
        dns_name = "camunda"
        port     = 8080
      }
    }
  }
}

resource "atlas_service" "kafka_ui" {
  name               = "${var.name_prefix}-kafka-ui"
  cluster_arn        = var.cluster_arn
  subnet_ids         = var.private_subnet_ids
  security_group_ids = [local.groups["ecs"]]
  desired_count      = var.desired_count
  execution_role_arn = var.execution_role_arn

  container {
    image        = var.container_images["kafka_ui"]
    cpu          = 256
    memory       = 512
    port         = 8080
    port_name    = "http"
    app_protocol = "http"
  }

  route {
    listener_arn = var.https_listener_arn
    hostnames    = ["kafka-ui.${var.domain}"]
  }
}

resource "atlas_service" "clickhouse_agent" {
  name               = "${var.name_prefix}-clickhouse-agent"
  cluster_arn        = var.cluster_arn
  subnet_ids         = var.private_subnet_ids
  security_group_ids = [local.groups["clickhouse_agent"]]
  desired_count      = var.desired_count
  execution_role_arn = var.execution_role_arn

  # No port: it only sends, over HTTPS through the NAT gateways.
  container {
    image  = var.container_images["clickhouse_agent"]
    cpu    = 256
    memory = 512
  }
}
