variable "name" {
  description = "Name of the WebSocket API, the event rule, the viewer role and the alarms."
  type        = string
}

variable "region" {
  description = "Region of the API (its wss:// URL)."
  type        = string
}

variable "function_name" {
  description = "The live function (lambdas/live.py): websocket routes and pipeline events."
  type        = string
}

variable "function_arn" {
  description = "ARN of the live function (the event rule's target)."
  type        = string
}

variable "function_invoke_arn" {
  description = "Invoke ARN of the live function (the API's integration)."
  type        = string
}

variable "connections_table_name" {
  description = "DynamoDB table of open websocket connections (connection_id, expires_at TTL)."
  type        = string
}

variable "event_bus_name" {
  description = "The pipeline's event bus."
  type        = string
}

variable "docs_bucket" {
  description = "The Data Docs bucket: the page and its state go under docs/dashboard/."
  type        = string
}

variable "page_path" {
  description = "The dashboard page (src/vitalflow/resources/dashboard/index.html), the same the local server serves."
  type        = string
}

variable "viewer_arns" {
  description = "IAM principals allowed to connect to the websocket (by assuming the viewer role)."
  type        = list(string)
  default     = []
}

variable "kms_key_arn" {
  description = "KMS key for the connections table and the published objects."
  type        = string
}

variable "alarm_topic_arn" {
  description = "SNS topic the alarms notify."
  type        = string
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
