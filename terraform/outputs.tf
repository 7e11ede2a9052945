output "upload_prefix" {
  description = "Where to upload CSV batches."
  value       = "s3://${module.data_bucket.bucket}/raw/"
}

output "docs_bucket" {
  description = "Bucket holding the Data Docs site (docs/index.html)."
  value       = module.docs_bucket.bucket
}

output "athena_workgroup" {
  description = "Workgroup to query processed data in."
  value       = module.athena.name
}

output "glue_database" {
  description = "Catalog database with the processed and rejected tables."
  value       = module.glue.database_name
}

output "results_table" {
  description = "DynamoDB table with one item per batch."
  value       = module.table.name
}

output "dashboard" {
  description = "CloudWatch dashboard name."
  value       = module.monitoring.dashboard_name
}

output "events_topic_arn" {
  description = "SNS topic carrying pipeline events and alarms."
  value       = module.notifications.topic_arn
}

output "delivery" {
  description = "The delivery pipeline (null unless enable_delivery): its name and ARN, the approval action's ARN, the artefact bucket, the stages' projects and roles."
  value       = one(module.delivery[*])
}

output "fanout_topic_arn" {
  description = "SNS topic of analysed batches and digests (message attributes kind, source, risk_level, has_anomalies)."
  value       = module.fanout.topic_arn
}

output "live_dashboard" {
  description = "The live dashboard: its page in the docs bucket, websocket URL and the role viewers assume to connect."
  value = {
    page_key    = module.live_api.page_key
    websocket   = module.live_api.websocket_url
    viewer_role = module.live_api.viewer_role_arn
  }
}

output "erase_job_name" {
  description = "The erasure job: the operator role starts it with --user_id ID (--dry_run true to only count)."
  value       = module.glue.erase_job_name
}

output "erase_operator_role_arns" {
  description = "The erasure operator role the listed principals assume (empty when none are listed)."
  value       = module.glue.operator_role_arns
}
