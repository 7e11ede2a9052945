variable "sender" {
  description = "Verified SES identity the reports are sent from (an address or a domain)."
  type        = string
}

variable "recipients" {
  description = "Addresses to verify as SES identities (needed while the account is in the SES sandbox); empty in production."
  type        = list(string)
  default     = []
}

variable "name" {
  description = "Prefix of the SES configuration set name."
  type        = string
}

variable "topic_name" {
  description = "SNS topic name."
  type        = string
}

variable "subscribers" {
  description = "Email addresses subscribed to the topic (alarms and events)."
  type        = list(string)
  default     = []
}

variable "kms_key_arn" {
  description = "KMS key for the topic."
  type        = string
}

variable "tags" {
  description = "Tags."
  type        = map(string)
  default     = {}
}
