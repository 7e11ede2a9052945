# Who may do what in the pipeline. Test and Package run the repository's code and fetch from PyPI, so
# their roles reach nothing but their own artefacts and logs. Plan reads (the refresh) and takes the state
# lock; Apply changes what the deployment manages. Every action is named (no wildcard actions); resources
# are the deployment's own, by name (var.name-*), wherever the service can scope them.
locals {
  # CodePipeline's artefact objects: <store>/<artefact name>/<id> (the store is the pipeline's name, cut to 20
  # characters; the pattern also matches the whole name).
  store            = "${local.artifacts}/${local.store_prefix}*"
  artifact_objects = { for a in ["source", "package", "plan"] : a => "${local.store}/${a}/*" }
  state_object     = "arn:aws:s3:::${var.state_bucket}/${var.state_key}"
  lock_table_arn   = "arn:aws:dynamodb:${local.region}:${local.account}:table/${var.lock_table}"
  build_logs       = { for stage, _ in local.builds : stage => [aws_cloudwatch_log_group.build[stage].arn, "${aws_cloudwatch_log_group.build[stage].arn}:*"] }

  # What Terraform's AWS provider calls to read (every plan refreshes) and to change (apply) each resource
  # type of terraform/, on this deployment's resources: `types` are the resource types an entry serves
  # (tests/test_delivery_iam.py fails when a managed type of terraform/ has none). The plan role gets every
  # read list; the apply role every read and write list. Apply may change the stores of health data (the
  # key, the buckets, the table) but not delete them: removing them is a deliberate act with an
  # administrator's credentials, not something a merged change can do.
  own     = "${var.name}-*"
  catalog = "arn:aws:glue:${local.region}:${local.account}"
  db      = replace(var.name, "-", "_")
  deploy_permissions = {
    Buckets = {
      types     = ["aws_s3_bucket", "aws_s3_bucket_lifecycle_configuration", "aws_s3_bucket_logging", "aws_s3_bucket_notification", "aws_s3_bucket_ownership_controls", "aws_s3_bucket_policy", "aws_s3_bucket_public_access_block", "aws_s3_bucket_server_side_encryption_configuration", "aws_s3_bucket_versioning"]
      resources = [for b in concat(var.managed_bucket_names, [module.artifacts.bucket]) : "arn:aws:s3:::${b}"]
      read = { actions = [
        "s3:ListBucket", "s3:GetBucketLocation", "s3:GetBucketPolicy", "s3:GetBucketAcl", "s3:GetBucketCORS", "s3:GetBucketWebsite",
        "s3:GetBucketVersioning", "s3:GetAccelerateConfiguration", "s3:GetBucketRequestPayment", "s3:GetBucketLogging",
        "s3:GetLifecycleConfiguration", "s3:GetReplicationConfiguration", "s3:GetEncryptionConfiguration",
        "s3:GetBucketObjectLockConfiguration", "s3:GetBucketTagging", "s3:GetBucketOwnershipControls",
        "s3:GetBucketPublicAccessBlock", "s3:GetBucketNotification",
      ] }
      write = { actions = [
        "s3:CreateBucket", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutBucketVersioning", "s3:PutEncryptionConfiguration",
        "s3:PutLifecycleConfiguration", "s3:PutBucketPublicAccessBlock", "s3:PutBucketOwnershipControls",
        "s3:PutBucketNotification", "s3:PutBucketTagging", "s3:PutBucketLogging", "s3:ListBucketVersions",
      ] }
    }
    Objects = {
      types     = ["aws_s3_object"]
      resources = var.managed_object_arns
      read      = { actions = ["s3:GetObject", "s3:GetObjectTagging"] }
      # Lambda reads a function's package from S3 with the caller's permissions (GetObject, GetObjectVersion).
      write = { actions = ["s3:PutObject", "s3:PutObjectTagging", "s3:GetObjectVersion", "s3:DeleteObject", "s3:DeleteObjectVersion"] }
    }
    Key = {
      types     = ["aws_kms_key"]
      resources = [var.kms_key_arn]
      read      = { actions = ["kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"] }
      write     = { actions = ["kms:PutKeyPolicy", "kms:EnableKeyRotation", "kms:UpdateKeyDescription", "kms:TagResource", "kms:UntagResource"] }
    }
    KeyAlias = {
      types     = ["aws_kms_alias"]
      resources = ["arn:aws:kms:${local.region}:${local.account}:alias/${var.name}", var.kms_key_arn]
      read      = { actions = [] }
      write     = { actions = ["kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias"] }
    }
    ListAliases = {
      types     = ["aws_kms_alias"]
      resources = ["*"] # ListAliases has no resource-level permissions
      read      = { actions = ["kms:ListAliases"] }
      write     = { actions = [] }
    }
    Queues = {
      types     = ["aws_sqs_queue", "aws_sqs_queue_policy"]
      resources = ["arn:aws:sqs:${local.region}:${local.account}:${local.own}"]
      read      = { actions = ["sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ListQueueTags"] }
      write     = { actions = ["sqs:CreateQueue", "sqs:DeleteQueue", "sqs:SetQueueAttributes", "sqs:TagQueue", "sqs:UntagQueue"] }
    }
    Table = {
      types     = ["aws_dynamodb_table"]
      resources = ["arn:aws:dynamodb:${local.region}:${local.account}:table/${var.name}-batches", "arn:aws:dynamodb:${local.region}:${local.account}:table/${var.name}-connections"]
      read      = { actions = ["dynamodb:DescribeTable", "dynamodb:DescribeContinuousBackups", "dynamodb:DescribeTimeToLive", "dynamodb:ListTagsOfResource"] }
      write     = { actions = ["dynamodb:CreateTable", "dynamodb:UpdateTable", "dynamodb:UpdateContinuousBackups", "dynamodb:UpdateTimeToLive", "dynamodb:TagResource", "dynamodb:UntagResource"] }
    }
    Mail = {
      types = ["aws_sesv2_email_identity", "aws_sesv2_configuration_set", "aws_sesv2_configuration_set_event_destination"]
      # Identities are addresses and domains: identity/* keeps a new recipient from needing a policy change first.
      resources = ["arn:aws:ses:${local.region}:${local.account}:identity/*", "arn:aws:ses:${local.region}:${local.account}:configuration-set/${local.own}"]
      read      = { actions = ["ses:GetEmailIdentity", "ses:GetConfigurationSet", "ses:GetConfigurationSetEventDestinations", "ses:ListTagsForResource"] }
      write = { actions = [
        "ses:CreateEmailIdentity", "ses:DeleteEmailIdentity", "ses:PutEmailIdentityConfigurationSetAttributes",
        "ses:CreateConfigurationSet", "ses:DeleteConfigurationSet", "ses:PutConfigurationSetDeliveryOptions",
        "ses:PutConfigurationSetReputationOptions", "ses:PutConfigurationSetSendingOptions",
        "ses:PutConfigurationSetSuppressionOptions", "ses:PutConfigurationSetTrackingOptions",
        "ses:CreateConfigurationSetEventDestination", "ses:UpdateConfigurationSetEventDestination",
        "ses:DeleteConfigurationSetEventDestination", "ses:TagResource", "ses:UntagResource",
      ] }
    }
    Topics = {
      types     = ["aws_sns_topic", "aws_sns_topic_policy", "aws_sns_topic_subscription"]
      resources = ["arn:aws:sns:${local.region}:${local.account}:${local.own}"]
      read      = { actions = ["sns:GetTopicAttributes", "sns:ListTagsForResource", "sns:ListSubscriptionsByTopic"] }
      write     = { actions = ["sns:CreateTopic", "sns:DeleteTopic", "sns:SetTopicAttributes", "sns:Subscribe", "sns:TagResource", "sns:UntagResource"] }
    }
    Subscriptions = {
      types     = ["aws_sns_topic_subscription"]
      resources = ["*"] # subscription actions have no resource-level permissions
      read      = { actions = ["sns:GetSubscriptionAttributes"] }
      write     = { actions = ["sns:SetSubscriptionAttributes", "sns:Unsubscribe"] }
    }
    Catalog = {
      types     = ["aws_glue_catalog_database", "aws_glue_catalog_table"]
      resources = ["${local.catalog}:catalog", "${local.catalog}:database/${local.db}", "${local.catalog}:table/${local.db}/*"]
      read      = { actions = ["glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:GetPartitionIndexes", "glue:GetTags"] }
      write     = { actions = ["glue:CreateDatabase", "glue:UpdateDatabase", "glue:CreateTable", "glue:UpdateTable", "glue:DeleteTable", "glue:TagResource", "glue:UntagResource"] }
    }
    TableOptimizers = {
      types     = ["aws_glue_catalog_table_optimizer"]
      resources = ["${local.catalog}:catalog", "${local.catalog}:database/${local.db}", "${local.catalog}:table/${local.db}/*"]
      read      = { actions = ["glue:GetTableOptimizer"] }
      write     = { actions = ["glue:CreateTableOptimizer", "glue:UpdateTableOptimizer", "glue:DeleteTableOptimizer"] }
    }
    Job = {
      types     = ["aws_glue_job"]
      resources = ["${local.catalog}:job/${local.own}"]
      read      = { actions = ["glue:GetJob", "glue:GetTags"] }
      write     = { actions = ["glue:CreateJob", "glue:UpdateJob", "glue:DeleteJob", "glue:TagResource", "glue:UntagResource"] }
    }
    GlueSecurity = {
      types     = ["aws_glue_security_configuration"]
      resources = ["*"] # security configurations have no ARN
      read      = { actions = ["glue:GetSecurityConfiguration"] }
      write     = { actions = ["glue:CreateSecurityConfiguration", "glue:DeleteSecurityConfiguration"] }
    }
    Roles = {
      types     = ["aws_iam_role", "aws_iam_role_policy", "aws_iam_role_policy_attachment"]
      resources = ["arn:aws:iam::${local.account}:role/${local.own}"]
      read      = { actions = ["iam:GetRole", "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies", "iam:ListRoleTags", "iam:ListInstanceProfilesForRole"] }
      write     = { actions = ["iam:CreateRole", "iam:DeleteRole", "iam:UpdateRole", "iam:UpdateRoleDescription", "iam:UpdateAssumeRolePolicy", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:TagRole", "iam:UntagRole"] }
    }
    Policies = {
      types     = ["aws_iam_policy"]
      resources = ["arn:aws:iam::${local.account}:policy/${local.own}"]
      read      = { actions = ["iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyVersions", "iam:ListPolicyTags"] }
      write     = { actions = ["iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:DeletePolicyVersion", "iam:DeletePolicy", "iam:TagPolicy", "iam:UntagPolicy"] }
    }
    WebSocketApi = {
      types = ["aws_apigatewayv2_api", "aws_apigatewayv2_integration", "aws_apigatewayv2_route", "aws_apigatewayv2_stage"]
      # API Gateway's IAM names HTTP verbs on paths; an API's id is only known once created, so /apis/*.
      resources = ["arn:aws:apigateway:${local.region}::/apis", "arn:aws:apigateway:${local.region}::/apis/*", "arn:aws:apigateway:${local.region}::/tags/*"]
      read      = { actions = ["apigateway:GET"] }
      write     = { actions = ["apigateway:POST", "apigateway:PATCH", "apigateway:PUT", "apigateway:DELETE", "apigateway:TagResource", "apigateway:UntagResource"] }
    }
    Schedules = {
      types     = ["aws_scheduler_schedule"]
      resources = ["arn:aws:scheduler:${local.region}:${local.account}:schedule/default/${local.own}"]
      read      = { actions = ["scheduler:GetSchedule", "scheduler:ListTagsForResource"] }
      write     = { actions = ["scheduler:CreateSchedule", "scheduler:UpdateSchedule", "scheduler:DeleteSchedule", "scheduler:TagResource", "scheduler:UntagResource"] }
    }
    Workgroup = {
      types     = ["aws_athena_workgroup"]
      resources = ["arn:aws:athena:${local.region}:${local.account}:workgroup/${var.name}"]
      read      = { actions = ["athena:GetWorkGroup", "athena:ListTagsForResource"] }
      write     = { actions = ["athena:CreateWorkGroup", "athena:UpdateWorkGroup", "athena:DeleteWorkGroup", "athena:TagResource", "athena:UntagResource"] }
    }
    LogGroups = {
      types     = ["aws_cloudwatch_log_group"]
      resources = [for kind in ["lambda", "codebuild"] : "arn:aws:logs:${local.region}:${local.account}:log-group:/aws/${kind}/${local.own}"]
      read      = { actions = ["logs:ListTagsForResource", "logs:ListTagsLogGroup"] }
      write = { actions = [
        "logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:PutRetentionPolicy", "logs:DeleteRetentionPolicy", "logs:AssociateKmsKey",
        "logs:DisassociateKmsKey", "logs:TagResource", "logs:UntagResource", "logs:TagLogGroup", "logs:UntagLogGroup",
      ] }
    }
    DescribeLogGroups = {
      types     = ["aws_cloudwatch_log_group"]
      resources = ["arn:aws:logs:${local.region}:${local.account}:log-group:*"] # DescribeLogGroups lists the account's groups
      read      = { actions = ["logs:DescribeLogGroups"] }
      write     = { actions = [] }
    }
    Functions = {
      types     = ["aws_lambda_function", "aws_lambda_function_event_invoke_config", "aws_lambda_permission"]
      resources = ["arn:aws:lambda:${local.region}:${local.account}:function:${local.own}"]
      read = { actions = [
        "lambda:GetFunction", "lambda:GetFunctionConfiguration", "lambda:GetFunctionCodeSigningConfig", "lambda:GetFunctionConcurrency",
        "lambda:GetFunctionEventInvokeConfig", "lambda:GetFunctionRecursionConfig", "lambda:GetRuntimeManagementConfig",
        "lambda:GetPolicy", "lambda:ListTags", "lambda:ListVersionsByFunction",
      ] }
      write = { actions = [
        "lambda:CreateFunction", "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration", "lambda:DeleteFunction",
        "lambda:PutFunctionConcurrency", "lambda:DeleteFunctionConcurrency", "lambda:PutFunctionCodeSigningConfig",
        "lambda:DeleteFunctionCodeSigningConfig", "lambda:PutFunctionEventInvokeConfig", "lambda:UpdateFunctionEventInvokeConfig",
        "lambda:DeleteFunctionEventInvokeConfig", "lambda:AddPermission", "lambda:RemovePermission", "lambda:TagResource",
        "lambda:UntagResource",
      ] }
    }
    EventSourceMappings = {
      types     = ["aws_lambda_event_source_mapping"]
      resources = ["arn:aws:lambda:${local.region}:${local.account}:event-source-mapping:*"] # ids are random; changes: ChangeEventSourceMappings
      read      = { actions = ["lambda:GetEventSourceMapping"] }
      write     = { actions = [] }
    }
    Layers = {
      types     = ["aws_lambda_function"]
      resources = can(var.lambda_layer_arns[0]) ? var.lambda_layer_arns : ["arn:aws:lambda:${local.region}:${local.account}:layer:${local.own}"]
      read      = { actions = [] }
      write     = { actions = ["lambda:GetLayerVersion"] }
    }
    Parameters = {
      types     = ["data.aws_ssm_parameter"]
      resources = can(var.read_parameter_arns[0]) ? var.read_parameter_arns : ["arn:aws:ssm:${local.region}:${local.account}:parameter/${var.name}/*"]
      read      = { actions = ["ssm:GetParameter"] }
      write     = { actions = [] }
    }
    Events = {
      types = ["aws_cloudwatch_event_bus", "aws_cloudwatch_event_rule", "aws_cloudwatch_event_target"]
      # The bus, rules on it (rule/<bus>/<rule>) and the deployment's rules on the default bus.
      resources = [for r in ["event-bus/${var.name}", "rule/${var.name}/*", "rule/${local.own}"] : "arn:aws:events:${local.region}:${local.account}:${r}"]
      read      = { actions = ["events:DescribeEventBus", "events:DescribeRule", "events:ListTargetsByRule", "events:ListTagsForResource"] }
      write     = { actions = ["events:CreateEventBus", "events:DeleteEventBus", "events:PutRule", "events:DeleteRule", "events:PutTargets", "events:RemoveTargets", "events:TagResource", "events:UntagResource"] }
    }
    Alarms = {
      types     = ["aws_cloudwatch_metric_alarm"]
      resources = ["arn:aws:cloudwatch:${local.region}:${local.account}:alarm:${local.own}"]
      read      = { actions = ["cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource"] }
      write     = { actions = ["cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:TagResource", "cloudwatch:UntagResource"] }
    }
    Dashboard = {
      types     = ["aws_cloudwatch_dashboard"]
      resources = ["arn:aws:cloudwatch::${local.account}:dashboard/${var.name}"]
      read      = { actions = ["cloudwatch:GetDashboard"] }
      write     = { actions = ["cloudwatch:PutDashboard", "cloudwatch:DeleteDashboards"] }
    }
    Pipeline = {
      types     = ["aws_codepipeline"]
      resources = ["arn:aws:codepipeline:${local.region}:${local.account}:${local.pipeline}"]
      read      = { actions = ["codepipeline:GetPipeline", "codepipeline:ListTagsForResource"] }
      write     = { actions = ["codepipeline:CreatePipeline", "codepipeline:UpdatePipeline", "codepipeline:DeletePipeline", "codepipeline:TagResource", "codepipeline:UntagResource"] }
    }
    Connection = {
      types     = ["aws_codepipeline"]
      resources = [var.connection_arn] # a pipeline using a connection needs PassConnection
      read      = { actions = [] }
      write     = { actions = ["codestar-connections:PassConnection", "codeconnections:PassConnection"] }
    }
    Projects = {
      types     = ["aws_codebuild_project"]
      resources = ["arn:aws:codebuild:${local.region}:${local.account}:project/${local.own}"]
      read      = { actions = ["codebuild:BatchGetProjects"] }
      write     = { actions = ["codebuild:CreateProject", "codebuild:UpdateProject", "codebuild:DeleteProject"] }
    }
  }
  # Managed policies hold at most 6,144 characters: the apply role's lists are split over a few of them.
  deploy_policy_chunks = { for i, names in chunklist(sort(keys(local.deploy_permissions)), 7) : tostring(i) => names }
}

# -- the pipeline --------------------------------------------------------------------------------------
resource "aws_iam_role" "pipeline" {
  name = "${local.pipeline}-pipeline"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "codepipeline.amazonaws.com" }
      Condition = { StringEquals = { "aws:SourceAccount" = local.account } }
    }]
  })
  tags = var.tags
}

