variable "name" {
  description = "Prefix for alarm names and the dashboard name."
  type        = string
}

variable "region" {
  description = "Region shown by the dashboard widgets."
  type        = string
}

variable "service_name" {
  description = "Powertools service name (the metrics' dimension)."
  type        = string
  default     = "vitalflow"
}

variable "function_names" {
  description = "Lambda functions to alarm on."
  type        = list(string)
}

variable "dlq_names" {
  description = "Dead-letter queues to alarm on."
  type        = list(string)
}

variable "redrive_commands" {
  description = "By dead-letter queue name: the command that sends its messages back to be processed, put in the queue's alarm."
  type        = map(string)
  default     = {}
}

variable "job_failed_rule_name" {
  description = "EventBridge rule that matches failed validation runs."
  type        = string
}

variable "reject_rate_threshold" {
  description = "Alarm when a batch rejects more than this percentage of rows."
  type        = number
  default     = 5
  validation {
    condition     = contains([min(max(var.reject_rate_threshold, 0.1), 100)], var.reject_rate_threshold)
    error_message = "A percentage from 0.1 to 100."
  }
}

variable "alarm_topic_arn" {
  description = "SNS topic the alarms notify."
  type        = string
}

variable "tags" {
  description = "Tags for the alarms."
  type        = map(string)
  default     = {}
}
