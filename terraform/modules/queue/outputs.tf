output "queue_arn" {
  description = "ARN of the upload queue."
  value       = aws_sqs_queue.this.arn
}

output "queue_url" {
  description = "URL of the upload queue."
  value       = aws_sqs_queue.this.id
}

output "dlq_name" {
  description = "Name of the dead-letter queue (for alarms)."
  value       = aws_sqs_queue.dlq.name
}
