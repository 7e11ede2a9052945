variable "region" {
  description = "AWS region to deploy to (Bedrock must offer the model there)."
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "Prefix for every resource name."
  type        = string
  default     = "vitalflow"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.name))
    error_message = "2-21 lower-case letters, digits and hyphens, starting with a letter."
  }
}

variable "data_bucket_name" {
  description = "Globally unique name of the lake bucket (uploads go to raw/)."
  type        = string
}

variable "docs_bucket_name" {
  description = "Globally unique name of the Data Docs bucket."
  type        = string
}

variable "dashboard_viewer_arns" {
  description = "IAM principals allowed to connect to the live dashboard's websocket (they assume its viewer role)."
  type        = list(string)
  default     = []
}

variable "docs_reader_arns" {
  description = "IAM principals (reviewers' roles) allowed to read the Data Docs."
  type        = list(string)
  default     = []
}

variable "docs_base_url" {
  description = "URL where reviewers open the Data Docs site (e.g. a CloudFront distribution with access control); empty links to s3://."
  type        = string
  default     = ""
}

variable "mail_from" {
  description = "Verified SES identity the reports are sent from."
  type        = string
}

variable "mail_to" {
  description = "Recipients of the batch reports and failure alerts."
  type        = list(string)
  validation {
    condition     = can(var.mail_to[0])
    error_message = "At least one recipient."
  }
}

variable "alarm_subscribers" {
  description = "Email addresses subscribed to the SNS topic (alarms and pipeline events)."
  type        = list(string)
  default     = []
}

variable "bedrock_model_id" {
  description = "Bedrock model the analyze function may invoke (and only that one): a base model id where the region serves it on demand, else an inference profile id (us./eu./apac. prefix)."
  type        = string
  default     = "amazon.nova-lite-v1:0"
}

variable "raw_retention_days" {
  description = "Days uploads are kept under raw/."
  type        = number
  default     = 90
}

variable "rejected_retention_days" {
  description = "Days rejected rows are kept under rejected/."
  type        = number
  default     = 365
}

variable "reject_rate_alarm_percent" {
  description = "Alarm when a batch rejects more than this percentage of its rows."
  type        = number
  default     = 5
}

variable "athena_bytes_scanned_cutoff" {
  description = "Per-query scan limit of the workgroup, in bytes. A report query reads one batch and at most 90 days of one-row summaries, whatever the lake's age, so the default leaves more than 10x headroom for a 20M-row batch (tests/test_lake_age.py); it caps users' ad-hoc scans."
  type        = number
  default     = 10737418240
}

variable "lambda_packages_dir" {
  description = "Folder with the per-function zips built by make package (start_validation.zip, analyze.zip, notify.zip)."
  type        = string
  default     = "../dist/lambda"
}

variable "glue_artifact" {
  description = "The Glue job's libraries built by make package: ../dist/glue-job-py3.9.zip for pythonshell, ../dist/glue-job-py3.11.zip (GLUE_PYTHON=3.11 make package) for glueetl."
  type        = string
  default     = "../dist/glue-job-py3.9.zip"
}

variable "upload_concurrency" {
  description = "Most start_validation invocations the upload queue drives at once (the event source mapping's maximum concurrency, 2-1000)."
  type        = number
  default     = 5
  validation {
    condition     = contains([min(max(var.upload_concurrency, 2), 1000)], var.upload_concurrency)
    error_message = "SQS event source mappings take a maximum concurrency from 2 to 1000."
  }
}

variable "glue_max_concurrent_runs" {
  description = "Validation runs at once. start_validation starts a run only while fewer are active and leaves the other uploads in SQS, retried every 6 minutes for up to upload_max_receives tries (Glue's own run queue fails a run it cannot start within 15 minutes)."
  type        = number
  default     = 5
}

variable "upload_max_receives" {
  description = "Tries per upload before it goes to the uploads dead-letter queue (an alarm email then names the redrive command). At 6 minutes a try, the default 60 lets a burst wait 6 hours for a free run."
  type        = number
  default     = 60
}

variable "ses_verify_recipients" {
  description = "Create SES identities for mail_to (each recipient gets a verification email). Needed while the account's SES is in the sandbox, which only delivers to verified addresses."
  type        = bool
  default     = true
}

variable "lambda_runtime" {
  description = "Runtime of the three functions: python3.12 (default) or python3.13, both Amazon Linux 2023. make package builds for python3.12; LAMBDA_PYTHON=3.13 make package for python3.13."
  type        = string
  default     = "python3.12"
}

