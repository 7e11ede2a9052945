"""Stage 4, enrich: an analyst's reading of the aggregates, stored once per batch.

The primary analyst may be a remote model that fails; the fallback is deterministic and offline,
so a batch never ends without an analysis, and the stored record says which one produced it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from botocore.exceptions import BotoCoreError, ClientError

from vitalflow.enrich.bounds import MAX_RECORD_BYTES, bounded_manifest, bounded_report, record_size
from vitalflow.exceptions import AnalystError, ResultTooLarge
from vitalflow.models import Analysis, BatchRecord, BatchReport, Manifest
from vitalflow.ports import Analyst, ResultStore

log = logging.getLogger(__name__)


def analyse(
    report: BatchReport, analyst: Analyst, fallback: Analyst, deadline: float | None = None
) -> Analysis:
    if analyst is fallback:
        return fallback.analyze(report)
    try:
        return analyst.analyze(report, deadline=deadline)
    except (AnalystError, ClientError, BotoCoreError) as exc:
        log.warning("analyst failed, using the rules analyst: %s", exc)
        stood_in = fallback.analyze(report)
        return stood_in.model_copy(update={"fallback_reason": str(exc)[:500]})


def enrich(
    manifest: Manifest,
    report: BatchReport,
    analyst: Analyst,
    fallback: Analyst,
    results: ResultStore,
    *,
    now: datetime | None = None,
    deadline: float | None = None,
) -> BatchRecord:
    """Analyse and store; a replay returns the record stored first and changes nothing."""
    existing = results.get(manifest.batch_id)
    if existing is not None:
        return existing
    manifest, report = bounded_manifest(manifest), bounded_report(report)  # before the analyst is paid
    record = BatchRecord(
        batch_id=manifest.batch_id,
        manifest=manifest,
        report=report,
        analysis=analyse(report, analyst, fallback, deadline),
        created_at=now or datetime.now(timezone.utc),
    )
    size = record_size(record)
    if size > MAX_RECORD_BYTES:
        raise ResultTooLarge(
            f"the record for batch {record.batch_id} is {size:,} bytes, over the {MAX_RECORD_BYTES:,} a "
            "result item may hold; report this batch (its analysis text is unusually long)"
        )
    if not results.put(record):
        stored = results.get(manifest.batch_id)
        if stored is not None:
            return stored
    return record
