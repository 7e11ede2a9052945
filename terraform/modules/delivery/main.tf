# Continuous delivery: a push to the branch runs CodePipeline (V2)
#   Source  -> the repository through a CodeConnections connection
#   Build   -> Test (make test) then Package (make package: dist/)
#   Plan    -> make plan on the remote state; the saved plan is the stage's artefact
#   Approve -> a person reads the plan and approves (the request goes to the alarm topic)
#   Apply   -> make apply of exactly that saved plan (its sha256 is checked against the approved one)
# Each stage is a CodeBuild project with its own role (iam.tf) running buildspec/<stage>.yml, which calls
# the same make targets a developer runs. A failed stage is published to the alarm topic.
data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  account  = data.aws_caller_identity.current.account_id
  region   = data.aws_region.current.name
  pipeline = "${var.name}-delivery"
  # CodePipeline keeps an artefact at <first 20 characters of the pipeline's name>/<artefact>/<id>.
  store_prefix = substr(local.pipeline, 0, 20)
  artifacts    = module.artifacts.arn

  state = merge(
    {
      TF_STATE_BUCKET      = var.state_bucket
      TF_STATE_KEY         = var.state_key
      TF_STATE_LOCK_TABLE  = var.lock_table
      TF_STATE_KMS_KEY_ARN = var.state_kms_key_arn
      TF_IN_AUTOMATION     = "1"
    },
    { for k, v in { TFVARS = var.tfvars_file } : k => v if can(regex(".", v)) }, # make plan's TFVARS, when set
  )
  # One CodeBuild project per stage: its buildspec, the artefacts it reads and writes, its settings.
  builds = {
    test = {
      description = "make test: the test suite on Python 3.11, the Glue job's tests on 3.9, ruff and mypy"
      compute     = var.test_compute_type
      timeout     = 90
      inputs      = ["source"]
      output      = ""
      environment = { CI = "true" } # a test that cannot run (no browser) fails instead of skipping
    }
    package = {
      description = "make package: the Lambda packages and the Glue job's wheelhouse (dist/)"
      compute     = var.test_compute_type
      timeout     = 60
      inputs      = ["source"]
      output      = "package"
      environment = {}
    }
    plan = {
      description = "make plan on the remote state; the saved plan is this stage's artefact"
      compute     = var.terraform_compute_type
      timeout     = 60
      inputs      = ["source", "package"]
      output      = "plan"
      environment = local.state
    }
    apply = {
      description = "make apply of exactly the approved plan"
      compute     = var.terraform_compute_type
      timeout     = 120
      inputs      = ["plan"]
      output      = ""
      environment = local.state
    }
  }
  project_arns = { for stage, _ in local.builds : stage => "arn:aws:codebuild:${local.region}:${local.account}:project/${local.pipeline}-${stage}" }
}

# The artefact store: the project's private, versioned, KMS-encrypted, TLS-only bucket. Everything in it
# can be rebuilt from the repository, so it expires, and it is emptied when the pipeline is removed.
module "artifacts" {
  source                  = "../storage"
  name                    = "${local.pipeline}-${local.account}-${local.region}"
  kms_key_arn             = var.kms_key_arn
  expire_prefixes         = { "" = var.artifact_retention_days }
  noncurrent_version_days = 7
  force_destroy           = true
  tags                    = var.tags
}

