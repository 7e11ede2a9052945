"""The pipeline's stages as plain functions over a Runtime: the one core both runtimes call.

The local pipeline calls them in sequence; on AWS the Glue job and each Lambda call exactly one.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from vitalflow.models import SourceRef
from vitalflow.runtime import Runtime
from vitalflow.validate import Validated, validate_batch
from vitalflow.validate.suite import HealthSuite

BATCH_VALIDATED = "BatchValidated"
BATCH_FAILED = "BatchFailed"
BATCH_ANALYZED = "BatchAnalyzed"


@lru_cache(maxsize=4)
def load_suite(path: Path | None) -> HealthSuite:
    return HealthSuite(path)


def validate(
    runtime: Runtime, source: SourceRef, progress: Callable[[int, int], None] | None = None
) -> Validated:
    """Stage 2: validate one raw object and announce the result on the event bus."""
    result = validate_batch(
        source,
        runtime.store,
        load_suite(runtime.settings.suite_path),
        workdir=runtime.workdir,
        chunk_rows=runtime.settings.chunk_rows,
        docs_store=runtime.docs_store,
        progress=progress,
    )
    manifest = result.manifest
    if not result.duplicate and manifest.status == "processed" and runtime.catalog is not None:
        runtime.catalog.register(manifest)
    if not result.duplicate:
        detail = {
            "batch_id": manifest.batch_id,
            "status": manifest.status,
            "source": manifest.source.model_dump(),
            "rows_in": manifest.rows_in,
            "rows_processed": manifest.rows_processed,
            "rows_rejected": manifest.rows_rejected,
            "error": manifest.error,
        }
        runtime.bus.put(BATCH_VALIDATED if manifest.status == "processed" else BATCH_FAILED, detail)
    return result
