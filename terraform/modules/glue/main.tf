# The validation job (Glue Python shell by default), its catalog database, the lake's tables (Iceberg
# for processed_files and rejected_files, Hive for the rest) and the Iceberg tables' maintenance.
data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  account    = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  catalog    = "arn:aws:glue:${local.region}:${local.account}:catalog"
  database   = "arn:aws:glue:${local.region}:${local.account}:database/${var.database_name}"
  table_arns = [for t, spec in var.tables : "arn:aws:glue:${local.region}:${local.account}:table/${var.database_name}/${t}" if spec.iceberg]
  iceberg    = { for t, spec in var.tables : t => spec if spec.iceberg }
  hive       = { for t, spec in var.tables : t => spec if spec.iceberg ? false : true }
  # Glue's table optimizers: compaction, snapshot retention (expired snapshots' files deleted) and
  # orphan file deletion (files of a job that died before its commit), per Iceberg table.
  optimizers = { for pair in setproduct(keys(local.iceberg), ["compaction", "retention", "orphan_file_deletion"]) : "${pair[0]}/${pair[1]}" => { table = pair[0], type = pair[1] } }
  projection = {
    "projection.enabled"          = "true"
    "projection.dt.type"          = "date"
    "projection.dt.format"        = "yyyy-MM-dd"
    "projection.dt.range"         = "2000-01-01,NOW+1DAYS"
    "projection.dt.interval"      = "1"
    "projection.dt.interval.unit" = "DAYS"
  }
}

resource "aws_glue_catalog_database" "this" {
  name        = var.database_name
  description = "vitalflow health-vitals lake"
}

# The Hive tables (batch_commits, batch_summaries) read every file under their prefix. Users query
# the views of committed batches (sql/views, created by the analyze function).
resource "aws_glue_catalog_table" "this" {
  for_each      = local.hive
  name          = each.key
  database_name = aws_glue_catalog_database.this.name
  table_type    = "EXTERNAL_TABLE"
  parameters = merge(
    { "classification" = "parquet" },
    each.value.partitioned ? merge(local.projection, { "storage.location.template" = "s3://${var.data_bucket}/${each.value.prefix}/dt=$${dt}/" }) : {},
  )
  dynamic "partition_keys" {
    for_each = each.value.partitioned ? ["dt"] : []
    content {
      name = partition_keys.value
      type = "string"
    }
  }
  storage_descriptor {
    location      = "s3://${var.data_bucket}/${each.value.prefix}/"
    input_format  = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    output_format = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
    ser_de_info {
      serialization_library = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    }
    dynamic "columns" {
      for_each = each.value.columns
      content {
        name = columns.value.name
        type = columns.value.type
      }
    }
  }
}

# The Iceberg tables: Glue writes their first metadata; the job adds each batch's files in one
# snapshot, and sets the partition spec (processed_files: month(event_time); rejected_files: identity
# on dt) on its first commit, which this resource cannot declare. Data and metadata live under the same prefixes as before.
# Nor can it declare Iceberg table properties (iceberg_input takes only the operation and the
# format version; parameters are Glue's, not Iceberg's): the job's first commit sets those that keep
# a commit's cost flat as batches accumulate (manifest merging, 10 metadata versions kept, older
# ones deleted; src/vitalflow/tables.py TABLE_PROPERTIES), and each batch trims the snapshots to
# its newest 100 (upkeep.trim); the retention optimizer below expires by age on top of that.
resource "aws_glue_catalog_table" "iceberg" {
  for_each      = local.iceberg
  name          = each.key
  database_name = aws_glue_catalog_database.this.name
  table_type    = "EXTERNAL_TABLE"
  open_table_format_input {
    iceberg_input {
      metadata_operation = "CREATE"
      version            = "2"
    }
  }
  storage_descriptor {
    location = "s3://${var.data_bucket}/${each.value.prefix}"
    dynamic "columns" {
      for_each = concat(each.value.columns, [{ name = "dt", type = "string" }])
      content {
        name = columns.value.name
        type = columns.value.type
      }
    }
  }
}

