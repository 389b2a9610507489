variable "region" {
  type        = string
  description = "AWS region of the staging environment"
  default     = "eu-west-1"
}

variable "vpc_cidr" {
  type        = string
  description = "IPv4 CIDR block of the staging VPC; subnet CIDRs are derived from it"
  default     = "10.20.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0))
    error_message = "The vpc_cidr value must be an IPv4 CIDR block, such as 10.20.0.0/16."
  }
}
