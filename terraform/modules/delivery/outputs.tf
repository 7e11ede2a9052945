output "pipeline_name" {
  description = "The delivery pipeline."
  value       = aws_codepipeline.this.name
}

output "pipeline_arn" {
  description = "ARN of the delivery pipeline."
  value       = aws_codepipeline.this.arn
}

output "approval_action_arn" {
  description = "The manual approval: whoever may approve a plan needs codepipeline:PutApprovalResult on this ARN."
  value       = "${aws_codepipeline.this.arn}/Approve/Approve"
}

output "artifact_bucket" {
  description = "Bucket holding the pipeline's artefacts (source, packages, saved plans)."
  value       = module.artifacts.bucket
}

output "project_names" {
  description = "CodeBuild project of each stage (test, package, plan, apply)."
  value       = { for stage, project in aws_codebuild_project.this : stage => project.name }
}

output "role_arns" {
  description = "IAM role of the pipeline and of each stage's CodeBuild project."
  value       = merge({ pipeline = aws_iam_role.pipeline.arn }, { for stage, role in aws_iam_role.build : stage => role.arn })
}
