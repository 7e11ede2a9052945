# vitalflow on AWS: an upload under raw/ becomes an email without anyone touching it.
data "aws_caller_identity" "current" {}

locals {
  account       = data.aws_caller_identity.current.account_id
  data_arn      = "arn:aws:s3:::${var.data_bucket_name}"
  docs_arn      = "arn:aws:s3:::${var.docs_bucket_name}"
  table_name    = "${var.name}-batches"
  table_arn     = "arn:aws:dynamodb:${var.region}:${local.account}:table/${local.table_name}"
  job_name      = "${var.name}-validate"
  spark_job     = "${var.name}-validate-spark"
  bus_name      = var.name
  workgroup     = var.name
  workgroup_arn = "arn:aws:athena:${var.region}:${local.account}:workgroup/${local.workgroup}"
  database      = replace(var.name, "-", "_")
  catalog_arns  = ["arn:aws:glue:${var.region}:${local.account}:catalog", "arn:aws:glue:${var.region}:${local.account}:database/${local.database}", "arn:aws:glue:${var.region}:${local.account}:table/${local.database}/*"]
  # Bedrock: a base model id ("amazon.nova-lite-v1:0") is invoked in this region; an inference profile
  # id ("us.amazon.nova-lite-v1:0") needs IAM on the profile and on the model in every region it routes to.
  model_arns = try(
    [
      "arn:aws:bedrock:${var.region}:${local.account}:inference-profile/${var.bedrock_model_id}",
      "arn:aws:bedrock:*::foundation-model/${regex("^(?:us|eu|apac|us-gov|ca|jp|au|global)\\.(.+)$", var.bedrock_model_id)[0]}",
    ],
    ["arn:aws:bedrock:${var.region}::foundation-model/${var.bedrock_model_id}"],
  )
  script_key     = "artifacts/validate_batch.py"
  functions      = ["start_validation", "analyze", "notify", "digest", "live"]
  lake_columns   = { for c in ["event_time:timestamp", "user_id:string", "heart_rate:int", "spo2:int", "steps:int", "temp_c:double", "systolic_bp:int", "diastolic_bp:int"] : split(":", c)[0] => split(":", c)[1] }
  lineage        = [{ name = "batch_id", type = "string" }, { name = "source_line", type = "bigint" }, { name = "ingested_at", type = "timestamp" }]
  processed_cols = concat([for n, t in local.lake_columns : { name = n, type = t }], local.lineage)
  rejected_cols  = concat([for n, t in local.lake_columns : { name = n, type = "string" }], [{ name = "raw_line", type = "string" }, { name = "reasons", type = "array<string>" }], local.lineage)
  commit_cols    = [for c in ["batch_id:string", "committed_at:timestamp", "rows_processed:bigint", "rows_rejected:bigint", "source:string", "rows_replaced:bigint"] : { name = split(":", c)[0], type = split(":", c)[1] }]
  summary_cols   = [for c in ["batch_id:string", "ingested_at:timestamp", "readings:bigint", "users:bigint", "first_event:timestamp", "last_event:timestamp", "anomaly_readings:bigint", "rejected:bigint", "reject_rate:double", "source:string", "low_spo2:bigint", "abnormal_heart_rate:bigint", "fever:bigint", "high_blood_pressure:bigint", "reject_reasons:array<string>", "status:string"] : { name = split(":", c)[0], type = split(":", c)[1] }]
  # processed_files and rejected_files are Iceberg tables (a batch's files in one snapshot); the views
  # users query (processed, rejected, readings_flagged) keep the batches batch_commits lists.
  lake_tables = {
    processed_files = { prefix = "processed", partitioned = true, iceberg = true, columns = local.processed_cols }
    rejected_files  = { prefix = "rejected", partitioned = true, iceberg = true, columns = local.rejected_cols }
    batch_commits   = { prefix = "commits", partitioned = false, iceberg = false, columns = local.commit_cols }
    batch_summaries = { prefix = "summaries", partitioned = true, iceberg = false, columns = local.summary_cols }
  }
  # The views in sql/views: created by the analyze function before its first query.
  views = sort([for f in fileset("${path.module}/../sql/views", "*.sql") : trimsuffix(f, ".sql")])
  settings = {
    VITALFLOW_RUNTIME               = "aws"
    VITALFLOW_REGION                = var.region
    VITALFLOW_DATA_BUCKET           = var.data_bucket_name
    VITALFLOW_DOCS_BUCKET           = var.docs_bucket_name
    VITALFLOW_GLUE_JOB_NAME         = local.job_name
    VITALFLOW_GLUE_MAX_ACTIVE_RUNS  = tostring(var.glue_max_concurrent_runs)
    VITALFLOW_GLUE_DATABASE         = local.database
    VITALFLOW_ATHENA_WORKGROUP      = local.workgroup
    VITALFLOW_TABLE_NAME            = local.table_name
    VITALFLOW_EVENT_BUS             = local.bus_name
    VITALFLOW_KMS_KEY_ID            = module.kms.key_arn
    VITALFLOW_ANALYST               = "bedrock"
    VITALFLOW_BEDROCK_MODEL_ID      = var.bedrock_model_id
    VITALFLOW_MAIL_FROM             = var.mail_from
    VITALFLOW_MAIL_TO               = join(",", var.mail_to)
    VITALFLOW_DOCS_BASE_URL         = var.docs_base_url
    VITALFLOW_SES_CONFIGURATION_SET = module.notifications.configuration_set_name
    VITALFLOW_FANOUT_TOPIC_ARN      = module.fanout.topic_arn
  }
  lambda_env = merge(local.settings, {
    VITALFLOW_GLUE_SPARK_JOB_NAME   = lookup({ "" = "" }, var.glue_spark_artifact, local.spark_job)
    VITALFLOW_SPARK_THRESHOLD_BYTES = tostring(var.spark_threshold_bytes)
    POWERTOOLS_SERVICE_NAME         = "vitalflow"
    POWERTOOLS_METRICS_NAMESPACE    = "vitalflow"
  })
  read_manifests = { actions = ["s3:GetObject"], resources = ["${local.data_arn}/manifests/*"] }
  batch_item     = { actions = ["dynamodb:GetItem", "dynamodb:UpdateItem"], resources = [local.table_arn] }
  fan_out        = { actions = ["sns:Publish"], resources = [module.fanout.topic_arn] }
}