variable "pandas_layer_version" {
  description = "Release of the AWS SDK for pandas layer for the analyze function (pandas, numpy, pyarrow, awswrangler; about 210 MB unzipped), looked up in AWS's public SSM parameters for this region and runtime. scripts/pandas-layer-py3.12.lock records what it holds."
  type        = string
  default     = "3.16.1"
}

variable "pandas_layer_arn" {
  description = "A layer version ARN to use instead of the SSM lookup (empty: look it up from pandas_layer_version)."
  type        = string
  default     = ""
  validation {
    condition     = can(regex("^$|^arn:aws:lambda:[a-z0-9-]+:[0-9]{12}:layer:[A-Za-z0-9-_]+:[0-9]+$", var.pandas_layer_arn))
    error_message = "Empty, or a Lambda layer version ARN."
  }
}

variable "glue_job_type" {
  description = "pythonshell (default: Python 3.9, 1/16 DPU, 1 GB) or glueetl (Glue 5.0, Python 3.11, 2 G.1X workers) for files too large for 1 GB; see the README."
  type        = string
  default     = "pythonshell"
  validation {
    condition     = contains(["glueetl", "pythonshell"], var.glue_job_type)
    error_message = "glueetl or pythonshell."
  }
}

variable "tags" {
  description = "Extra tags for every resource."
  type        = map(string)
  default     = {}
}

# -- Continuous delivery (modules/delivery; README: "Deploy from the pipeline") ------------------------
variable "enable_delivery" {
  description = "Create the delivery pipeline (CodePipeline and CodeBuild: test, package, plan, approval, apply). Needs the delivery_* and state_* variables."
  type        = bool
  default     = false
}

variable "delivery_connection_arn" {
  description = "ARN of the CodeConnections connection to the repository's host (created once and approved in the console)."
  type        = string
  default     = ""
}

variable "delivery_repository" {
  description = "The repository the pipeline deploys, as owner/name."
  type        = string
  default     = ""
}

variable "delivery_branch" {
  description = "Branch whose pushes are tested and, once a plan is approved, deployed."
  type        = string
  default     = "main"
}

variable "state_bucket_name" {
  description = "Remote state bucket (terraform/bootstrap), as in backend.hcl: the pipeline plans and applies on it."
  type        = string
  default     = ""
}

variable "state_key" {
  description = "Key of this configuration's state in the state bucket, as in backend.hcl."
  type        = string
  default     = "vitalflow/terraform.tfstate"
}

variable "state_lock_table" {
  description = "Remote state lock table (terraform/bootstrap), as in backend.hcl."
  type        = string
  default     = ""
}

variable "state_kms_key_arn" {
  description = "KMS key of the state bucket and lock table (terraform/bootstrap), as in backend.hcl."
  type        = string
  default     = ""
}

variable "digest_schedule" {
  description = "When the daily data-quality digest runs (EventBridge Scheduler cron or rate expression); it digests the UTC ingestion day before."
  type        = string
  default     = "cron(0 7 * * ? *)"
}

variable "digest_timezone" {
  description = "IANA time zone of digest_schedule's cron expression."
  type        = string
  default     = "UTC"
}

variable "fanout_subscriptions" {
  description = "Subscribers of the results topic (analysed batches and digests): name, protocol (sqs, https, email, sms, application...), endpoint, optional filter policy JSON over the attributes kind (batch, digest), source, risk_level (low, moderate, high) and has_anomalies (true, false), and raw_message_delivery."
  type = list(object({
    name                 = string
    protocol             = string
    endpoint             = string
    filter_policy        = optional(string)
    raw_message_delivery = optional(bool, false)
  }))
  default = []
}

variable "erase_operator_principals" {
  description = "IAM principal ARNs (users or roles of your organisation) allowed to assume the erasure operator role, the only role that may start the erasure job (README, Erasure). Empty: no operator role is created and nobody can start the job."
  type        = list(string)
  default     = []
}

variable "glue_spark_artifact" {
  description = "The Spark job's libraries (GLUE_PYTHON=3.11 make package: ../dist/glue-job-py3.11.zip); empty (default): no Spark job, every upload goes to the Python shell job."
  type        = string
  default     = ""
}

variable "glue_spark_worker_type" {
  description = "Worker type of the Spark validation job (G.1X: 4 vCPU, 16 GB, 1 DPU per worker)."
  type        = string
  default     = "G.1X"
}

variable "glue_spark_workers" {
  description = "Workers of the Spark validation job, the driver included (at least 2)."
  type        = number
  default     = 10
}

variable "spark_threshold_bytes" {
  description = "Uploads above this size go to the Spark job (when there is one), the rest to the Python shell job; the shell job holds about 20 million rows (~1.1 GB of CSV) in 1 GB."
  type        = number
  default     = 1073741824
}
