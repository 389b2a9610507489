terraform {
  required_version = ">= 1.11"

  required_providers {
    atlas = {
      source  = "atlas/atlas"
      version = "~> 0.1"
    }
  }

  # Partial configuration: the bucket, key and region come from a file in backend/,
  # passed as `terraform init -backend-config=FILE`, so that the same root keeps its
  # state in a real bucket or in the local emulator's S3.
  backend "s3" {}
}
