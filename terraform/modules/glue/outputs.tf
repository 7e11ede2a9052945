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

output "erase_job_name" {
  description = "Name of the erasure job (start it with --user_id ID, optionally --dry_run true)."
  value       = aws_glue_job.erase.name
}

output "operator_role_arns" {
  description = "The erasure operator role (empty when no principals are listed)."
  value       = aws_iam_role.operator[*].arn
}

output "spark_job_name" {
  description = "Name of the Spark validation job (empty when no Spark libraries are given)."
  value       = one(aws_glue_job.validate_spark[*].name)
}

output "spark_job_arns" {
  description = "ARN of the Spark validation job, as a list (empty when there is none)."
  value       = aws_glue_job.validate_spark[*].arn
}
