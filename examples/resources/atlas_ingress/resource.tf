resource "atlas_ingress" "staging" {
  name               = "atlas-staging"
  vpc_id             = atlas_network.staging.vpc_id
  subnet_ids         = atlas_network.staging.public_subnet_ids
  security_group_ids = [atlas_security_model.staging.group_ids["alb"]]
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
  value = atlas_ingress.staging.dns_name
}

output "https_listener_arn" {
  value = atlas_ingress.staging.https_listener_arn
}
