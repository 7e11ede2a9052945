# Where reports go: the SES sender identity (and, while the account is in the SES sandbox, the
# recipients' identities), a configuration set whose bounces and complaints reach the SNS topic, and
# that topic for other subscribers and alarms.
data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  identity_prefix = "arn:aws:ses:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:identity/"
  sender_domain   = regex("[^@]+$", var.sender)
}

resource "aws_sesv2_email_identity" "sender" {
  email_identity         = var.sender
  configuration_set_name = aws_sesv2_configuration_set.this.configuration_set_name
  tags                   = var.tags
}

# In the sandbox SES delivers only to verified addresses: each recipient gets a verification email.
resource "aws_sesv2_email_identity" "recipient" {
  for_each       = setsubtract(var.recipients, [var.sender])
  email_identity = each.value
  tags           = var.tags
}

resource "aws_sesv2_configuration_set" "this" {
  configuration_set_name = "${var.name}-reports"
  delivery_options {
    tls_policy = "REQUIRE"
  }
  reputation_options {
    reputation_metrics_enabled = true
  }
  sending_options {
    sending_enabled = true
  }
  tags = var.tags
}

resource "aws_sesv2_configuration_set_event_destination" "sns" {
  configuration_set_name = aws_sesv2_configuration_set.this.configuration_set_name
  event_destination_name = "bounces-and-complaints"
  event_destination {
    enabled              = true
    matching_event_types = ["BOUNCE", "COMPLAINT", "REJECT", "RENDERING_FAILURE"]
    sns_destination {
      topic_arn = aws_sns_topic.this.arn
    }
  }
  depends_on = [aws_sns_topic_policy.this]
}

resource "aws_sns_topic" "this" {
  name              = var.topic_name
  kms_master_key_id = var.kms_key_arn
  tags              = var.tags
}

data "aws_iam_policy_document" "topic" {
  statement {
    sid       = "EventsAndAlarmsPublish"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.this.arn]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com", "cloudwatch.amazonaws.com"]
    }
  }
  statement {
    sid       = "SesPublishesBouncesAndComplaints"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.this.arn]
    principals {
      type        = "Service"
      identifiers = ["ses.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_sns_topic_policy" "this" {
  arn    = aws_sns_topic.this.arn
  policy = data.aws_iam_policy_document.topic.json
}

resource "aws_sns_topic_subscription" "email" {
  for_each  = toset(var.subscribers)
  topic_arn = aws_sns_topic.this.arn
  protocol  = "email"
  endpoint  = each.value
}
