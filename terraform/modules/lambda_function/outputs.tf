output "function_name" {
  description = "Function name."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "Function ARN."
  value       = aws_lambda_function.this.arn
}

output "role_name" {
  description = "Execution role name."
  value       = aws_iam_role.this.name
}

output "dlq_name" {
  description = "Name of the function's failed-invocation queue (null when another destination is used)."
  value       = one(aws_sqs_queue.dlq[*].name)
}

output "invoke_arn" {
  description = "Invoke ARN (an API Gateway integration's URI)."
  value       = aws_lambda_function.this.invoke_arn
}
