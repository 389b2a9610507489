terraform {
  required_version = ">= 1.11"

  required_providers {
    atlas = {
      source  = "atlas/atlas"
      version = "~> 0.1"
    }
  }
}
