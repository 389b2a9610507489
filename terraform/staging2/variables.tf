variable "region" {
  type        = string
  description = "AWS region of staging, whose foundation staging2 reuses"
  default     = "eu-west-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "The region must be an AWS region name such as eu-west-1."
  }
}

variable "staging_state" {
  type = object({
    bucket = string
    key    = optional(string, "staging/terraform.tfstate")
    region = optional(string, "eu-west-1")
    # An S3 endpoint URL, only for the local emulator (path-style, no account checks).
    endpoint = optional(string)
  })
  description = "Where terraform/staging keeps its state: staging2 reads the shared foundation from its outputs"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.staging_state.bucket))
    error_message = "The staging_state.bucket must be an S3 bucket name."
  }

  validation {
    condition     = var.staging_state.endpoint == null || can(regex("^https?://", var.staging_state.endpoint))
    error_message = "The staging_state.endpoint must be an http:// or https:// URL, or null for AWS."
  }
}

variable "domain" {
  type        = string
  description = "DNS domain of staging2's hostnames (events., dashboard., scoring., kafka-ui.), on staging's ALB"

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.domain))
    error_message = "The domain must be a lower-case DNS name such as staging2.atlas.example.com."
  }
}

variable "container_images" {
  type        = map(string)
  description = "Container image by workload: events_ingestion, dashboard_backend, scoring, camunda, kafka_ui, clickhouse_agent"
}

variable "desired_count" {
  type        = number
  description = "Tasks per service"
  default     = 1
}

variable "container_insights" {
  type        = bool
  description = "Whether staging2's ECS cluster has CloudWatch Container Insights on"
  default     = true
}