# The AWS SDK for pandas layer for the functions' runtime, as AWS publishes it per release and region.
data "aws_ssm_parameter" "pandas_layer" {
  count = lookup({ "" = 1 }, var.pandas_layer_arn, 0) # binary operators trip the test's HCL reader
  name  = "/aws/service/aws-sdk-pandas/${var.pandas_layer_version}/${var.region}/py${trimprefix(var.lambda_runtime, "python")}/x86_64/layer-arn"
}

module "kms" {
  source = "./modules/kms"
  name   = var.name
}

# _staging/: a crashed run's commit intent and the files its Spark tasks staged (a rerun within the week
# cleans them up itself).
module "data_bucket" {
  source          = "./modules/storage"
  name            = var.data_bucket_name
  kms_key_arn     = module.kms.key_arn
  expire_prefixes = { "raw/" = var.raw_retention_days, "rejected/" = var.rejected_retention_days, "athena-results/" = 30, "_staging/" = 7 }
}

module "docs_bucket" {
  source      = "./modules/storage"
  name        = var.docs_bucket_name
  kms_key_arn = module.kms.key_arn
  reader_arns = var.docs_reader_arns
}

resource "aws_s3_object" "glue_script" {
  bucket      = module.data_bucket.bucket
  key         = local.script_key
  source      = "${path.module}/../jobs/validate_batch.py"
  source_hash = filemd5("${path.module}/../jobs/validate_batch.py") # etag conflicts with kms_key_id
  kms_key_id  = module.kms.key_arn
}

# The Glue job's libraries (make package), under a content hash: a new build is a new object, which
# the job unpacks afresh (it caches by URI on a warm host).
resource "aws_s3_object" "glue_artifact" {
  bucket      = module.data_bucket.bucket
  key         = "artifacts/glue-libs/${basename(var.glue_artifact)}-${substr(filesha256(var.glue_artifact), 0, 16)}.zip"
  source      = var.glue_artifact
  source_hash = filemd5(var.glue_artifact)
  kms_key_id  = module.kms.key_arn
}

