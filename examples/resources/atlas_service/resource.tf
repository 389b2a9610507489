# In a root these come from atlas_cluster, atlas_network, atlas_security_model and
# atlas_ingress (cluster arn, private_subnet_ids, group_ids, https_listener_arn).
variable "cluster_arn" {
  type        = string
  description = "The ECS cluster, such as atlas_cluster.this.arn"
}

variable "db_password_secret_arn" {
  type        = string
  description = "The Secrets Manager secret holding the database password"
}

variable "execution_role_arn" {
  type        = string
  description = "The task execution role"
}

variable "group_ids" {
  type        = map(string)
  description = "Security group ids by role, such as atlas_security_model.this.group_ids"
}

variable "https_listener_arn" {
  type        = string
  description = "The ingress's HTTPS listener, such as atlas_ingress.this.https_listener_arn"
}

variable "private_subnet_ids" {
  type        = list(string)
  description = "The private subnets, such as atlas_network.staging.private_subnet_ids"
}

# Scoring: a Service Connect server that other services reach as scoring:8083.
resource "atlas_service" "scoring" {
  name               = "scoring"
  cluster_arn        = var.cluster_arn
  subnet_ids         = var.private_subnet_ids
  security_group_ids = [var.group_ids["scoring"]]
  desired_count      = 2
  execution_role_arn = var.execution_role_arn

  container {
    image        = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/scoring:1.4.2"
    cpu          = 512
    memory       = 1024
    port         = 8083
    app_protocol = "http"
    environment  = { LOG_LEVEL = "info" }
    secrets      = { DB_PASSWORD = var.db_password_secret_arn }
    log_group    = "/atlas/staging/scoring"
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
}

# The dashboard backend: a Service Connect client, routed by host name to a target
# group it owns.
resource "atlas_service" "dashboard_backend" {
  name               = "dashboard-backend"
  cluster_arn        = var.cluster_arn
  subnet_ids         = var.private_subnet_ids
  security_group_ids = [var.group_ids["dashboard_backend"]]

  container {
    image        = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/dashboard-backend:2.0.1"
    cpu          = 256
    memory       = 512
    port         = 3000
    app_protocol = "http"
  }

  service_connect {}

  route {
    listener_arn = var.https_listener_arn
    hostnames    = ["dashboard.staging.example.com"]
  }

  wait_for_steady_state = true

  timeouts {
    create = "15m"
    update = "15m"
  }
}

output "dashboard_target_group_arn" {
  description = "The target group the dashboard backend owns"
  value       = atlas_service.dashboard_backend.target_group_arn
}
