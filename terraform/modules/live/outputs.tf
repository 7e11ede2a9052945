output "websocket_url" {
  description = "wss:// URL of the dashboard's websocket (connect with a SigV4-signed URL as the viewer role)."
  value       = local.websocket_url
}

output "management_endpoint" {
  description = "https:// endpoint the live function posts to connections through."
  value       = "https://${aws_apigatewayv2_api.this.id}.execute-api.${var.region}.amazonaws.com/${local.stage}"
}

output "execution_arn" {
  description = "Execution ARN of the WebSocket API (IAM resources)."
  value       = aws_apigatewayv2_api.this.execution_arn
}

output "connections_table_arn" {
  description = "ARN of the connections table."
  value       = aws_dynamodb_table.connections.arn
}

output "viewer_role_arn" {
  description = "Role the listed principals assume to connect; null when none are listed."
  value       = one(aws_iam_role.viewer[*].arn)
}

output "page_key" {
  description = "Key of the dashboard page in the docs bucket."
  value       = aws_s3_object.page.key
}
