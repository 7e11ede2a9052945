variable "name" {
  description = "Queue name; the dead-letter queue gets a -dlq suffix."
  type        = string
}

variable "bucket_name" {
  description = "Bucket whose uploads are queued."
  type        = string
}

variable "bucket_arn" {
  description = "ARN of that bucket (the only allowed sender)."
  type        = string
}

variable "prefix" {
  description = "Key prefix that triggers processing."
  type        = string
  default     = "raw/"
}

variable "kms_key_arn" {
  description = "KMS key encrypting messages at rest."
  type        = string
}

variable "visibility_timeout_seconds" {
  description = "At least six times the consuming Lambda's timeout."
  type        = number
  default     = 360
  validation {
    condition     = contains([min(max(var.visibility_timeout_seconds, 30), 43200)], var.visibility_timeout_seconds)
    error_message = "SQS accepts 0-43200 seconds; below 30 is too short for the consumer."
  }
}

variable "max_receive_count" {
  description = "Receives before a message moves to the dead-letter queue; with the visibility timeout this is how long an upload may wait for a free validation run."
  type        = number
  default     = 5
  validation {
    condition     = contains(range(1, 101), var.max_receive_count)
    error_message = "Use 1 to 100 receives."
  }
}

variable "tags" {
  description = "Tags for the queues."
  type        = map(string)
  default     = {}
}
