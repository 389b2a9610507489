variable "name_prefix" {
  type        = string
  description = "Prefix of every service name and task family, such as atlas-staging"

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9-]{0,30}$", var.name_prefix))
    error_message = "The name_prefix must start with a letter and hold at most 31 letters, digits and hyphens."
  }
}

variable "cluster_arn" {
  type        = string
  description = "ARN of the ECS cluster the services run in; its default Service Connect namespace is theirs"
}

variable "private_subnet_ids" {
  type        = list(string)
  description = "The private subnets the tasks run in (no public IP)"

  validation {
    condition     = length(var.private_subnet_ids) >= 1
    error_message = "At least one private subnet is needed."
  }
}

variable "security_group_ids" {
  type        = map(string)
  description = "Group id by role, as the group_ids of atlas_security_model: alb, ecs, dashboard_backend, scoring, camunda, valkey, clickhouse_agent, msk_connect, msk, rds"

  validation {
    condition = alltrue([
      for role in ["ecs", "dashboard_backend", "scoring", "camunda", "clickhouse_agent"] :
      contains(keys(var.security_group_ids), role)
    ])
    error_message = "The security_group_ids map needs the roles ecs, dashboard_backend, scoring, camunda and clickhouse_agent."
  }
}

variable "https_listener_arn" {
  type        = string
  description = "ARN of the ALB's HTTPS listener that the hostname rules go on"
}

variable "default_target_group_arn" {
  type        = string
  description = "The ALB's default target group (atlas_ingress default_target_group_arn); events ingestion registers there unless events_hostnames is set"
  default     = null
}

variable "domain" {
  type        = string
  description = "DNS domain of the hostnames: dashboard.DOMAIN, scoring.DOMAIN and kafka-ui.DOMAIN"

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.domain))
    error_message = "The domain must be a lower-case DNS name such as staging.atlas.example.com."
  }
}

variable "events_hostnames" {
  type        = list(string)
  description = "Hostnames routed to events ingestion through its own target group; empty registers it with default_target_group_arn instead"
  default     = []
}

variable "container_images" {
  type        = map(string)
  description = "Container image by workload: events_ingestion, dashboard_backend, scoring, camunda, kafka_ui, clickhouse_agent"

  validation {
    condition = alltrue([
      for workload in ["events_ingestion", "dashboard_backend", "scoring", "camunda", "kafka_ui", "clickhouse_agent"] :
      contains(keys(var.container_images), workload)
    ])
    error_message = "The container_images map needs an image for each of events_ingestion, dashboard_backend, scoring, camunda, kafka_ui and clickhouse_agent."
  }
}

variable "dashboard_target_port" {
  type        = number
  description = "Port the dashboard backend listens on; the security model opens it to the ALB"
}

variable "desired_count" {
  type        = number
  description = "Tasks per service"
  default     = 1

  validation {
    condition     = var.desired_count >= 0 && var.desired_count <= 10 && floor(var.desired_count) == var.desired_count
    error_message = "The desired_count must be a whole number from 0 to 10."
  }
}

variable "execution_role_arn" {
  type        = string
  description = "Task execution role (image pulls, secrets, logs); null for none"
  default     = null
}
