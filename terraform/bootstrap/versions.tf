terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.65"
    }
  }
  # No backend: this configuration creates the state bucket, so its own small state stays local
  # (terraform/bootstrap/terraform.tfstate, ignored by git). See the README, "Remote state".
}

provider "aws" {
  region = var.region
  default_tags {
    tags = merge({ Project = "vitalflow", Purpose = "terraform-state" }, var.tags)
  }
}
