# In a root these come from atlas_network and atlas_security_model
# (vpc_id, public_subnet_ids, group_ids["alb"]).
variable "vpc_id" {
  type        = string
  description = "The VPC, such as atlas_network.this.vpc_id"
}

variable "public_subnet_ids" {
  type        = list(string)
  description = "The public subnets, such as atlas_network.this.public_subnet_ids"
}

variable "alb_group_id" {
  type        = string
  description = "The alb group, such as atlas_security_model.this.group_ids[\"alb\"]"
}

variable "certificate_arn" {
  type        = string
  description = "An ACM certificate in the same region, covering the hostnames"
}

resource "atlas_ingress" "this" {
  name               = "atlas-staging"
  vpc_id             = var.vpc_id
  subnet_ids         = var.public_subnet_ids
  security_group_ids = [var.alb_group_id]
  certificate_arn    = var.certificate_arn

  # Optional:
  # ssl_policy                = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  # default_target_port       = 8080
  # default_health_check_path = "/health"

  tags = {
    component = "ingress"
  }
}

output "alb_dns_name" {
  value = atlas_ingress.this.dns_name
}

output "https_listener_arn" {
  value = atlas_ingress.this.https_listener_arn
}
