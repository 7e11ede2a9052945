variable "name" {
  description = "The deployment's name (the root's var.name): prefixes the pipeline's resources, and the apply role may manage the resources named after it."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.name))
    error_message = "2-21 lower-case letters, digits and hyphens, starting with a letter."
  }
}

variable "connection_arn" {
  description = "ARN of an AVAILABLE CodeConnections (formerly CodeStar Connections) connection to the repository's host (GitHub, GitLab, Bitbucket)."
  type        = string
  validation {
    condition     = can(regex("^arn:aws[a-z-]*:(codestar-connections|codeconnections):[a-z0-9-]+:[0-9]{12}:connection/[0-9a-f-]+$", var.connection_arn))
    error_message = "A connection ARN: arn:aws:codeconnections:<region>:<account>:connection/<id> (or codestar-connections)."
  }
}

variable "repository" {
  description = "The repository the pipeline builds, as owner/name (FullRepositoryId)."
  type        = string
  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+$", var.repository))
    error_message = "owner/name, e.g. my-org/vitalflow."
  }
}

variable "branch" {
  description = "Branch whose pushes start the pipeline."
  type        = string
  default     = "main"
  validation {
    condition     = can(regex("^[^ ]+$", var.branch))
    error_message = "A branch name."
  }
}

variable "kms_key_arn" {
  description = "The project's KMS key: encrypts the pipeline's artefacts, build outputs, logs and dead letters."
  type        = string
}

variable "alarm_topic_arn" {
  description = "The project's alarm SNS topic: approval requests and failed stages are published to it."
  type        = string
}

variable "state_bucket" {
  description = "Bucket holding Terraform's state (terraform/bootstrap), as in backend.hcl."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.state_bucket))
    error_message = "A bucket name (terraform/bootstrap's state_bucket output)."
  }
}

variable "state_key" {
  description = "Key of the state in the state bucket, as in backend.hcl."
  type        = string
  default     = "vitalflow/terraform.tfstate"
}

variable "lock_table" {
  description = "DynamoDB table holding the state lock (terraform/bootstrap), as in backend.hcl."
  type        = string
  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{3,255}$", var.lock_table))
    error_message = "A DynamoDB table name (terraform/bootstrap's lock_table output)."
  }
}

variable "state_kms_key_arn" {
  description = "KMS key of the state bucket and lock table (terraform/bootstrap's kms_key_arn output)."
  type        = string
  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[0-9a-f-]+$", var.state_kms_key_arn))
    error_message = "A KMS key ARN (terraform/bootstrap's kms_key_arn output)."
  }
}

variable "managed_bucket_names" {
  description = "Buckets the deployment manages besides the pipeline's own (the lake and Data Docs buckets): plan reads their configuration, apply changes it."
  type        = list(string)
}

variable "managed_object_arns" {
  description = "S3 objects the deployment uploads (function packages, the Glue script and wheelhouse), as ARN patterns: apply writes them, plan reads their metadata."
  type        = list(string)
}

variable "lambda_layer_arns" {
  description = "Lambda layer versions the functions use (another account's layers included): creating or updating a function needs lambda:GetLayerVersion on them."
  type        = list(string)
  default     = []
}

variable "read_parameter_arns" {
  description = "SSM parameters the configuration reads (data sources, e.g. AWS's public parameter naming the pandas layer): plan and apply read them."
  type        = list(string)
  default     = []
}

variable "tfvars_file" {
  description = "Variables file of the deployment, relative to terraform/ and committed to the repository; empty for terraform.tfvars (which Terraform loads by itself)."
  type        = string
  default     = ""
}

variable "build_image" {
  description = "CodeBuild image of every stage: a curated image at a fixed major version (AWS patches it in place; the build logs print the versions used), or your own ECR image pinned by digest (image@sha256:...)."
  type        = string
  default     = "aws/codebuild/standard:7.0"
  validation {
    condition     = can(regex("^(aws/codebuild/[a-z0-9-]+:[0-9]+\\.[0-9]+|[^:@]+@sha256:[0-9a-f]{64})$", var.build_image))
    error_message = "A curated image with its version (aws/codebuild/standard:7.0) or an image pinned by digest; never a moving tag such as latest."
  }
}

variable "test_compute_type" {
  description = "CodeBuild compute type of the test and package stages (make test runs pytest on 2 workers)."
  type        = string
  default     = "BUILD_GENERAL1_MEDIUM"
}

variable "terraform_compute_type" {
  description = "CodeBuild compute type of the plan and apply stages."
  type        = string
  default     = "BUILD_GENERAL1_SMALL"
}

variable "execution_mode" {
  description = "QUEUED (default): one execution at a time, so every plan is made on the state the previous apply left (a plan made before another apply would be stale). SUPERSEDED lets a newer push replace a waiting one."
  type        = string
  default     = "QUEUED"
  validation {
    condition     = contains(["QUEUED", "SUPERSEDED"], var.execution_mode)
    error_message = "QUEUED or SUPERSEDED (PARALLEL would plan against states other executions are changing)."
  }
}

variable "artifact_retention_days" {
  description = "Days the pipeline's artefacts (source, packages, plans) are kept."
  type        = number
  default     = 30
  validation {
    condition     = contains([max(var.artifact_retention_days, 8)], var.artifact_retention_days)
    error_message = "At least 8 days: an approval may wait 7."
  }
}

variable "log_retention_days" {
  description = "CloudWatch Logs retention of the build logs."
  type        = number
  default     = 365
  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "Use a retention CloudWatch Logs accepts."
  }
}

variable "tags" {
  description = "Tags for every resource of the pipeline."
  type        = map(string)
  default     = {}
}
