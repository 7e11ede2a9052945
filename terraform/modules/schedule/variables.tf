variable "name" {
  description = "Name of the schedule and prefix of its role."
  type        = string
}

variable "account_id" {
  description = "The account whose scheduler may assume the role."
  type        = string
}

variable "function_arn" {
  description = "The digest function the schedule invokes."
  type        = string
}

variable "schedule_expression" {
  description = "When the digest runs: a cron() or rate() expression of EventBridge Scheduler."
  type        = string
}

variable "timezone" {
  description = "IANA time zone the cron expression is read in (the digested day is always a UTC ingestion day)."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key the schedule (and its target input) is encrypted with; the role may decrypt with it."
  type        = string
}

variable "tags" {
  description = "Tags for the role."
  type        = map(string)
  default     = {}
}
