terraform {
  required_version = ">= 1.5"
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