data "aws_iam_policy_document" "pipeline" {
  statement {
    sid       = "ArtifactStore"
    actions   = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"]
    resources = ["${local.store}/*"]
  }
  statement {
    sid       = "ArtifactBucket"
    actions   = ["s3:GetBucketVersioning", "s3:GetBucketLocation"]
    resources = [local.artifacts]
  }
  statement {
    sid       = "UseKey" # artefacts, and the approval request on the encrypted topic
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
  statement {
    sid       = "UseConnection"
    actions   = ["codestar-connections:UseConnection", "codeconnections:UseConnection"]
    resources = [var.connection_arn]
  }
  statement {
    sid       = "RunBuilds"
    actions   = ["codebuild:StartBuild", "codebuild:BatchGetBuilds", "codebuild:StopBuild"]
    resources = values(local.project_arns)
  }
  statement {
    sid       = "RequestApproval"
    actions   = ["sns:Publish"]
    resources = [var.alarm_topic_arn]
  }
}

resource "aws_iam_role_policy" "pipeline" {
  name   = "pipeline"
  role   = aws_iam_role.pipeline.id
  policy = data.aws_iam_policy_document.pipeline.json
}

# -- the stages' CodeBuild roles -----------------------------------------------------------------------
resource "aws_iam_role" "build" {
  for_each = local.builds
  name     = "${local.pipeline}-${each.key}"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "codebuild.amazonaws.com" }
      Condition = { StringEquals = { "aws:SourceAccount" = local.account } }
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy" "build" {
  for_each = local.builds
  name     = "stage"
  role     = aws_iam_role.build[each.key].id
  policy = lookup({
    test    = data.aws_iam_policy_document.test.json
    package = data.aws_iam_policy_document.package.json
    plan    = data.aws_iam_policy_document.plan.json
    apply   = data.aws_iam_policy_document.apply.json
  }, each.key)
}

