"""Starting the Glue validation job for one uploaded object."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from vitalflow.exceptions import JobThrottled

RETRYABLE = {"ConcurrentRunsExceededException", "ThrottlingException", "ResourceNumberLimitExceededException"}
ACTIVE = {"STARTING", "RUNNING", "WAITING", "STOPPING"}


class GlueJobRunner:
    """StartJobRun, admitting a run only while the job has room for it.

    Glue's run queue (job run queuing) holds a run it cannot start for at most 15 minutes, then
    fails it. A burst of uploads larger than the job drains in that time would turn into failed runs,
    so with ``max_active`` set a new run starts only while fewer runs are active; otherwise the upload
    stays in SQS (retried after the visibility timeout, for days) instead of in Glue's queue. The
    count is read just before starting, so concurrent starters may overshoot by a few runs: those
    wait in Glue's queue, which is what it is for.
    """

    def __init__(self, job_name: str, *, max_active: int = 0, boto3_session: Any = None) -> None:
        import boto3

        self.job_name = job_name
        self.max_active = max_active
        self.client = (boto3_session or boto3.session.Session()).client("glue")

    def active_runs(self) -> int:
        """Runs starting, running, waiting or stopping, among the job's 200 newest (active runs are new)."""
        runs = self.client.get_job_runs(JobName=self.job_name, MaxResults=200).get("JobRuns", [])
        return sum(run.get("JobRunState") in ACTIVE for run in runs)

    def start(self, bucket: str, key: str, version_id: str | None) -> str:
        if self.max_active and self.active_runs() >= self.max_active:
            raise JobThrottled(
                f"{self.job_name} has {self.max_active} runs active; {key} waits its turn in SQS"
            )
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
