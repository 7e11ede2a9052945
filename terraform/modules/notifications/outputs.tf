output "topic_arn" {
  description = "SNS topic ARN."
  value       = aws_sns_topic.this.arn
}

output "sender_identity_arn" {
  description = "ARN of the SES identity (the only one the notify Lambda may send as)."
  value       = aws_sesv2_email_identity.sender.arn
}
