output "state_bucket" {
  description = "Bucket holding Terraform's state."
  value       = module.state_bucket.bucket
}

output "lock_table" {
  description = "DynamoDB table holding Terraform's state lock."
  value       = aws_dynamodb_table.lock.name
}

output "kms_key_arn" {
  description = "KMS key encrypting the state and the lock table."
  value       = module.key.key_arn
}

output "backend_config" {
  description = "The main configuration's backend settings: terraform output -raw backend_config > ../backend.hcl"
  value       = <<-EOT
    bucket         = "${module.state_bucket.bucket}"
    key            = "${var.state_key}"
    region         = "${var.region}"
    dynamodb_table = "${aws_dynamodb_table.lock.name}"
    encrypt        = true
    kms_key_id     = "${module.key.key_arn}"
  EOT
}

output "delivery_variables" {
  description = "The same values for the delivery pipeline's variables (terraform.tfvars), so its plan and apply use this state."
  value       = <<-EOT
    state_bucket_name = "${module.state_bucket.bucket}"
    state_key         = "${var.state_key}"
    state_lock_table  = "${aws_dynamodb_table.lock.name}"
    state_kms_key_arn = "${module.key.key_arn}"
  EOT
}
