"""Stage 1, trigger: from an S3 upload notification to one validation job per object version.

SQS may deliver a notification twice and S3 may notify twice; the claim on the object version is
what makes a second delivery start nothing. A claim is a lease until it carries the Glue run id:
if the Lambda dies between the claim and StartJobRun (or before the run id is written), the
redelivered message finds a stale lease, takes it over and starts the run. So an upload is always
running (claim with a run id), being started (fresh lease: the message is retried later), or
retried; never silently dropped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from vitalflow import lake
from vitalflow.exceptions import StartInProgress
from vitalflow.leases import run_once
from vitalflow.ports import JobRunner, Leases

log = logging.getLogger(__name__)
STARTED = "started"
# Longer than the start_validation Lambda's timeout (60 s), shorter than the queue's visibility
# timeout (360 s): a live invocation is never overtaken, and the next delivery finds the lease stale.
LEASE_SECONDS = 180


@dataclass(frozen=True)
class UploadedObject:
    bucket: str
    key: str
    version_id: str | None
    etag: str
    size: int = 0  # bytes, as the notification gives them: which job validates the upload

    @property
    def claim_id(self) -> str:
        return f"object#{self.bucket}/{self.key}#{self.version_id or self.etag}"


def uploaded_objects(notification: dict[str, Any]) -> list[UploadedObject]:
    """The raw/ objects in an S3 event notification (test events and other prefixes are ignored)."""
    objects = []
    for record in notification.get("Records", []):
        if not str(record.get("eventName", "")).startswith("ObjectCreated"):
            continue
        s3 = record.get("s3", {})
        key = unquote_plus(s3.get("object", {}).get("key", ""))
        if not key.startswith(lake.RAW) or key.endswith("/"):
            continue
        objects.append(
            UploadedObject(
                bucket=s3.get("bucket", {}).get("name", ""),
                key=key,
                version_id=s3.get("object", {}).get("versionId"),
                etag=s3.get("object", {}).get("eTag", ""),
                size=int(s3.get("object", {}).get("size") or 0),
            )
        )
    return objects


@dataclass(frozen=True)
class JobRoute:
    """Which job validates an upload: the Spark job above the threshold, the Python shell job below.

    The Python shell job holds about 20 million rows in its 1 GB; past that a file needs the Spark
    job (validate/spark_engine.py), whose smallest run costs far more. The threshold is a setting
    (VITALFLOW_SPARK_THRESHOLD_BYTES, default 1 GiB); without a Spark job every upload goes to the shell.
    """

    shell: JobRunner
    spark: JobRunner | None = None
    threshold_bytes: int = 1 << 30

    def runner_for(self, obj: UploadedObject) -> JobRunner:
        if self.spark is not None and obj.size > self.threshold_bytes:
            return self.spark
        return self.shell


def start_validation(
    obj: UploadedObject,
    claims: Leases,
    runner: JobRunner | JobRoute,
    *,
    lease_seconds: int = LEASE_SECONDS,
) -> str | None:
    """Start the job once per object version; None when a run for this version exists already.

    Raises :class:`StartInProgress` while another invocation's lease is fresh, so the message is
    redelivered rather than dropped. A ``JobRoute`` picks the job by the upload's size.
    """
    if isinstance(runner, JobRoute):
        runner = runner.runner_for(obj)
    busy = StartInProgress(
        f"another invocation is starting validation of {obj.key}; retrying after its lease expires"
    )
    start = lambda: runner.start(obj.bucket, obj.key, obj.version_id)  # noqa: E731
    return run_once(claims, obj.claim_id, STARTED, lease_seconds, start, busy)