resource "aws_s3_object" "glue_spark_script" {
  bucket      = module.data_bucket.bucket
  key         = "artifacts/validate_spark.py"
  source      = "${path.module}/../jobs/validate_spark.py"
  source_hash = filemd5("${path.module}/../jobs/validate_spark.py")
  kms_key_id  = module.kms.key_arn
}

# Started on every executor of the Spark job (--extra-py-files): its Python workers' daemon, which
# brings them the job's libraries.
resource "aws_s3_object" "glue_spark_workers" {
  bucket      = module.data_bucket.bucket
  key         = "artifacts/spark_workers.py"
  source      = "${path.module}/../jobs/spark_workers.py"
  source_hash = filemd5("${path.module}/../jobs/spark_workers.py")
  kms_key_id  = module.kms.key_arn
}

# The Spark job's libraries (Python 3.11), only when given: without them there is no Spark job.
resource "aws_s3_object" "glue_spark_artifact" {
  count       = lookup({ "" = 0 }, var.glue_spark_artifact, 1)
  bucket      = module.data_bucket.bucket
  key         = "artifacts/glue-libs/${basename(var.glue_spark_artifact)}-${substr(filesha256(var.glue_spark_artifact), 0, 16)}.zip"
  source      = var.glue_spark_artifact
  source_hash = filemd5(var.glue_spark_artifact)
  kms_key_id  = module.kms.key_arn
}

# One package per function (make package), uploaded so that no function meets the 50 MB direct-upload cap.
resource "aws_s3_object" "lambda_package" {
  for_each    = toset(local.functions)
  bucket      = module.data_bucket.bucket
  key         = "artifacts/lambda/${each.value}.zip"
  source      = "${var.lambda_packages_dir}/${each.value}.zip"
  source_hash = filemd5("${var.lambda_packages_dir}/${each.value}.zip")
  kms_key_id  = module.kms.key_arn
}

module "uploads" {
  source                     = "./modules/queue"
  name                       = "${var.name}-uploads"
  bucket_name                = module.data_bucket.bucket
  bucket_arn                 = module.data_bucket.arn
  kms_key_arn                = module.kms.key_arn
  visibility_timeout_seconds = 360
  max_receive_count          = var.upload_max_receives
}

module "table" {
  source      = "./modules/table"
  name        = local.table_name
  kms_key_arn = module.kms.key_arn
}

module "notifications" {
  source      = "./modules/notifications"
  sender      = var.mail_from
  recipients  = var.ses_verify_recipients ? var.mail_to : []
  name        = var.name
  topic_name  = "${var.name}-events"
  subscribers = var.alarm_subscribers
  kms_key_arn = module.kms.key_arn
}

module "glue" {
  source          = "./modules/glue"
  job_name        = local.job_name
  database_name   = local.database
  tables          = local.lake_tables
  data_bucket     = module.data_bucket.bucket
  docs_bucket     = module.docs_bucket.bucket
  script_s3_uri   = "s3://${module.data_bucket.bucket}/${aws_s3_object.glue_script.key}"
  artifact_s3_uri = "s3://${module.data_bucket.bucket}/${aws_s3_object.glue_artifact.key}"
  erase_job_name  = "${var.name}-erase"
  # uploads above spark_threshold_bytes: the Spark job, when its libraries are given
  spark_job_name        = local.spark_job
  spark_script_s3_uri   = "s3://${module.data_bucket.bucket}/${aws_s3_object.glue_spark_script.key}"
  spark_workers_s3_uri  = "s3://${module.data_bucket.bucket}/${aws_s3_object.glue_spark_workers.key}"
  spark_artifact_s3_uri = join("", [for o in aws_s3_object.glue_spark_artifact : "s3://${o.bucket}/${o.key}"])
  spark_worker_type     = var.glue_spark_worker_type
  spark_workers         = var.glue_spark_workers
  # who may assume the erasure operator role, the only one that may start the erasure job
  erase_operator_principals = var.erase_operator_principals
  # Python shell has 1 GB for the whole host (the OS, Glue's agent and the job): the job fails a batch
  # with a message once its own resident size passes 92% of 800 MB (736 MB), leaving the host ~290 MB,
  # before the kernel would kill it with no word on why.
  settings            = merge(local.settings, lookup({ pythonshell = { VITALFLOW_MEMORY_LIMIT_MB = "800" } }, var.glue_job_type, {}))
  job_type            = var.glue_job_type
  max_concurrent_runs = var.glue_max_concurrent_runs
  event_bus_arn       = module.events.bus_arn
  kms_key_arn         = module.kms.key_arn
}

