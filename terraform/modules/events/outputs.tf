output "bus_name" {
  description = "Event bus name."
  value       = aws_cloudwatch_event_bus.this.name
}

output "bus_arn" {
  description = "Event bus ARN."
  value       = aws_cloudwatch_event_bus.this.arn
}

output "dlq_name" {
  description = "Dead-letter queue of the rule targets."
  value       = aws_sqs_queue.dlq.name
}

output "job_failed_rule_name" {
  description = "Rule matching failed validation runs (alarmed on)."
  value       = aws_cloudwatch_event_rule.this["job-failed"].name
}
