variable "name" {
  description = "Table name."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key for encryption at rest."
  type        = string
}

variable "deletion_protection" {
  description = "Refuse to delete the table."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags for the table."
  type        = map(string)
  default     = {}
}
