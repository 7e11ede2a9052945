# The workgroup users and the analyze Lambda query in: encryption enforced, scans capped.
resource "aws_athena_workgroup" "this" {
  name          = var.name
  force_destroy = var.force_destroy
  configuration {
    enforce_workgroup_configuration    = true
    publish_cloudwatch_metrics_enabled = true
    bytes_scanned_cutoff_per_query     = var.bytes_scanned_cutoff
    engine_version {
      selected_engine_version = "Athena engine version 3"
    }
    result_configuration {
      output_location = "s3://${var.results_bucket}/${var.results_prefix}"
      encryption_configuration {
        encryption_option = "SSE_KMS"
        kms_key_arn       = var.kms_key_arn
      }
    }
  }
  tags = var.tags
}