# Runs the repository's tests (and pip): its source artefact and its logs, nothing else.
data "aws_iam_policy_document" "test" {
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
    resources = local.build_logs["test"]
  }
  statement {
    sid       = "ArtifactBucket"
    actions   = ["s3:GetBucketAcl", "s3:GetBucketLocation"]
    resources = [local.artifacts]
  }
  statement {
    sid       = "ReadSource"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = [local.artifact_objects["source"]]
  }
  statement {
    sid       = "UseKey"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
  }
}

# Builds dist/ (pip from PyPI): reads the source, writes the package artefact.
data "aws_iam_policy_document" "package" {
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
    resources = local.build_logs["package"]
  }
  statement {
    sid       = "ArtifactBucket"
    actions   = ["s3:GetBucketAcl", "s3:GetBucketLocation"]
    resources = [local.artifacts]
  }
  statement {
    sid       = "ReadSource"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = [local.artifact_objects["source"]]
  }
  statement {
    sid       = "WritePackage"
    actions   = ["s3:PutObject"]
    resources = [local.artifact_objects["package"]]
  }
  statement {
    sid       = "UseKey"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
}

# terraform plan: reads the state and what it describes, takes the state lock (a write to the lock
# table or lock file, never to the state), writes the plan artefact.
data "aws_iam_policy_document" "plan" {
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
    resources = local.build_logs["plan"]
  }
  statement {
    sid       = "ArtifactBucket"
    actions   = ["s3:GetBucketAcl", "s3:GetBucketLocation"]
    resources = [local.artifacts]
  }
  statement {
    sid       = "ReadSourceAndPackage"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = [local.artifact_objects["source"], local.artifact_objects["package"]]
  }
  statement {
    sid       = "WritePlan"
    actions   = ["s3:PutObject"]
    resources = [local.artifact_objects["plan"]]
  }
  statement {
    sid       = "UseKey"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
  statement {
    sid       = "ListState"
    actions   = ["s3:ListBucket"]
    resources = ["arn:aws:s3:::${var.state_bucket}"]
  }
  statement {
    sid       = "ReadState"
    actions   = ["s3:GetObject"]
    resources = [local.state_object]
  }
  statement {
    sid       = "LockTable"
    actions   = ["dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"]
    resources = [local.lock_table_arn]
  }
  statement {
    sid       = "LockFile" # use_lockfile = true (Terraform 1.10+)
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${local.state_object}.tflock"]
  }
  statement {
    sid       = "StateKey"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
    resources = [var.state_kms_key_arn]
  }
  dynamic "statement" {
    for_each = { for k, v in local.deploy_permissions : k => { actions = v.read.actions, resources = v.resources } if can(v.read.actions[0]) }
    content {
      sid       = "Read${statement.key}"
      actions   = statement.value.actions
      resources = statement.value.resources
    }
  }
}

