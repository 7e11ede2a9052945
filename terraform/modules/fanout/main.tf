# Results fanned out to subscribers: each analysed batch and each daily digest is published with
# the message attributes kind, source, risk_level and has_anomalies, which each subscription's
# filter policy matches (an SQS queue of high-risk batches of one clinic, an on-call SMS for
# digests with anomalies, an HTTPS endpoint for everything...).
resource "aws_sns_topic" "this" {
  name              = var.name
  kms_master_key_id = var.kms_key_arn
  tags              = var.tags
}

resource "aws_sns_topic_subscription" "this" {
  for_each             = { for s in var.subscriptions : s.name => s }
  topic_arn            = aws_sns_topic.this.arn
  protocol             = each.value.protocol
  endpoint             = each.value.endpoint
  filter_policy        = each.value.filter_policy
  raw_message_delivery = each.value.raw_message_delivery
}
