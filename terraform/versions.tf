terraform {
  required_version = ">= 1.5"
  # Remote state (terraform/bootstrap creates the bucket and lock table): the values are given at init,
  # terraform init -backend-config=backend.hcl (see backend.hcl.example and the README).
  backend "s3" {}
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.65, < 6.0" # 5.65: aws_glue_job.job_run_queuing_enabled; 6.x is a major release nobody tested here
    }
  }
}

provider "aws" {
  region = var.region
  default_tags {
    tags = merge({ Project = "vitalflow" }, var.tags)
  }
}
