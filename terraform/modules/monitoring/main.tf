# Alarms (to SNS) and one dashboard: failed jobs, Lambda errors, dead letters, reject rate, cost.
locals {
  dlq_alarms = { for q in var.dlq_names : q => q }
}

resource "aws_cloudwatch_metric_alarm" "job_failed" {
  alarm_name          = "${var.name}-validation-job-failed"
  alarm_description   = "A validation run ended FAILED, TIMEOUT or STOPPED (the batch is not committed; rerun it)."
  namespace           = "AWS/Events"
  metric_name         = "MatchedEvents"
  dimensions          = { RuleName = var.job_failed_rule_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "lambda_errors" {
  for_each            = toset(var.function_names)
  alarm_name          = "${each.value}-errors"
  alarm_description   = "The function raised; its event is retried and then dead-lettered."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = each.value }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "dlq_depth" {
  for_each            = local.dlq_alarms
  alarm_name          = "${each.value}-not-empty"
  alarm_description   = "Messages are waiting in ${each.value}: work that was not done. Fix the cause, then ${lookup(var.redrive_commands, each.value, "redrive them")}."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = each.value }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "reject_rate" {
  alarm_name          = "${var.name}-reject-rate"
  alarm_description   = "A batch rejected more than ${var.reject_rate_threshold}% of its rows: check the source export."
  namespace           = "vitalflow"
  metric_name         = "RejectRate"
  dimensions          = { service = var.service_name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.reject_rate_threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "analyst_fallback" {
  alarm_name          = "${var.name}-bedrock-fallback"
  alarm_description   = "Bedrock failed for a batch and the rules analyst wrote its analysis (model access, quota or region): check the analyze function's logs."
  namespace           = "vitalflow"
  metric_name         = "AnalystFallback"
  dimensions          = { service = var.service_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
  tags                = var.tags
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name
  dashboard_body = jsonencode({
    widgets = [
      {
        type = "metric", x = 0, y = 0, width = 12, height = 6
        properties = {
          title   = "Rows per batch", region = var.region, stat = "Sum", period = 3600
          metrics = [for m in ["RowsIn", "RowsProcessed", "RowsRejected"] : ["vitalflow", m, "service", var.service_name]]
        }
      },
      {
        type = "metric", x = 12, y = 0, width = 12, height = 6
        properties = {
          title   = "Reject rate (%)", region = var.region, stat = "Maximum", period = 3600
          metrics = [["vitalflow", "RejectRate", "service", var.service_name]]
        }
      },
      {
        type = "metric", x = 0, y = 6, width = 12, height = 6
        properties = {
          title   = "Lambda errors", region = var.region, stat = "Sum", period = 300
          metrics = [for f in var.function_names : ["AWS/Lambda", "Errors", "FunctionName", f]]
        }
      },
      {
        type = "metric", x = 12, y = 6, width = 12, height = 6
        properties = {
          title   = "Bedrock tokens and cost (USD)", region = var.region, stat = "Sum", period = 3600
          metrics = [["vitalflow", "BedrockTokens", "service", var.service_name], ["vitalflow", "BedrockCostUSD", "service", var.service_name]]
        }
      },
    ]
  })
}
