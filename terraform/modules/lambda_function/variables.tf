variable "name" {
  description = "Function name (also names its role, log group and dead-letter queue)."
  type        = string
  validation {
    condition     = can(regex("^[a-zA-Z0-9-_]{1,64}$", var.name))
    error_message = "Lambda names are 1-64 letters, digits, hyphens and underscores."
  }
}

variable "runtime" {
  description = "Lambda runtime: an Amazon Linux 2023 Python that AWS supports (python3.12 or newer); make package builds for it."
  type        = string
  default     = "python3.12"
  validation {
    condition     = contains(["python3.12", "python3.13"], var.runtime)
    error_message = "python3.12 or python3.13 (Amazon Linux 2023); the Amazon Linux 2 runtimes are deprecated."
  }
}

variable "handler" {
  description = "Handler in the package, e.g. analyze.handler."
  type        = string
}

variable "package_bucket" {
  description = "Bucket holding the function's zip (uploaded by the root module; S3 lifts the 50 MB direct-upload cap)."
  type        = string
}

variable "package_key" {
  description = "Key of the function's zip, built by make package (dist/lambda/<function>.zip)."
  type        = string
}

variable "package_hash" {
  description = "base64 SHA-256 of the zip, so a new build redeploys the code."
  type        = string
}

variable "environment" {
  description = "Environment variables (VITALFLOW_* settings and Powertools options)."
  type        = map(string)
  default     = {}
}

variable "statements" {
  description = "IAM statements for this function, by statement id: specific actions on specific resources only."
  type        = map(object({ actions = list(string), resources = list(string) }))
  validation {
    condition = alltrue([
      for s in values(var.statements) : alltrue([for a in s.actions : can(regex("^[a-z0-9-]+:[A-Za-z0-9]+$", a))])
    ])
    error_message = "Wildcard actions are not allowed."
  }
}

variable "kms_key_arn" {
  description = "KMS key for the environment, logs and dead-letter queue."
  type        = string
}

variable "timeout_seconds" {
  description = "Function timeout."
  type        = number
  default     = 60
  validation {
    condition     = contains(range(1, 901), var.timeout_seconds)
    error_message = "Lambda timeouts are 1-900 seconds."
  }
}

variable "memory_mb" {
  description = "Function memory."
  type        = number
  default     = 1024
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions; null (default) reserves none: new accounts have a quota of 10 and Lambda keeps 10 unreserved, so any reservation is refused there."
  type        = number
  default     = null
}

variable "tracing_mode" {
  description = "X-Ray tracing: Active (the role then gets xray:PutTraceSegments/PutTelemetryRecords) or PassThrough."
  type        = string
  default     = "Active"
  validation {
    condition     = contains(["Active", "PassThrough"], var.tracing_mode)
    error_message = "Active or PassThrough."
  }
}

variable "on_failure_destination_arn" {
  description = "Where asynchronous invocations go after their retries: empty for the function's own queue, or an SQS queue or EventBridge bus ARN."
  type        = string
  default     = ""
}

variable "log_retention_days" {
  description = "CloudWatch Logs retention."
  type        = number
  default     = 365
  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "Use a retention CloudWatch Logs accepts."
  }
}

variable "layers" {
  description = "Layer ARNs, e.g. AWS SDK for pandas (pandas, numpy, pyarrow, awswrangler)."
  type        = list(string)
  default     = []
}

variable "code_signing_config_arn" {
  description = "Optional Lambda code signing configuration."
  type        = string
  default     = ""
}

variable "tags" {
  description = "Tags for every resource of the function."
  type        = map(string)
  default     = {}
}
