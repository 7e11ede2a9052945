output "topic_arn" {
  description = "SNS topic ARN."
  value       = aws_sns_topic.this.arn
}

output "sender_identity_arn" {
  description = "ARN of the SES identity (the only one the notify Lambda may send as)."
  value       = aws_sesv2_email_identity.sender.arn
}

output "configuration_set_name" {
  description = "SES configuration set the reports are sent with (bounces and complaints go to the topic)."
  value       = aws_sesv2_configuration_set.this.configuration_set_name
}

output "sending_arns" {
  description = "What SES authorizes a send against: the sender's address and domain identities, the configuration set, and (sandbox) the recipients' identities."
  value = concat(
    [aws_sesv2_email_identity.sender.arn, "${local.identity_prefix}${local.sender_domain}", aws_sesv2_configuration_set.this.arn],
    [for r in aws_sesv2_email_identity.recipient : r.arn],
  )
}
