variable "name" {
  description = "Workgroup name."
  type        = string
}

variable "results_bucket" {
  description = "Bucket for query results."
  type        = string
}

variable "results_prefix" {
  description = "Prefix for query results."
  type        = string
  default     = "athena-results/"
}

variable "kms_key_arn" {
  description = "KMS key encrypting query results."
  type        = string
}

variable "bytes_scanned_cutoff" {
  description = "Per-query scan limit in bytes (Athena's minimum is 10 MB)."
  type        = number
  default     = 10737418240
  validation {
    condition     = contains([max(var.bytes_scanned_cutoff, 10485760)], var.bytes_scanned_cutoff)
    error_message = "Athena's minimum cutoff is 10485760 bytes."
  }
}

variable "force_destroy" {
  description = "Delete the workgroup even if it has named queries (test stacks)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags for the workgroup."
  type        = map(string)
  default     = {}
}