# terraform apply of the approved plan: writes the state, and changes what the deployment manages. That is
# wide by nature: it creates and changes IAM roles named <name>-* (its own among them) and passes them to
# Lambda, Glue, CodeBuild and CodePipeline, so whoever gets a change merged and approved can give those
# roles any permission. The protections are the review of the change, the approval of its plan, and who
# may approve (codepipeline:PutApprovalResult on the Approve action): see the README.
data "aws_iam_policy_document" "apply" {
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
    resources = local.build_logs["apply"]
  }
  statement {
    sid       = "ArtifactBucket"
    actions   = ["s3:GetBucketAcl", "s3:GetBucketLocation"]
    resources = [local.artifacts]
  }
  statement {
    sid       = "ReadPlan"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = [local.artifact_objects["plan"]]
  }
  statement {
    sid       = "UseKey" # the plan artefact, and the deployment's encrypted objects, variables and tables
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
    resources = [var.kms_key_arn]
  }
  statement {
    sid       = "GrantKeyToServices" # DynamoDB and Lambda take grants on the key they encrypt with
    actions   = ["kms:CreateGrant"]
    resources = [var.kms_key_arn]
    condition {
      test     = "Bool"
      variable = "kms:GrantIsForAWSResource"
      values   = ["true"]
    }
  }
  statement {
    sid       = "ListState"
    actions   = ["s3:ListBucket"]
    resources = ["arn:aws:s3:::${var.state_bucket}"]
  }
  statement {
    sid       = "ReadWriteState"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = [local.state_object]
  }
  statement {
    sid       = "LockTable"
    actions   = ["dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"]
    resources = [local.lock_table_arn]
  }
  statement {
    sid       = "LockFile" # use_lockfile = true (Terraform 1.10+)
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${local.state_object}.tflock"]
  }
  statement {
    sid       = "StateKey"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
    resources = [var.state_kms_key_arn]
  }
  statement {
    sid       = "PassOwnRoles"
    actions   = ["iam:PassRole"]
    resources = ["arn:aws:iam::${local.account}:role/${local.own}"]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["lambda.amazonaws.com", "glue.amazonaws.com", "codebuild.amazonaws.com", "codepipeline.amazonaws.com", "scheduler.amazonaws.com"]
    }
  }
  statement {
    sid       = "AttachOwnPolicies" # only the deployment's own managed policies, never AWS's or others'
    actions   = ["iam:AttachRolePolicy", "iam:DetachRolePolicy"]
    resources = ["arn:aws:iam::${local.account}:role/${local.own}"]
    condition {
      test     = "ArnLike"
      variable = "iam:PolicyARN"
      values   = ["arn:aws:iam::${local.account}:policy/${local.own}"]
    }
  }
  statement {
    sid       = "ChangeEventSourceMappings" # mapping ids are random: scoped to the deployment's functions
    actions   = ["lambda:CreateEventSourceMapping", "lambda:UpdateEventSourceMapping", "lambda:DeleteEventSourceMapping"]
    resources = ["*"]
    condition {
      test     = "ArnLike"
      variable = "lambda:FunctionArn"
      values   = ["arn:aws:lambda:${local.region}:${local.account}:function:${local.own}"]
    }
  }
}

resource "aws_iam_policy" "deploy" {
  for_each = local.deploy_policy_chunks
  name     = "${local.pipeline}-apply-${each.key}"
  # A fixed description: changing it would replace the policy, taking it from the role that is applying.
  description = "What the delivery pipeline's apply stage may read and change (part ${each.key})"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [for k in each.value : {
      Sid      = k
      Effect   = "Allow"
      Action   = concat(local.deploy_permissions[k].read.actions, local.deploy_permissions[k].write.actions)
      Resource = local.deploy_permissions[k].resources
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "deploy" {
  for_each   = local.deploy_policy_chunks
  role       = aws_iam_role.build["apply"].name
  policy_arn = aws_iam_policy.deploy[each.key].arn
}
