# The live dashboard: a WebSocket API whose $connect only listed principals may call (IAM), a table of
# open connections (TTL), the pipeline's events routed to the function that posts them, the page and
# its state beside Data Docs, and alarms on the parts a viewer cannot see failing.
locals {
  stage         = "live"
  connect_arn   = "${aws_apigatewayv2_api.this.execution_arn}/${local.stage}/$connect"
  page_prefix   = "docs/dashboard/"
  shown_events  = ["BatchValidating", "BatchValidated", "BatchAnalyzed", "BatchEmailed", "BatchFailed"]
  empty_state   = { batches = [], trends = { days = 30, since = "", sources = {}, quiet = [] } }
  viewer_count  = min(length(var.viewer_arns), 1)
  websocket_url = "wss://${aws_apigatewayv2_api.this.id}.execute-api.${var.region}.amazonaws.com/${local.stage}"
}

resource "aws_apigatewayv2_api" "this" {
  name                       = var.name
  protocol_type              = "WEBSOCKET"
  route_selection_expression = "$request.body.action"
  tags                       = var.tags
}

resource "aws_apigatewayv2_integration" "function" {
  api_id             = aws_apigatewayv2_api.this.id
  integration_type   = "AWS_PROXY"
  integration_uri    = var.function_invoke_arn
  integration_method = "POST"
}

resource "aws_apigatewayv2_route" "connect" {
  api_id             = aws_apigatewayv2_api.this.id
  route_key          = "$connect"
  authorization_type = "AWS_IAM" # only principals allowed execute-api:Invoke on $connect (the viewer role)
  target             = "integrations/${aws_apigatewayv2_integration.function.id}"
}

resource "aws_apigatewayv2_route" "disconnect" {
  # checkov:skip=CKV_AWS_309:API Gateway authorises a websocket once, on $connect; $disconnect takes no authorizer.
  api_id    = aws_apigatewayv2_api.this.id
  route_key = "$disconnect"
  target    = "integrations/${aws_apigatewayv2_integration.function.id}"
}

resource "aws_apigatewayv2_stage" "live" {
  # checkov:skip=CKV_AWS_76:WebSocket access logs need the account-wide API Gateway CloudWatch role, which this stack does not own; failures are alarmed (IntegrationError) and the function logs every event.
  # checkov:skip=CKV2_AWS_51:Client certificates authenticate API Gateway to an HTTP backend; this API's only backend is a Lambda integration, and callers are authorised by IAM.
  api_id      = aws_apigatewayv2_api.this.id
  name        = local.stage
  auto_deploy = true
  default_route_settings {
    throttling_burst_limit = 50
    throttling_rate_limit  = 20
  }
  tags = var.tags
}

resource "aws_lambda_permission" "api" {
  statement_id  = "websocket"
  action        = "lambda:InvokeFunction"
  function_name = var.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.this.execution_arn}/${local.stage}/*"
}

resource "aws_dynamodb_table" "connections" {
  name         = var.connections_table_name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "connection_id"
  attribute {
    name = "connection_id"
    type = "S"
  }
  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }
  point_in_time_recovery {
    enabled = true
  }
  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }
  tags = var.tags
}

resource "aws_cloudwatch_event_rule" "events" {
  name           = "${var.name}-events"
  event_bus_name = var.event_bus_name
  event_pattern  = jsonencode({ source = ["vitalflow"], "detail-type" = local.shown_events })
  tags           = var.tags
}

resource "aws_cloudwatch_event_target" "function" {
  rule           = aws_cloudwatch_event_rule.events.name
  event_bus_name = var.event_bus_name
  arn            = var.function_arn
  retry_policy { # a screen is live or it is not: an event older than 5 minutes is not worth showing
    maximum_retry_attempts       = 3
    maximum_event_age_in_seconds = 300
  }
}

resource "aws_lambda_permission" "events" {
  statement_id  = "events-live"
  action        = "lambda:InvokeFunction"
  function_name = var.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.events.arn
}

# The principals the deployer lists assume this role to connect (a SigV4-signed wss:// URL).
resource "aws_iam_role" "viewer" {
  count = local.viewer_count
  name  = "${var.name}-viewer"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { AWS = var.viewer_arns } }]
  })
  tags = var.tags
}

data "aws_iam_policy_document" "viewer" {
  statement {
    sid       = "ConnectToTheDashboard"
    actions   = ["execute-api:Invoke"]
    resources = [local.connect_arn]
  }
}

resource "aws_iam_role_policy" "viewer" {
  count  = local.viewer_count
  name   = "${var.name}-viewer"
  role   = aws_iam_role.viewer[0].id
  policy = data.aws_iam_policy_document.viewer.json
}

# The page beside Data Docs (same bucket, same readers); the function keeps state.json current.
resource "aws_s3_object" "page" {
  bucket       = var.docs_bucket
  key          = "${local.page_prefix}index.html"
  source       = var.page_path
  source_hash  = filemd5(var.page_path)
  content_type = "text/html; charset=utf-8"
  kms_key_id   = var.kms_key_arn
}

resource "aws_s3_object" "config" {
  bucket       = var.docs_bucket
  key          = "${local.page_prefix}dashboard-config.json"
  content      = jsonencode({ state = "state.json", ws = local.websocket_url, docs = "../validations/{batch_id}.html", report = "../reports/{batch_id}.html" })
  content_type = "application/json"
  kms_key_id   = var.kms_key_arn
}

resource "aws_s3_object" "state" {
  bucket       = var.docs_bucket
  key          = "${local.page_prefix}state.json"
  content      = jsonencode(local.empty_state)
  content_type = "application/json"
  kms_key_id   = var.kms_key_arn
  lifecycle {
    ignore_changes = [content, etag] # the function rewrites it on every event
  }
}

resource "aws_cloudwatch_metric_alarm" "integration_errors" {
  alarm_name          = "${var.name}-websocket-errors"
  alarm_description   = "The websocket API could not reach the function ($connect or $disconnect failed)."
  namespace           = "AWS/ApiGateway"
  metric_name         = "IntegrationError"
  dimensions          = { ApiId = aws_apigatewayv2_api.this.id, Stage = local.stage }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "undelivered" {
  alarm_name          = "${var.name}-events-undelivered"
  alarm_description   = "EventBridge could not invoke the live function: screens miss pipeline events."
  namespace           = "AWS/Events"
  metric_name         = "FailedInvocations"
  dimensions          = { EventBusName = var.event_bus_name, RuleName = aws_cloudwatch_event_rule.events.name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
  tags                = var.tags
}
