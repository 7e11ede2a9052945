variable "name" {
  description = "Globally unique bucket name."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.name))
    error_message = "Bucket names are 3-63 lower-case letters, digits, dots and hyphens."
  }
}

variable "kms_key_arn" {
  description = "KMS key used for SSE-KMS default encryption."
  type        = string
}

variable "expire_prefixes" {
  description = "Prefixes whose objects expire, mapped to their retention in days (e.g. raw/ and rejected/)."
  type        = map(number)
  default     = {}
  validation {
    condition     = alltrue([for days in values(var.expire_prefixes) : contains([max(days, 1)], days)])
    error_message = "Retention must be at least one day."
  }
}

variable "validation_retention_days" {
  description = "Days to keep Data Docs pages, index entries and validation results (gx/validations/, docs/validations/, docs/index/, docs/days/, docs/months/)."
  type        = number
  default     = 90
  validation {
    condition     = contains([max(var.validation_retention_days, 1)], var.validation_retention_days)
    error_message = "Retention must be at least one day."
  }
}

variable "noncurrent_version_days" {
  description = "Days to keep overwritten or deleted object versions."
  type        = number
  default     = 30
}

variable "reader_arns" {
  description = "IAM principals (e.g. the reviewers' role) allowed to read the bucket."
  type        = list(string)
  default     = []
}

variable "access_log_bucket" {
  description = "Bucket receiving S3 server access logs; empty to disable."
  type        = string
  default     = ""
}

variable "force_destroy" {
  description = "Allow destroying a non-empty bucket (for test stacks only)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags for the bucket."
  type        = map(string)
  default     = {}
}
