#!/usr/bin/env bash
# The remote state's settings for `terraform init -backend-config` (terraform/backend.hcl), written from the
# plan and apply projects' environment, which modules/delivery sets from the same variables as backend.hcl.
# Usage: scripts/codebuild/backend-config.sh > terraform/backend.hcl
set -euo pipefail
cat <<HCL
bucket         = "${TF_STATE_BUCKET:?}"
key            = "${TF_STATE_KEY:?}"
region         = "${AWS_REGION:?}"
dynamodb_table = "${TF_STATE_LOCK_TABLE:?}"
encrypt        = true
kms_key_id     = "${TF_STATE_KMS_KEY_ARN:?}"
HCL