resource "aws_cloudwatch_log_group" "build" {
  for_each          = local.builds
  name              = "/aws/codebuild/${local.pipeline}-${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_codebuild_project" "this" {
  for_each       = local.builds
  name           = "${local.pipeline}-${each.key}"
  description    = each.value.description
  service_role   = aws_iam_role.build[each.key].arn
  build_timeout  = each.value.timeout
  queued_timeout = 480
  encryption_key = var.kms_key_arn # the outputs it hands back to the pipeline
  artifacts {
    type = "CODEPIPELINE"
  }
  source {
    type      = "CODEPIPELINE"
    buildspec = "buildspec/${each.key}.yml"
  }
  environment {
    type                        = "LINUX_CONTAINER"
    image                       = var.build_image
    compute_type                = each.value.compute
    image_pull_credentials_type = "CODEBUILD"
    privileged_mode             = false
    dynamic "environment_variable" {
      for_each = each.value.environment
      content {
        name  = environment_variable.key
        value = environment_variable.value
        type  = "PLAINTEXT"
      }
    }
  }
  logs_config {
    cloudwatch_logs {
      status     = "ENABLED"
      group_name = aws_cloudwatch_log_group.build[each.key].name
    }
    s3_logs {
      status = "DISABLED"
    }
  }
  tags       = var.tags
  depends_on = [aws_iam_role_policy.build]
}

resource "aws_codepipeline" "this" {
  name           = local.pipeline
  role_arn       = aws_iam_role.pipeline.arn
  pipeline_type  = "V2"
  execution_mode = var.execution_mode
  artifact_store {
    type     = "S3"
    location = module.artifacts.bucket
    encryption_key {
      id   = var.kms_key_arn
      type = "KMS"
    }
  }

  stage {
    name = "Source"
    action {
      name             = "Source"
      category         = "Source"
      owner            = "AWS"
      provider         = "CodeStarSourceConnection"
      version          = "1"
      namespace        = "SourceVariables"
      output_artifacts = ["source"]
      configuration = {
        ConnectionArn        = var.connection_arn
        FullRepositoryId     = var.repository
        BranchName           = var.branch
        DetectChanges        = "true" # a push to the branch starts an execution
        OutputArtifactFormat = "CODE_ZIP"
      }
    }
  }

  stage {
    name = "Build"
    action {
      name            = "Test"
      category        = "Build"
      owner           = "AWS"
      provider        = "CodeBuild"
      version         = "1"
      run_order       = 1
      input_artifacts = ["source"]
      configuration   = { ProjectName = aws_codebuild_project.this["test"].name }
    }
    action {
      name             = "Package"
      category         = "Build"
      owner            = "AWS"
      provider         = "CodeBuild"
      version          = "1"
      run_order        = 2 # only what passed the tests is packaged
      input_artifacts  = ["source"]
      output_artifacts = ["package"]
      configuration    = { ProjectName = aws_codebuild_project.this["package"].name }
    }
  }

  stage {
    name = "Plan"
    action {
      name             = "Plan"
      category         = "Build"
      owner            = "AWS"
      provider         = "CodeBuild"
      version          = "1"
      namespace        = "Plan"
      input_artifacts  = ["source", "package"]
      output_artifacts = ["plan"]
      configuration = {
        ProjectName   = aws_codebuild_project.this["plan"].name
        PrimarySource = "source"
      }
    }
  }

  stage {
    name = "Approve"
    action {
      name     = "Approve"
      category = "Approval"
      owner    = "AWS"
      provider = "Manual"
      version  = "1"
      configuration = {
        NotificationArn = var.alarm_topic_arn
        # The plan's log (its changes and sha256) is the build's page; the link is the pipeline's (a fixed URL).
        ExternalEntityLink = "https://${local.region}.console.aws.amazon.com/codesuite/codepipeline/pipelines/${local.pipeline}/view?region=${local.region}"
        CustomData         = "Commit #{SourceVariables.CommitId}: #{Plan.PLAN_SUMMARY} Read the plan before approving: #{Plan.PLAN_LOG_URL} (Apply applies exactly that plan)"
      }
    }
  }

  stage {
    name = "Apply"
    action {
      name            = "Apply"
      category        = "Build"
      owner           = "AWS"
      provider        = "CodeBuild"
      version         = "1"
      input_artifacts = ["plan"]
      configuration = {
        ProjectName = aws_codebuild_project.this["apply"].name
        # The approved plan's digest: buildspec/apply.yml refuses any other plan file.
        EnvironmentVariables = jsonencode([{ name = "APPROVED_PLAN_SHA256", value = "#{Plan.PLAN_SHA256}", type = "PLAINTEXT" }])
      }
    }
  }

  tags       = var.tags
  depends_on = [aws_iam_role_policy.pipeline]
}

# A failed stage (tests, packaging, plan, a rejected or expired approval, apply) reaches the alarm
# subscribers, naming the stage and linking the execution.
resource "aws_cloudwatch_event_rule" "stage_failed" {
  name        = "${local.pipeline}-stage-failed"
  description = "A stage of the ${local.pipeline} pipeline failed."
  event_pattern = jsonencode({
    source        = ["aws.codepipeline"]
    "detail-type" = ["CodePipeline Stage Execution State Change"]
    detail        = { pipeline = [local.pipeline], state = ["FAILED"] }
  })
  tags = var.tags
}

resource "aws_cloudwatch_event_target" "stage_failed" {
  rule = aws_cloudwatch_event_rule.stage_failed.name
  arn  = var.alarm_topic_arn
  input_transformer {
    input_paths = {
      pipeline  = "$.detail.pipeline"
      stage     = "$.detail.stage"
      execution = "$.detail.execution-id"
      time      = "$.time"
      region    = "$.region"
    }
    input_template = "\"vitalflow delivery: the <stage> stage of pipeline <pipeline> failed at <time> (execution <execution>). https://<region>.console.aws.amazon.com/codesuite/codepipeline/pipelines/<pipeline>/executions/<execution>/timeline?region=<region>\""
  }
  retry_policy {
    maximum_retry_attempts       = 8
    maximum_event_age_in_seconds = 86400
  }
  dead_letter_config {
    arn = aws_sqs_queue.alerts_dlq.arn
  }
}

# Alerts EventBridge could not deliver (e.g. the topic's key refused it) wait here, and an alarm says so.
resource "aws_sqs_queue" "alerts_dlq" {
  name                      = "${local.pipeline}-alerts-dlq"
  kms_master_key_id         = var.kms_key_arn
  message_retention_seconds = 1209600
  tags                      = var.tags
}

data "aws_iam_policy_document" "alerts_dlq" {
  statement {
    sid       = "EventBridgeDeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.alerts_dlq.arn]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.stage_failed.arn]
    }
  }
}

resource "aws_sqs_queue_policy" "alerts_dlq" {
  queue_url = aws_sqs_queue.alerts_dlq.id
  policy    = data.aws_iam_policy_document.alerts_dlq.json
}

resource "aws_cloudwatch_metric_alarm" "alerts_dlq" {
  alarm_name          = "${aws_sqs_queue.alerts_dlq.name}-not-empty"
  alarm_description   = "A failed-stage alert of the delivery pipeline could not be delivered: check the pipeline's executions."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.alerts_dlq.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
  tags                = var.tags
}