module "athena" {
  source               = "./modules/athena"
  name                 = local.workgroup
  results_bucket       = module.data_bucket.bucket
  kms_key_arn          = module.kms.key_arn
  bytes_scanned_cutoff = var.athena_bytes_scanned_cutoff
}

module "start_validation" {
  source          = "./modules/lambda_function"
  name            = "${var.name}-start-validation"
  runtime         = var.lambda_runtime
  handler         = "start_validation.handler"
  package_bucket  = module.data_bucket.bucket
  package_key     = aws_s3_object.lambda_package["start_validation"].key
  package_hash    = filebase64sha256("${var.lambda_packages_dir}/start_validation.zip")
  environment     = local.lambda_env
  kms_key_arn     = module.kms.key_arn
  timeout_seconds = 60
  memory_mb       = 512
  statements = {
    ConsumeUploads = { actions = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"], resources = [module.uploads.queue_arn] }
    StartJob       = { actions = ["glue:StartJobRun", "glue:GetJobRuns"], resources = concat([module.glue.job_arn], module.glue.spark_job_arns) }
    ClaimObject    = local.batch_item
  }
}

resource "aws_lambda_event_source_mapping" "uploads" {
  event_source_arn                   = module.uploads.queue_arn
  function_name                      = module.start_validation.function_arn
  batch_size                         = 10
  maximum_batching_window_in_seconds = 5
  function_response_types            = ["ReportBatchItemFailures"]
  scaling_config {
    maximum_concurrency = var.upload_concurrency # bounds the consumer without reserved concurrency
  }
}

module "analyze" {
  source          = "./modules/lambda_function"
  name            = "${var.name}-analyze"
  runtime         = var.lambda_runtime
  handler         = "analyze.handler"
  package_bucket  = module.data_bucket.bucket
  package_key     = aws_s3_object.lambda_package["analyze"].key
  package_hash    = filebase64sha256("${var.lambda_packages_dir}/analyze.zip")
  environment     = local.lambda_env
  kms_key_arn     = module.kms.key_arn
  layers          = [coalesce(var.pandas_layer_arn, one(data.aws_ssm_parameter.pandas_layer[*].insecure_value))] # the only function with pandas
  timeout_seconds = 300
  memory_mb       = 2048
  # Once Lambda's two retries are spent, the failure record goes to the bus and becomes an alert. The
  # bus's own attribute (not a name-built ARN) orders the destination after the bus exists.
  on_failure_destination_arn = module.events.bus_arn
  statements = {
    Query   = { actions = ["athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults", "athena:StopQueryExecution", "athena:GetWorkGroup"], resources = [local.workgroup_arn] }
    Catalog = { actions = ["glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:GetPartition", "glue:GetPartitions"], resources = local.catalog_arns }
    # The views (sql/views) are created by the function itself (CREATE OR REPLACE VIEW), only those.
    CreateViews    = { actions = ["glue:CreateTable", "glue:UpdateTable"], resources = concat(slice(local.catalog_arns, 0, 2), [for v in local.views : "arn:aws:glue:${var.region}:${local.account}:table/${local.database}/${v}"]) }
    ReadLake       = { actions = ["s3:GetObject"], resources = ["${local.data_arn}/processed/*", "${local.data_arn}/rejected/*", "${local.data_arn}/manifests/*", "${local.data_arn}/summaries/*"] }
    StoreSummaries = { actions = ["s3:PutObject", "s3:DeleteObject"], resources = ["${local.data_arn}/summaries/*"] } # Delete: a summary's row from before versioned names
    ListLake       = { actions = ["s3:ListBucket", "s3:GetBucketLocation"], resources = [local.data_arn] }
    QueryResults   = { actions = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"], resources = ["${local.data_arn}/athena-results/*"] }
    InvokeModel    = { actions = ["bedrock:InvokeModel"], resources = local.model_arns }
    StoreRecord    = local.batch_item
    AnnounceBatch  = { actions = ["events:PutEvents"], resources = [module.events.bus_arn] }
    FanOut         = local.fan_out
  }
}

module "notify" {
  source         = "./modules/lambda_function"
  name           = "${var.name}-notify"
  runtime        = var.lambda_runtime
  handler        = "notify.handler"
  package_bucket = module.data_bucket.bucket
  package_key    = aws_s3_object.lambda_package["notify"].key
  package_hash   = filebase64sha256("${var.lambda_packages_dir}/notify.zip")
  # MPLCONFIGDIR: matplotlib needs a writable cache and the package is read-only. The notify lease
  # (longer than the 60 s timeout) lets Lambda's second retry, 3 minutes on, take over a dead sender's.
  environment     = merge(local.lambda_env, { MPLCONFIGDIR = "/tmp/matplotlib", VITALFLOW_NOTIFY_LEASE_S = "120" })
  kms_key_arn     = module.kms.key_arn
  timeout_seconds = 60
  memory_mb       = 1024
  statements = {
    ReadManifests = local.read_manifests
    BatchItem     = local.batch_item
    SendReport    = { actions = ["ses:SendEmail", "ses:SendRawEmail"], resources = module.notifications.sending_arns }
    AnnounceSent  = { actions = ["events:PutEvents"], resources = [module.events.bus_arn] }          # BatchEmailed (dashboard)
    ReportPage    = { actions = ["s3:PutObject"], resources = ["${local.docs_arn}/docs/reports/*"] } # the dashboard's report link
  }
}

module "fanout" {
  source        = "./modules/fanout"
  name          = "${var.name}-results"
  kms_key_arn   = module.kms.key_arn
  subscriptions = var.fanout_subscriptions
  tags          = var.tags
}

# The daily data-quality digest: the same queries as `vitalflow digest` (sql/digest) on Athena, over
# a few weeks of one-row batch summaries (partition-pruned on dt), emailed through SES once per day.
module "digest" {
  source          = "./modules/lambda_function"
  name            = "${var.name}-digest"
  runtime         = var.lambda_runtime
  handler         = "digest.handler"
  package_bucket  = module.data_bucket.bucket
  package_key     = aws_s3_object.lambda_package["digest"].key
  package_hash    = filebase64sha256("${var.lambda_packages_dir}/digest.zip")
  environment     = local.lambda_env
  kms_key_arn     = module.kms.key_arn
  layers          = [coalesce(var.pandas_layer_arn, one(data.aws_ssm_parameter.pandas_layer[*].insecure_value))] # awswrangler for Athena
  timeout_seconds = 300
  memory_mb       = 1024
  statements = {
    Query   = { actions = ["athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults", "athena:StopQueryExecution", "athena:GetWorkGroup"], resources = [local.workgroup_arn] }
    Catalog = { actions = ["glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:GetPartition", "glue:GetPartitions"], resources = local.catalog_arns }
    # The Athena engine makes sure of the views (sql/views) before its first query, as for analyze.
    CreateViews   = { actions = ["glue:CreateTable", "glue:UpdateTable"], resources = concat(slice(local.catalog_arns, 0, 2), [for v in local.views : "arn:aws:glue:${var.region}:${local.account}:table/${local.database}/${v}"]) }
    ReadSummaries = { actions = ["s3:GetObject"], resources = ["${local.data_arn}/summaries/*"] }
    ListLake      = { actions = ["s3:ListBucket", "s3:GetBucketLocation"], resources = [local.data_arn] }
    QueryResults  = { actions = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"], resources = ["${local.data_arn}/athena-results/*"] }
    OncePerDay    = local.batch_item
    SendDigest    = { actions = ["ses:SendEmail", "ses:SendRawEmail"], resources = module.notifications.sending_arns }
    Narrative     = { actions = ["bedrock:InvokeModel"], resources = local.model_arns }
    FanOut        = local.fan_out
  }
}

module "digest_schedule" {
  source              = "./modules/schedule"
  name                = "${var.name}-digest"
  account_id          = local.account
  function_arn        = module.digest.function_arn
  schedule_expression = var.digest_schedule
  timezone            = var.digest_timezone
  kms_key_arn         = module.kms.key_arn
  tags                = var.tags
}

# The live dashboard (issue 21): the function posting pipeline events to open websockets, and its API.
locals {
  connections_table = "${var.name}-connections"
}

module "live" {
  source         = "./modules/lambda_function"
  name           = "${var.name}-live"
  runtime        = var.lambda_runtime
  handler        = "live.handler"
  package_bucket = module.data_bucket.bucket
  package_key    = aws_s3_object.lambda_package["live"].key
  package_hash   = filebase64sha256("${var.lambda_packages_dir}/live.zip")
  environment = merge(local.lambda_env, {
    VITALFLOW_CONNECTIONS_TABLE  = local.connections_table
    VITALFLOW_WEBSOCKET_ENDPOINT = module.live_api.management_endpoint
  })
  kms_key_arn     = module.kms.key_arn
  timeout_seconds = 30
  memory_mb       = 256
  statements = {
    Connections    = { actions = ["dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Scan"], resources = [module.live_api.connections_table_arn] }
    PostToViewers  = { actions = ["execute-api:ManageConnections"], resources = ["${module.live_api.execution_arn}/live/POST/@connections/*"] }
    DashboardState = { actions = ["s3:GetObject", "s3:PutObject"], resources = ["${local.docs_arn}/docs/dashboard/state.json"] }
  }
}

module "live_api" {
  source                 = "./modules/live"
  name                   = "${var.name}-live"
  region                 = var.region
  function_name          = module.live.function_name
  function_arn           = module.live.function_arn
  function_invoke_arn    = module.live.invoke_arn
  connections_table_name = local.connections_table
  event_bus_name         = module.events.bus_name
  docs_bucket            = module.docs_bucket.bucket
  page_path              = "${path.module}/../src/vitalflow/resources/dashboard/index.html"
  viewer_arns            = var.dashboard_viewer_arns
  kms_key_arn            = module.kms.key_arn
  alarm_topic_arn        = module.notifications.topic_arn
}

module "events" {
  source               = "./modules/events"
  name                 = local.bus_name
  analyze_function_arn = module.analyze.function_arn
  notify_function_arn  = module.notify.function_arn
  glue_job_name        = module.glue.job_name
  spark_job_name       = lookup({ "" = "" }, var.glue_spark_artifact, local.spark_job)
  sns_topic_arn        = module.notifications.topic_arn
  kms_key_arn          = module.kms.key_arn
}

module "monitoring" {
  source               = "./modules/monitoring"
  name                 = var.name
  region               = var.region
  function_names       = [module.start_validation.function_name, module.analyze.function_name, module.notify.function_name, module.digest.function_name, module.live.function_name]
  dlq_names            = compact([module.uploads.dlq_name, module.events.dlq_name, module.start_validation.dlq_name, module.analyze.dlq_name, module.notify.dlq_name, module.digest.dlq_name, module.live.dlq_name])
  job_failed_rule_name = module.events.job_failed_rule_name
  redrive_commands = {
    (module.uploads.dlq_name) = "aws sqs start-message-move-task --source-arn arn:aws:sqs:${var.region}:${local.account}:${module.uploads.dlq_name}"
  }
  reject_rate_threshold = var.reject_rate_alarm_percent
  alarm_topic_arn       = module.notifications.topic_arn
}

# Continuous delivery (off unless enable_delivery): CodePipeline tests, packages, plans, waits for an
# approval and applies; see the README, "Deploy from the pipeline".
module "delivery" {
  count                = var.enable_delivery ? 1 : 0
  source               = "./modules/delivery"
  name                 = var.name
  connection_arn       = var.delivery_connection_arn
  repository           = var.delivery_repository
  branch               = var.delivery_branch
  kms_key_arn          = module.kms.key_arn
  alarm_topic_arn      = module.notifications.topic_arn
  state_bucket         = var.state_bucket_name
  state_key            = var.state_key
  lock_table           = var.state_lock_table
  state_kms_key_arn    = var.state_kms_key_arn
  managed_bucket_names = [var.data_bucket_name, var.docs_bucket_name]
  managed_object_arns  = ["${local.data_arn}/artifacts/*"]
  # Apply's role may read every version of the pandas layer the analyze function uses, and the public parameters
  # Terraform looks that layer up in.
  lambda_layer_arns   = [replace(coalesce(var.pandas_layer_arn, one(data.aws_ssm_parameter.pandas_layer[*].insecure_value)), "/:[0-9]+$/", ":*")]
  read_parameter_arns = ["arn:aws:ssm:${var.region}::parameter/aws/service/aws-sdk-pandas/*"]
}
