"""Stage 1, trigger: from an S3 upload notification to one validation job per object version.

SQS may deliver a notification twice and S3 may notify twice; the claim on the object version is
what makes a second delivery start nothing. The claim is released when the job could not be
started, so the redelivered message gets another chance.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import unquote_plus

from vitalflow import lake
from vitalflow.ports import BatchState

log = logging.getLogger(__name__)
STARTED = "started"


@dataclass(frozen=True)
class UploadedObject:
    bucket: str
    key: str
    version_id: str | None
    etag: str

    @property
    def claim_id(self) -> str:
        return f"object#{self.bucket}/{self.key}#{self.version_id or self.etag}"


class JobRunner(Protocol):
    def start(self, bucket: str, key: str, version_id: str | None) -> str: ...


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
            )
        )
    return objects


def start_validation(obj: UploadedObject, state: BatchState, runner: JobRunner) -> str | None:
    """Start the job once per object version; None when this version was already started."""
    if not state.claim(obj.claim_id, STARTED):
        log.info("validation already started for this object version; skipping")
        return None
    try:
        return runner.start(obj.bucket, obj.key, obj.version_id)
    except BaseException:
        state.release(obj.claim_id, STARTED)
        raise
