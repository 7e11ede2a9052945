"""The local pipeline: put a file into the lake's raw/ folder, then run every stage on it.

Runs are serialised per lake with an OS file lock, which the kernel releases even when the
process is killed, so a crashed run never blocks the next one.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timezone
from pathlib import Path

from vitalflow import lake, sources, stages
from vitalflow.exceptions import VitalflowError
from vitalflow.local.file_lock import exclusive
from vitalflow.models import BatchOutcome, SourceRef
from vitalflow.runtime import Runtime


def lake_lock(home: Path) -> AbstractContextManager[None]:
    return exclusive(home / ".lock")


def ingest(runtime: Runtime, path: Path, source: str | None = None) -> SourceRef:
    """Copy a local file into raw/ (as an upload to S3 would), keeping earlier uploads intact.

    ``source`` names the feed; by default it comes from the file's name (``vitalflow.sources``).
    """
    if not path.is_file():
        raise VitalflowError(f"no such file: {path}")
    key = lake.raw_key(path.name, datetime.now(timezone.utc))
    if runtime.store.exists(key) and _sha256(runtime.home / key if runtime.home else path) != _sha256(path):
        stem, dot, ext = path.name.rpartition(".")
        stamp = datetime.now(timezone.utc).strftime("%H%M%S%f")
        key = lake.raw_key(
            f"{stem}-{stamp}{dot}{ext}" if dot else f"{path.name}-{stamp}", datetime.now(timezone.utc)
        )
    if not runtime.store.exists(key):
        runtime.store.put_file(path, key)
    received = datetime.now(timezone.utc)
    if runtime.home is not None:  # a rerun keeps the first upload's time, as S3's LastModified does
        received = datetime.fromtimestamp((runtime.home / key).stat().st_mtime, timezone.utc)
    name = sources.given(source) if source is not None else sources.from_file_name(path.name)
    return SourceRef(key=key, uri=str(path.resolve()), received_at=received, name=name)


def run_file(
    runtime: Runtime,
    path: Path,
    progress: Callable[[int, int], None] | None = None,
    *,
    source: str | None = None,
) -> BatchOutcome:
    """Every stage for one file; a user error becomes a failed outcome with its message."""
    try:
        ref = ingest(runtime, path, source)
    except VitalflowError as exc:
        return BatchOutcome(batch_id="", source=str(path), status="failed", error=str(exc))
    validated = stages.validate(runtime, ref, progress)
    manifest = validated.manifest
    outcome = BatchOutcome.from_manifest(manifest, status="duplicate" if validated.duplicate else None)
    outcome = outcome.model_copy(update={"source": str(path)})
    if manifest.status == "failed":
        stages.notify_failure(runtime, manifest.batch_id)
        return outcome
    # Later stages are replay-safe, so a duplicate whose first run died before its email gets one now.
    record = stages.analyze(runtime, manifest.batch_id)
    sent = stages.notify(runtime, manifest.batch_id)
    return outcome.model_copy(
        update={
            "report": sent or _last_report(runtime, manifest.batch_id),
            "analysis_model": record.analysis.model,
        }
    )


def _last_report(runtime: Runtime, batch_id: str) -> str | None:
    if runtime.home is None:
        return None
    sent = sorted((runtime.home / lake.OUTBOX).glob(f"*-{batch_id}.eml"))
    return str(sent[-1]) if sent else None


def _sha256(path: Path) -> str:
    return lake.sha256_file(path)
