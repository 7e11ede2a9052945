# The bus between stages, and the rules that route each event to the next stage and to SNS.
resource "aws_cloudwatch_event_bus" "this" {
  name = var.name
  tags = var.tags
}

resource "aws_sqs_queue" "dlq" {
  name                      = "${var.name}-events-dlq"
  kms_master_key_id         = var.kms_key_arn
  message_retention_seconds = 1209600
  tags                      = var.tags
}

data "aws_iam_policy_document" "dlq" {
  statement {
    sid       = "EventBridgeDeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dlq.arn]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
  }
}

resource "aws_sqs_queue_policy" "dlq" {
  queue_url = aws_sqs_queue.dlq.id
  policy    = data.aws_iam_policy_document.dlq.json
}

locals {
  rules = {
    analyze = {
      bus     = aws_cloudwatch_event_bus.this.name
      pattern = { source = ["vitalflow"], "detail-type" = ["BatchValidated"] }
      target  = var.analyze_function_arn
    }
    notify = {
      bus     = aws_cloudwatch_event_bus.this.name
      pattern = { source = ["vitalflow"], "detail-type" = ["BatchAnalyzed", "BatchFailed"] }
      target  = var.notify_function_arn
    }
    job-failed = {
      bus = "default"
      pattern = {
        source        = ["aws.glue"]
        "detail-type" = ["Glue Job State Change"]
        detail        = { jobName = compact([var.glue_job_name, var.spark_job_name]), state = ["FAILED", "TIMEOUT", "STOPPED"] }
      }
      target = var.notify_function_arn
    }
    # The analyze function's on-failure destination is this bus: once its retries are spent, the
    # failure record (with the original event) becomes an alert for the batch.
    analyze-failed = {
      bus = aws_cloudwatch_event_bus.this.name
      pattern = {
        source        = ["lambda"]
        "detail-type" = ["Lambda Function Invocation Result - Failure"]
        resources     = [{ prefix = var.analyze_function_arn }]
      }
      target = var.notify_function_arn
    }
  }
}

resource "aws_cloudwatch_event_rule" "this" {
  for_each       = local.rules
  name           = "${var.name}-${each.key}"
  event_bus_name = each.value.bus
  event_pattern  = jsonencode(each.value.pattern)
  tags           = var.tags
}

resource "aws_cloudwatch_event_target" "lambda" {
  for_each       = local.rules
  rule           = aws_cloudwatch_event_rule.this[each.key].name
  event_bus_name = each.value.bus
  arn            = each.value.target
  retry_policy {
    maximum_retry_attempts       = 8
    maximum_event_age_in_seconds = 86400
  }
  dead_letter_config {
    arn = aws_sqs_queue.dlq.arn
  }
}

resource "aws_lambda_permission" "events" {
  for_each      = local.rules
  statement_id  = "events-${each.key}"
  action        = "lambda:InvokeFunction"
  function_name = each.value.target
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.this[each.key].arn
}

resource "aws_cloudwatch_event_rule" "to_sns" {
  name           = "${var.name}-to-sns"
  event_bus_name = aws_cloudwatch_event_bus.this.name
  event_pattern  = jsonencode({ source = ["vitalflow", "lambda"] })
  tags           = var.tags
}

resource "aws_cloudwatch_event_target" "sns" {
  rule           = aws_cloudwatch_event_rule.to_sns.name
  event_bus_name = aws_cloudwatch_event_bus.this.name
  arn            = var.sns_topic_arn
  retry_policy {
    maximum_retry_attempts       = 8
    maximum_event_age_in_seconds = 86400
  }
  dead_letter_config {
    arn = aws_sqs_queue.dlq.arn
  }
}
