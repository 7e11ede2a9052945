variable "job_name" {
  description = "Name of the Glue validation job."
  type        = string
}

variable "database_name" {
  description = "Glue Data Catalog database for the lake tables."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9_]{1,255}$", var.database_name))
    error_message = "Use lower-case letters, digits and underscores."
  }
}

variable "tables" {
  description = "Lake tables by name: the prefix under the data bucket they read, whether they are partitioned by dt (partition projection, Hive tables), whether they are Iceberg tables the job commits to (processed_files, rejected_files), and their columns."
  type = map(object({
    prefix      = string
    partitioned = bool
    iceberg     = bool
    columns     = list(object({ name = string, type = string }))
  }))
}

variable "data_bucket" {
  description = "Name of the lake bucket."
  type        = string
}

variable "docs_bucket" {
  description = "Name of the Data Docs bucket."
  type        = string
}

variable "script_s3_uri" {
  description = "S3 URI of jobs/validate_batch.py."
  type        = string
}

variable "artifact_s3_uri" {
  description = "S3 URI of the job's libraries (make package: dist/glue-job-py3.9.zip, or -py3.11 for glueetl), which the job's script unpacks onto sys.path before importing vitalflow."
  type        = string
  validation {
    condition     = can(regex("^s3://.+\\.zip$", var.artifact_s3_uri))
    error_message = "An s3://...zip (run make package first)."
  }
}

variable "settings" {
  description = "VITALFLOW_* settings passed as job default arguments."
  type        = map(string)
  default     = {}
}

variable "event_bus_arn" {
  description = "Bus receiving BatchValidated / BatchFailed."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key for the lake and the job's logs."
  type        = string
}

variable "job_type" {
  description = "pythonshell (default): Python 3.9 at 1/16 DPU (1 GB); glueetl: Glue 5.0, Python 3.11, 2 G.1X workers, for files too large for 1 GB."
  type        = string
  default     = "pythonshell"
  validation {
    condition     = contains(["glueetl", "pythonshell"], var.job_type)
    error_message = "glueetl or pythonshell."
  }
}

variable "max_capacity" {
  description = "DPU when job_type is pythonshell: 0.0625 (1 GB) or 1."
  type        = number
  default     = 0.0625
  validation {
    condition     = contains([0.0625, 1], var.max_capacity)
    error_message = "Python shell jobs take 0.0625 or 1 DPU."
  }
}

variable "timeout_minutes" {
  description = "Job timeout in minutes."
  type        = number
  default     = 60
}

variable "max_concurrent_runs" {
  description = "Runs at once; with job run queuing, further runs wait in Glue's queue (state WAITING)."
  type        = number
  default     = 5
}

variable "tags" {
  description = "Tags for the job and role."
  type        = map(string)
  default     = {}
}

variable "snapshot_retention_days" {
  description = "Days an Iceberg snapshot (time travel, the erased rows' history too) is kept before the retention optimizer expires it and deletes its files; also how old an unreferenced file must be before orphan deletion."
  type        = number
  default     = 7
}

variable "erase_job_name" {
  description = "Name of the Glue erasure job (the operator's entry point to vitalflow erase)."
  type        = string
}

variable "erase_operator_principals" {
  description = "IAM principal ARNs (users or roles) that may assume the erasure operator role, the only role that may start the erasure job. Empty: no operator role is created."
  type        = list(string)
  default     = []
}

variable "spark_job_name" {
  description = "Name of the Glue 5.0 Spark validation job, for uploads above the routing threshold (jobs/validate_spark.py)."
  type        = string
}

variable "spark_script_s3_uri" {
  description = "S3 URI of jobs/validate_spark.py (it imports validate_batch.py, passed with --extra-py-files)."
  type        = string
}

variable "spark_workers_s3_uri" {
  description = "S3 URI of jobs/spark_workers.py, the Spark job executors' Python worker daemon (it brings them the job's libraries)."
  type        = string
}

variable "spark_artifact_s3_uri" {
  description = "S3 URI of the Spark job's libraries for Python 3.11 (GLUE_PYTHON=3.11 make package: dist/glue-job-py3.11.zip); empty: no Spark job, every upload goes to the validation job."
  type        = string
  default     = ""
  validation {
    condition     = can(regex("^(s3://.+\\.zip)?$", var.spark_artifact_s3_uri))
    error_message = "An s3:// URI of a .zip, or empty."
  }
}

variable "spark_worker_type" {
  description = "Worker type of the Spark job: G.1X (4 vCPU, 16 GB, 1 DPU) runs four split tasks at once, each with about 4 GB for a 128 MiB split."
  type        = string
  default     = "G.1X"
  validation {
    condition     = contains(["G.1X", "G.2X", "G.4X", "G.8X"], var.spark_worker_type)
    error_message = "G.1X, G.2X, G.4X or G.8X."
  }
}

variable "spark_workers" {
  description = "Workers of the Spark job, the driver included (billed as DPUs per worker type): at least 2."
  type        = number
  default     = 10
  validation {
    condition     = can(regex("^([2-9]|[1-9][0-9]+)$", tostring(var.spark_workers))) # no binary operators: the tests' HCL reader
    error_message = "A Glue Spark job has at least 2 workers."
  }
}
