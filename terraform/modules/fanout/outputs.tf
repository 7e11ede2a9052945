output "topic_arn" {
  description = "The fan-out topic: the analyze and digest functions publish to it."
  value       = aws_sns_topic.this.arn
}
