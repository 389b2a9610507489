terraform {
  required_providers {
    atlas = {
      source  = "atlas/atlas"
      version = "~> 0.1"
    }
  }
}

# Credentials come from the usual AWS chain: environment, shared profile, SSO, or an
# instance or container role.
provider "atlas" {
  region = "eu-west-1"

  default_tags {
    tags = {
      project    = "atlas"
      managed_by = "terraform"
    }
  }
}
