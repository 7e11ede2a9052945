output "job_name" {
  description = "Name of the validation job."
  value       = aws_glue_job.validate.name
}

output "job_arn" {
  description = "ARN of the validation job."
  value       = aws_glue_job.validate.arn
}

output "database_name" {
  description = "Catalog database."
  value       = aws_glue_catalog_database.this.name
}

output "table_arns" {
  description = "ARNs of the lake tables."
  value       = local.table_arns
}
