output "name" {
  description = "Workgroup name."
  value       = aws_athena_workgroup.this.name
}

output "arn" {
  description = "Workgroup ARN."
  value       = aws_athena_workgroup.this.arn
}
