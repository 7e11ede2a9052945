variable "name" {
  description = "SNS topic name."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key the topic's messages are encrypted with."
  type        = string
}

variable "subscriptions" {
  description = "Subscribers: a unique name, the protocol (sqs, https, email, sms, application, lambda, firehose), the endpoint, an optional filter policy (JSON over the message attributes kind, source, risk_level, has_anomalies) and raw delivery (SQS, HTTPS, Firehose)."
  type = list(object({
    name                 = string
    protocol             = string
    endpoint             = string
    filter_policy        = optional(string)
    raw_message_delivery = optional(bool, false)
  }))
  default = []
  validation {
    condition     = alltrue([for s in var.subscriptions : contains(["sqs", "https", "http", "email", "email-json", "sms", "application", "lambda", "firehose"], s.protocol)])
    error_message = "Each subscription's protocol must be one SNS supports: sqs, https, http, email, email-json, sms, application, lambda or firehose."
  }
}

variable "tags" {
  description = "Tags for the topic."
  type        = map(string)
  default     = {}
}
