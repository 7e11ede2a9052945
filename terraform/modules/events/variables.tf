variable "name" {
  description = "Name of the event bus."
  type        = string
}

variable "analyze_function_arn" {
  description = "Lambda receiving BatchValidated (its failures, sent to this bus, become alerts)."
  type        = string
}

variable "notify_function_arn" {
  description = "Lambda receiving BatchAnalyzed, BatchFailed, failed or stopped Glue runs and failed analyses."
  type        = string
}

variable "glue_job_name" {
  description = "Validation job whose FAILED, TIMEOUT or STOPPED runs raise an alert."
  type        = string
}

variable "spark_job_name" {
  description = "The Spark validation job, whose failed runs raise the same alert; empty when it is not deployed."
  type        = string
  default     = ""
}

variable "sns_topic_arn" {
  description = "Topic carrying every vitalflow event to other subscribers."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key for the events dead-letter queue."
  type        = string
}

variable "tags" {
  description = "Tags for the bus, rules and queue."
  type        = map(string)
  default     = {}
}
