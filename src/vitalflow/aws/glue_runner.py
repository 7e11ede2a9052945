"""Starting the Glue validation job for one uploaded object."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from vitalflow.exceptions import JobThrottled

RETRYABLE = {"ConcurrentRunsExceededException", "ThrottlingException", "ResourceNumberLimitExceededException"}


class GlueJobRunner:
    """StartJobRun with job run queuing: above the job's concurrency a run waits in Glue's queue
    (state WAITING) instead of being refused, so a burst of uploads never reaches the DLQ."""

    def __init__(self, job_name: str, *, boto3_session: Any = None) -> None:
        import boto3

        self.job_name = job_name
        self.client = (boto3_session or boto3.session.Session()).client("glue")

    def start(self, bucket: str, key: str, version_id: str | None) -> str:
        arguments = {"--source_bucket": bucket, "--source_key": key}
        if version_id:  # an empty value is never passed: Glue would hand the job a bare flag
            arguments["--source_version_id"] = version_id
        try:
            response = self.client.start_job_run(
                JobName=self.job_name, Arguments=arguments, JobRunQueuingEnabled=True
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in RETRYABLE:
                raise JobThrottled(
                    f"Glue refused to start {self.job_name} now ({code}); will retry"
                ) from None
            raise
        return str(response["JobRunId"])
