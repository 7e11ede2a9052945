# One function from its own package (uploaded to S3 by the root module): function, role with exactly the
# given statements, log group, and where asynchronous invocations go once retries are exhausted (one
# on-failure destination: the function's own queue, or another target such as the event bus).
resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/lambda/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

locals {
  destination = coalesce(var.on_failure_destination_arn, one(aws_sqs_queue.dlq[*].arn))
  # The role may deliver to its destination: SendMessage to a queue, PutEvents to a bus.
  destination_action = can(regex("^arn:aws[a-z-]*:events:", local.destination)) ? "events:PutEvents" : "sqs:SendMessage"
}

resource "aws_sqs_queue" "dlq" {
  count                     = lookup({ "" = 1 }, var.on_failure_destination_arn, 0)
  name                      = "${var.name}-dlq"
  kms_master_key_id         = var.kms_key_arn
  message_retention_seconds = 1209600
  tags                      = var.tags
}

resource "aws_iam_role" "this" {
  name = var.name
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "lambda.amazonaws.com" }
    }]
  })
  tags = var.tags
}

data "aws_iam_policy_document" "this" {
  statement {
    sid       = "OwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }
  statement {
    sid       = "FailedInvocations"
    actions   = [local.destination_action]
    resources = [local.destination]
  }
  dynamic "statement" {
    # Active tracing: Lambda refuses CreateFunction unless the role may write traces. X-Ray has no
    # resource-level permissions, so "*" is the only resource these two actions take.
    for_each = compact([lookup({ Active = "tracing" }, var.tracing_mode, "")])
    content {
      sid       = "Tracing"
      actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      resources = ["*"]
    }
  }
  statement {
    sid       = "UseKey"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
  dynamic "statement" {
    for_each = var.statements
    content {
      sid       = statement.key
      actions   = statement.value.actions
      resources = statement.value.resources
    }
  }
}

resource "aws_iam_role_policy" "this" {
  name   = var.name
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}

resource "aws_lambda_function" "this" {
  # checkov:skip=CKV_AWS_117:The functions call only AWS APIs; a VPC adds NAT cost and cold starts without narrowing access (IAM does).
  # checkov:skip=CKV_AWS_272:Code signing needs a signing profile the deployer owns; enable it via var.code_signing_config_arn.
  # checkov:skip=CKV_AWS_116:Failed asynchronous invocations go to the on-failure destination (aws_lambda_function_event_invoke_config); a DLQ as well would record each failure twice.
  function_name                  = var.name
  role                           = aws_iam_role.this.arn
  runtime                        = var.runtime
  handler                        = var.handler
  s3_bucket                      = var.package_bucket
  s3_key                         = var.package_key
  source_code_hash               = var.package_hash
  timeout                        = var.timeout_seconds
  memory_size                    = var.memory_mb
  reserved_concurrent_executions = var.reserved_concurrency
  layers                         = var.layers
  kms_key_arn                    = var.kms_key_arn
  code_signing_config_arn        = one(compact([var.code_signing_config_arn]))
  environment {
    variables = var.environment
  }
  tracing_config {
    mode = var.tracing_mode
  }
  depends_on = [aws_cloudwatch_log_group.this, aws_iam_role_policy.this]
  tags       = var.tags
}

resource "aws_lambda_function_event_invoke_config" "this" {
  function_name                = aws_lambda_function.this.function_name
  maximum_retry_attempts       = 2
  maximum_event_age_in_seconds = 3600
  destination_config {
    on_failure {
      destination = local.destination
    }
  }
}
