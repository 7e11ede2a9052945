# Once per account, before the main configuration: where Terraform keeps the state of terraform/ and
# its lock, so that every person and the delivery pipeline plan and apply against one state.
#
# The bucket is the project's storage module: private (public access blocked, owner-enforced), versioned,
# SSE-KMS with its own key, TLS-only and refusing uploads not encrypted with KMS; noncurrent versions
# (every apply leaves one) expire after noncurrent_version_days. The lock table has point-in-time
# recovery, the same key and deletion protection.
module "key" {
  source = "../modules/kms"
  name   = "${var.name}-tfstate"
}

module "state_bucket" {
  source                  = "../modules/storage"
  name                    = var.state_bucket_name
  kms_key_arn             = module.key.key_arn
  noncurrent_version_days = var.noncurrent_version_days
}

# Terraform's S3 backend locks through this table (dynamodb_table in backend.hcl). Terraform 1.10+ can
# lock with a lock file in the bucket instead (use_lockfile = true); the pipeline's roles allow both.
resource "aws_dynamodb_table" "lock" {
  name         = "${var.name}-tfstate-lock"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "LockID"
  attribute {
    name = "LockID"
    type = "S"
  }
  point_in_time_recovery {
    enabled = true
  }
  server_side_encryption {
    enabled     = true
    kms_key_arn = module.key.key_arn
  }
  deletion_protection_enabled = true
}
