# The daily digest: an EventBridge Scheduler schedule invokes the digest function, which judges the
# ingestion day before the scheduled time (UTC). The scheduled time is passed in the input, so a
# retried or replayed invocation digests the same day, and the function sends it once.
data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [var.account_id]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = "${var.name}-scheduler"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "invoke" {
  statement {
    sid       = "InvokeDigest"
    actions   = ["lambda:InvokeFunction"]
    resources = [var.function_arn]
  }
  statement {
    sid       = "ReadEncryptedInput"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "invoke" {
  name   = "invoke-digest"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.invoke.json
}

resource "aws_scheduler_schedule" "this" {
  name                         = var.name
  schedule_expression          = var.schedule_expression
  schedule_expression_timezone = var.timezone
  kms_key_arn                  = var.kms_key_arn
  flexible_time_window {
    mode = "OFF"
  }
  target {
    arn      = var.function_arn
    role_arn = aws_iam_role.this.arn
    input    = jsonencode({ scheduled_time = "<aws.scheduler.scheduled-time>" })
    retry_policy {
      maximum_event_age_in_seconds = 21600
      maximum_retry_attempts       = 10
    }
  }
}
