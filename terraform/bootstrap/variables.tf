variable "region" {
  description = "AWS region of the state bucket and lock table (the main configuration's region)."
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "Prefix of the lock table and the state key's alias (the main configuration's name)."
  type        = string
  default     = "vitalflow"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.name))
    error_message = "2-21 lower-case letters, digits and hyphens, starting with a letter."
  }
}

variable "state_bucket_name" {
  description = "Globally unique name of the bucket holding Terraform's state (e.g. <org>-vitalflow-tfstate)."
  type        = string
}

variable "state_key" {
  description = "Key of the main configuration's state in the bucket; backend.hcl and the pipeline use the same."
  type        = string
  default     = "vitalflow/terraform.tfstate"
}

variable "noncurrent_version_days" {
  description = "Days an overwritten state version is kept (every apply writes one): the window to roll a state back in."
  type        = number
  default     = 90
  validation {
    condition     = contains([max(var.noncurrent_version_days, 1)], var.noncurrent_version_days)
    error_message = "At least one day."
  }
}

variable "tags" {
  description = "Extra tags for every resource."
  type        = map(string)
  default     = {}
}
