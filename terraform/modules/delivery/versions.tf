terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.65" # aws_codepipeline pipeline_type V2 and execution_mode
    }
  }
}
