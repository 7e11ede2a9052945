output "schedule_arn" {
  description = "The digest schedule."
  value       = aws_scheduler_schedule.this.arn
}

output "role_name" {
  description = "The role the scheduler invokes the digest function with."
  value       = aws_iam_role.this.name
}
