variable "region" {
  type        = string
  description = "AWS region of the production environment"
  default     = "eu-west-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "The region must be an AWS region name such as eu-west-1."
  }
}

variable "vpc_cidr" {
  type        = string
  description = "IPv4 CIDR block of the staging VPC; subnet CIDRs are derived from it"
  default     = "10.30.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0))
    error_message = "The vpc_cidr value must be an IPv4 CIDR block, such as 10.30.0.0/16."
  }
}

variable "domain" {
  type        = string
  description = "DNS domain of the public hostnames (dashboard., scoring., kafka-ui.)"

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.domain))
    error_message = "The domain must be a lower-case DNS name such as atlas.example.com."
  }
}

variable "certificate_arn" {
  type        = string
  description = "ARN of the ACM certificate of the ALB's HTTPS listener; it should cover the domain's hostnames"

  validation {
    condition     = can(regex("^arn:[a-z-]+:acm:[a-z0-9-]+:[0-9]{12}:certificate/.+$", var.certificate_arn))
    error_message = "The certificate_arn must be an ACM certificate ARN."
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

variable "dashboard_target_port" {
  type        = number
  description = "Port the dashboard backend listens on, opened to the ALB"
  default     = 3000

  validation {
    condition     = var.dashboard_target_port >= 1 && var.dashboard_target_port <= 65535
    error_message = "The dashboard_target_port must be a TCP port (1-65535)."
  }
}

variable "container_insights" {
  type        = bool
  description = "Whether the ECS cluster has CloudWatch Container Insights on"
  default     = true
}

variable "alb_ingress_cidrs" {
  type        = list(string)
  description = "Networks that may reach the ALB on 80 and 443"

  validation {
    condition     = alltrue([for cidr in var.alb_ingress_cidrs : can(cidrhost(cidr, 0))])
    error_message = "Every alb_ingress_cidrs entry must be a CIDR block."
  }
}

variable "msk_enable_public_access" {
  type        = bool
  description = "Whether the MSK cluster gets service-provided public broker addresses"
  default     = false
}

variable "msk_public_access_cidrs" {
  type        = list(string)
  description = "Networks that may use the brokers' public IAM + TLS listener on 9198"
  default     = []

  validation {
    condition     = alltrue([for cidr in var.msk_public_access_cidrs : can(cidrhost(cidr, 0))])
    error_message = "Every msk_public_access_cidrs entry must be a CIDR block."
  }
}

variable "msk_cluster_arn" {
  type        = string
  description = "ARN of the environment's MSK cluster, whose public access this root sets; null leaves MSK alone"
  default     = null
}

variable "database_publicly_accessible" {
  type        = bool
  description = "Whether the dashboard database sits on the public subnets and is publicly accessible; production keeps it private"
  default     = false

  validation {
    condition     = !var.database_publicly_accessible
    error_message = "Production's database stays on the private subnets: database_publicly_accessible must be false."
  }
}

variable "rds_allowed_cidrs" {
  type        = list(string)
  description = "Networks that may reach the database on 5432"
  default     = []

  validation {
    condition     = alltrue([for cidr in var.rds_allowed_cidrs : can(cidrhost(cidr, 0))])
    error_message = "Every rds_allowed_cidrs entry must be a CIDR block."
  }

  # Production never opens the database to the world; the security model also fails
  # the plan on the rds_world_open finding (see forbidden_findings in terraform.tfvars).
  validation {
    condition     = !anytrue([for cidr in var.rds_allowed_cidrs : endswith(cidr, "/0")])
    error_message = "Production's database must not be world-open: remove 0.0.0.0/0 and ::/0 from rds_allowed_cidrs."
  }
}

variable "rds_access_from" {
  type        = string
  description = "The workload whose group reaches the database: dashboard_backend or camunda"
  default     = "dashboard_backend"

  validation {
    condition     = contains(["dashboard_backend", "camunda"], var.rds_access_from)
    error_message = "The rds_access_from must be dashboard_backend or camunda."
  }
}

variable "forbidden_findings" {
  type        = list(string)
  description = "Exposure findings that fail the plan instead of warning, such as rds_world_open"
  default     = []
}