resource "aws_glue_catalog_table_optimizer" "this" {
  for_each      = local.optimizers
  catalog_id    = local.account
  database_name = aws_glue_catalog_database.this.name
  table_name    = aws_glue_catalog_table.iceberg[each.value.table].name
  type          = each.value.type
  configuration {
    role_arn = aws_iam_role.optimizer.arn
    enabled  = true
    dynamic "retention_configuration" {
      for_each = lookup({ retention = [var.snapshot_retention_days] }, each.value.type, [])
      content {
        iceberg_configuration {
          snapshot_retention_period_in_days = retention_configuration.value
          number_of_snapshots_to_retain     = 1
          clean_expired_files               = true
        }
      }
    }
    dynamic "orphan_file_deletion_configuration" {
      for_each = lookup({ orphan_file_deletion = [var.snapshot_retention_days] }, each.value.type, [])
      content {
        iceberg_configuration {
          orphan_file_retention_period_in_days = orphan_file_deletion_configuration.value
        }
      }
    }
  }
}

resource "aws_iam_role" "optimizer" {
  name               = "${var.job_name}-table-optimizer"
  assume_role_policy = local.glue_trust
}

# What Glue's optimizers need on the Iceberg tables: read, rewrite and delete their files, commit.
data "aws_iam_policy_document" "optimizer" {
  statement {
    sid       = "TableFiles"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = [for t, spec in local.iceberg : "arn:aws:s3:::${var.data_bucket}/${spec.prefix}/*"]
  }
  statement {
    sid       = "ListLake"
    actions   = ["s3:ListBucket"]
    resources = ["arn:aws:s3:::${var.data_bucket}"]
  }
  statement {
    sid       = "CommitTables"
    actions   = ["glue:GetDatabase", "glue:GetTable", "glue:UpdateTable"]
    resources = concat([local.catalog, local.database], local.table_arns)
  }
  statement {
    sid       = "UseKey"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
  statement {
    sid       = "OptimizerLogs"
    actions   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["arn:aws:logs:${local.region}:${local.account}:log-group:/aws-glue/iceberg-*"]
  }
}

resource "aws_iam_role_policy" "optimizer" {
  name   = "table-maintenance"
  role   = aws_iam_role.optimizer.id
  policy = data.aws_iam_policy_document.optimizer.json
}

resource "aws_glue_security_configuration" "this" {
  name = "${var.job_name}-encryption"
  encryption_configuration {
    cloudwatch_encryption {
      cloudwatch_encryption_mode = "SSE-KMS"
      kms_key_arn                = var.kms_key_arn
    }
    job_bookmarks_encryption {
      job_bookmarks_encryption_mode = "CSE-KMS"
      kms_key_arn                   = var.kms_key_arn
    }
    s3_encryption {
      s3_encryption_mode = "SSE-KMS"
      kms_key_arn        = var.kms_key_arn
    }
  }
}

# The default is a Python shell job: Python 3.9 at 1/16 DPU (1 GB), about 30 times cheaper per batch
# than the smallest Spark job. glueetl (Glue 5.0, Python 3.11, 2 G.1X workers) runs the same script in
# its driver, for files too large for 1 GB (see the README). Either way the script unpacks the job's
# libraries (one zip: the pinned import closure, built by make package) and puts them first on
# sys.path: no package index, and no Glue option whose support differs between job types
# (--additional-python-modules with S3 wheels is documented for Spark jobs only). No library-set.
locals {
  python_version = { glueetl = "3", pythonshell = "3.9" }
  glue_version   = { glueetl = "5.0", pythonshell = "3.0" }
  # The validation and erasure jobs run the same script with the same libraries and settings.
  # Empty settings are left out: Glue would pass a bare flag (the job reads one as empty anyway).
  job_arguments = merge(
    {
      "--vitalflow_artifact"  = var.artifact_s3_uri
      "--enable-job-insights" = "false"
    },
    { for k, v in var.settings : "--${k}" => v if can(regex(".", v)) },
  )
  # Every role of this module is Glue's: the jobs' and the table optimizers'.
  glue_trust = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "glue.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
}

resource "aws_glue_job" "validate" {
  name                    = var.job_name
  role_arn                = aws_iam_role.job.arn
  glue_version            = local.glue_version[var.job_type]
  max_capacity            = lookup({ pythonshell = var.max_capacity }, var.job_type, null)
  worker_type             = lookup({ glueetl = "G.1X" }, var.job_type, null)
  number_of_workers       = lookup({ glueetl = 2 }, var.job_type, null)
  timeout                 = var.timeout_minutes
  security_configuration  = aws_glue_security_configuration.this.name
  job_run_queuing_enabled = true # runs above max_concurrent_runs wait in Glue's queue, not in the DLQ
  command {
    name            = var.job_type
    python_version  = local.python_version[var.job_type]
    script_location = var.script_s3_uri
  }
  execution_property {
    max_concurrent_runs = var.max_concurrent_runs
  }
  default_arguments = local.job_arguments
  tags              = var.tags
}

# The Spark job (Glue 5.0, Spark 3.5.4, Python 3.11) validates the uploads start_validation routes to
# it by size: the same adapter and core with VITALFLOW_ENGINE=spark (validate/spark_engine.py), one
# byte range of VITALFLOW_SPLIT_BYTES per task. Same role and settings as the validation job.
resource "aws_glue_job" "validate_spark" {
  count                   = lookup({ "" = 0 }, var.spark_artifact_s3_uri, 1)
  name                    = var.spark_job_name
  role_arn                = aws_iam_role.job.arn
  glue_version            = "5.0"
  worker_type             = var.spark_worker_type
  number_of_workers       = var.spark_workers
  timeout                 = var.timeout_minutes
  security_configuration  = aws_glue_security_configuration.this.name
  job_run_queuing_enabled = true
  command {
    name            = "glueetl"
    python_version  = "3"
    script_location = var.spark_script_s3_uri
  }
  execution_property {
    max_concurrent_runs = var.max_concurrent_runs
  }
  default_arguments = merge(local.job_arguments, {
    "--vitalflow_artifact" = var.spark_artifact_s3_uri
    "--extra-py-files"     = join(",", [var.script_s3_uri, var.spark_workers_s3_uri])
    "--VITALFLOW_ENGINE"   = "spark"
  })
  tags = var.tags
}

resource "aws_iam_role" "job" {
  name               = "${var.job_name}-job"
  assume_role_policy = local.glue_trust
  tags               = var.tags
}

data "aws_iam_policy_document" "job" {
  statement {
    sid       = "ReadUploadsAndArtifacts"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = ["arn:aws:s3:::${var.data_bucket}/raw/*", "arn:aws:s3:::${var.data_bucket}/artifacts/*"]
  }
  statement {
    sid       = "WriteLake"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = [for p in ["processed", "rejected", "manifests", "commits", "summaries", "_staging", "gx"] : "arn:aws:s3:::${var.data_bucket}/${p}/*"]
  }
  statement {
    sid       = "ListLake"
    actions   = ["s3:ListBucket"]
    resources = ["arn:aws:s3:::${var.data_bucket}", "arn:aws:s3:::${var.docs_bucket}"]
  }
  statement {
    sid       = "PublishDataDocs"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["arn:aws:s3:::${var.docs_bucket}/docs/*"]
  }
  statement {
    sid       = "CommitToTables"
    actions   = ["glue:GetDatabase", "glue:GetTable", "glue:UpdateTable"]
    resources = concat([local.catalog, local.database], local.table_arns)
  }
  statement {
    sid       = "AnnounceBatches"
    actions   = ["events:PutEvents"]
    resources = [var.event_bus_arn]
  }
  statement {
    sid       = "UseKey"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
  statement {
    sid       = "JobLogs"
    actions   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:AssociateKmsKey"]
    resources = ["arn:aws:logs:${local.region}:${local.account}:log-group:/aws-glue/*"]
  }
}

resource "aws_iam_role_policy" "job" {
  name   = "validate-batch"
  role   = aws_iam_role.job.id
  policy = data.aws_iam_policy_document.job.json
}

# -- erasure (the right to erasure, README "Erasure") -------------------------------------------------
# The same script and libraries as the validation job, run with --vitalflow_task erase: the operator
# starts a run with --user_id ID (and --dry_run true to only count). Its own role may rewrite the raw
# uploads and delete their older versions, which the validation job's may not; only the operator role
# below may start it (no other role of this configuration has glue:StartJobRun on it).
resource "aws_glue_job" "erase" {
  name                   = var.erase_job_name
  role_arn               = aws_iam_role.erase.arn
  glue_version           = local.glue_version[var.job_type]
  max_capacity           = lookup({ pythonshell = 1 }, var.job_type, null) # 16 GB: it reads the tables' user_id columns
  worker_type            = lookup({ glueetl = "G.1X" }, var.job_type, null)
  number_of_workers      = lookup({ glueetl = 2 }, var.job_type, null)
  timeout                = var.timeout_minutes
  security_configuration = aws_glue_security_configuration.this.name
  command {
    name            = var.job_type
    python_version  = local.python_version[var.job_type]
    script_location = var.script_s3_uri
  }
  execution_property {
    max_concurrent_runs = 1 # erasures one at a time: each expires the tables' older snapshots
  }
  default_arguments = merge(local.job_arguments, { "--vitalflow_task" = "erase" })
  tags              = var.tags
}

resource "aws_iam_role" "erase" {
  name               = "${var.erase_job_name}-job"
  assume_role_policy = local.glue_trust
  tags               = var.tags
}

data "aws_iam_policy_document" "erase" {
  statement {
    sid       = "ReadArtifacts"
    actions   = ["s3:GetObject"]
    resources = ["arn:aws:s3:::${var.data_bucket}/artifacts/*"]
  }
  statement {
    sid       = "RewriteUploads"
    actions   = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"]
    resources = ["arn:aws:s3:::${var.data_bucket}/raw/*"]
  }
  statement {
    sid       = "RewriteTables"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = [for p in ["processed", "rejected", "manifests"] : "arn:aws:s3:::${var.data_bucket}/${p}/*"]
  }
  statement {
    sid       = "WriteAudit"
    actions   = ["s3:PutObject"]
    resources = ["arn:aws:s3:::${var.data_bucket}/audit/erasures/*"]
  }
  statement {
    sid       = "TakeRequests" # the operator's request (the id travels there, never as a job argument)
    actions   = ["s3:GetObject", "s3:DeleteObject"]
    resources = ["arn:aws:s3:::${var.data_bucket}/erase-requests/*"]
  }
  statement {
    sid       = "ListLake"
    actions   = ["s3:ListBucket", "s3:ListBucketVersions"]
    resources = ["arn:aws:s3:::${var.data_bucket}"]
  }
  statement {
    sid       = "CommitToTables"
    actions   = ["glue:GetDatabase", "glue:GetTable", "glue:UpdateTable"]
    resources = concat([local.catalog, local.database], local.table_arns)
  }
  statement {
    sid       = "UseKey"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
  statement {
    sid       = "JobLogs"
    actions   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:AssociateKmsKey"]
    resources = ["arn:aws:logs:${local.region}:${local.account}:log-group:/aws-glue/*"]
  }
}

resource "aws_iam_role_policy" "erase" {
  name   = "erase-user"
  role   = aws_iam_role.erase.id
  policy = data.aws_iam_policy_document.erase.json
}

# The operator role: assumed by the principals the deployer lists (none: no role), it may start the
# erasure job and read its runs, their log lines and the audit entries, nothing else.
resource "aws_iam_role" "operator" {
  count = min(1, length(var.erase_operator_principals))
  name  = "${var.erase_job_name}-operator"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { AWS = var.erase_operator_principals }
    }]
  })
  tags = var.tags
}

data "aws_iam_policy_document" "operator" {
  statement {
    sid       = "RunErasure"
    actions   = ["glue:StartJobRun", "glue:GetJobRun", "glue:GetJobRuns"]
    resources = [aws_glue_job.erase.arn]
  }
  statement {
    sid       = "ReadOutcome" # the run's log line and the audit entries (digests and counts, no ids)
    actions   = ["logs:GetLogEvents", "logs:FilterLogEvents"]
    resources = ["arn:aws:logs:${local.region}:${local.account}:log-group:/aws-glue/python-jobs/*"]
  }
  statement {
    sid       = "ReadAudit"
    actions   = ["s3:GetObject"]
    resources = ["arn:aws:s3:::${var.data_bucket}/audit/erasures/*"]
  }
  statement {
    sid       = "PutRequests"
    actions   = ["s3:PutObject"]
    resources = ["arn:aws:s3:::${var.data_bucket}/erase-requests/*"]
  }
  statement {
    sid       = "UseKey" # read the audit entries, encrypt the requests
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "operator" {
  count  = min(1, length(var.erase_operator_principals))
  name   = "run-erasure"
  role   = aws_iam_role.operator[0].id
  policy = data.aws_iam_policy_document.operator.json
}
