# One item per batch: pipeline state (conditional step attributes) and the analysis record.
resource "aws_dynamodb_table" "this" {
  name         = var.name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "batch_id"
  attribute {
    name = "batch_id"
    type = "S"
  }
  point_in_time_recovery {
    enabled = true
  }
  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }
  deletion_protection_enabled = var.deletion_protection
  tags                        = var.tags
}
