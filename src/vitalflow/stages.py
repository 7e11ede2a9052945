"""The pipeline's stages as plain functions over a Runtime: the one core both runtimes call.

The local pipeline calls them in sequence; on AWS the Glue job and each Lambda call exactly one.
Every stage is safe to replay: a second delivery of the same event finds the work done and
changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vitalflow import lake
from vitalflow.exceptions import NotificationInProgress, VitalflowError
from vitalflow.leases import run_once
from vitalflow.manifests import read_manifest
from vitalflow.models import BatchRecord, Manifest, SourceRef
from vitalflow.quality_event import DATA_QUALITY_EVALUATED, data_quality_detail
from vitalflow.runtime import Runtime

if TYPE_CHECKING:
    from vitalflow.digest.model import Digest
    from vitalflow.validate.batch import Validated
    from vitalflow.validate.suite import HealthSuite

log = logging.getLogger(__name__)
BATCH_VALIDATING = "BatchValidating"  # for the live dashboard: no rule routes it
BATCH_VALIDATED = "BatchValidated"
BATCH_FAILED = "BatchFailed"
BATCH_ANALYZED = "BatchAnalyzed"
BATCH_EMAILED = "BatchEmailed"  # for the live dashboard: no rule routes it
NOTIFIED = "notified"
PUBLISHED = "published"


@lru_cache(maxsize=4)
def load_suite(path: Path | None) -> HealthSuite:
    from vitalflow.validate.suite import HealthSuite  # Great Expectations: the Glue job and CLI only

    return HealthSuite(path)


def validate(
    runtime: Runtime, source: SourceRef, progress: Callable[[int, int], None] | None = None
) -> Validated:
    """Stage 2: validate one raw object and announce the result on the event bus."""
    from vitalflow.validate.batch import BatchOptions, validate_batch

    if source.received_at is None:  # the upload's time bounds the readings' dates (not the run's)
        received = runtime.store.modified_at(source.key, source.version_id)
        source = source.model_copy(update={"received_at": received})
    # The batch id (a content hash) is not known yet: the dashboard matches the raw key.
    _tell_dashboard(runtime, BATCH_VALIDATING, {"source": source.model_dump(mode="json")})
    settings = runtime.settings
    options = BatchOptions(
        runtime.workdir,
        settings.chunk_rows,
        settings.memory_limit_mb,
        progress,
        settings.on_conflict,
        runtime.tables,
        settings.engine,
        settings.split_bytes,
    )
    result = validate_batch(
        source,
        runtime.store,
        load_suite(settings.suite_path),
        options,
        docs_store=runtime.docs_store,
    )
    manifest = result.manifest
    # A duplicate is announced again: if publishing failed after an earlier run
    # committed the batch, this is what gets it analysed and emailed (later stages are idempotent).
    if manifest.status == "failed":  # the digest counts failed files per source from their rows
        from vitalflow.summaries import write_failed_summary  # pyarrow: the job and CLI only

        write_failed_summary(runtime.store, manifest)
    runtime.bus.put(
        BATCH_VALIDATED if manifest.status == "processed" else BATCH_FAILED,
        {**_summary(manifest), "replay": result.duplicate},
    )
    # As Glue Data Quality announces its evaluations (a rerun announces it again, as above)
    runtime.bus.put(DATA_QUALITY_EVALUATED, data_quality_detail(runtime.store, manifest))
    return result


def analyze(runtime: Runtime, batch_id: str, *, deadline: float | None = None) -> BatchRecord:
    """Stages 3 and 4: aggregate with SQL, ask the analyst, store the record once.

    ``deadline`` (``time.monotonic()``) bounds the analyst, so a slow model leaves time for the
    rules analyst to stand in and for the record to be stored, instead of the function timing out.
    """
    existing = runtime.results.get(batch_id)
    if existing is not None:  # a replay: announce again (the first announcement may have been lost)
        runtime.bus.put(BATCH_ANALYZED, {**_analyzed(existing), "replay": True})
        _fan_out_batch(runtime, existing)
        return existing
    manifest = _manifest(runtime, batch_id)
    from vitalflow.aggregate import build_report  # sqlglot: not needed by the validation job
    from vitalflow.enrich import enrich

    report = build_report(manifest, runtime.engine, summaries=runtime.store)
    record = enrich(manifest, report, runtime.analyst, runtime.fallback, runtime.results, deadline=deadline)
    runtime.bus.put(BATCH_ANALYZED, _analyzed(record))
    _fan_out_batch(runtime, record)
    return record


def _fan_out_batch(runtime: Runtime, record: BatchRecord) -> None:
    """Publish the analysed batch to subscribers once (a replay finds it published)."""
    attributes = {
        "kind": "batch",
        "source": record.manifest.source.name or "unknown",
        "risk_level": record.analysis.risk_level,
        "has_anomalies": "true" if record.report.anomaly_readings else "false",
    }
    subject = f"vitalflow batch {record.batch_id}: {record.analysis.risk_level} risk"
    _publish_once(runtime, record.batch_id, subject, _analyzed(record), attributes)


def digest(runtime: Runtime, day: date) -> DigestOutcome:
    """The daily digest of ``day``: emailed and published once per day, however often it runs.

    The findings are computed on every run (a rerun prints them); the email and the fan-out
    message each happen once, keyed by the date, so a replayed schedule sends nothing twice.
    """
    from vitalflow.digest.monitors import MonitorOptions, evaluate  # sqlglot: not needed by the other stages
    from vitalflow.digest.narrative import narrate
    from vitalflow.notify.message import digest_message, digest_subject

    settings = runtime.settings
    found = evaluate(runtime.engine, day, MonitorOptions.from_settings(settings))
    key = f"digest#{day.isoformat()}"
    told: list[Digest] = []

    def send() -> str:  # the narrative (a Bedrock call) only for the one email that is sent
        told.append(found.model_copy(update={"narrative": narrate(found, settings)}))
        return runtime.mailer.send(
            digest_message(told[0], sender=settings.mail_from, recipients=settings.mail_to)
        )

    busy = NotificationInProgress(f"the digest of {day.isoformat()} is being sent by another invocation")
    sent = run_once(runtime.state, key, NOTIFIED, settings.notify_lease_s, send, busy)
    found = told[0] if told else found
    attributes = {
        "kind": "digest",
        "source": "all",
        "risk_level": found.risk_level,
        "has_anomalies": "true" if found.has_anomalies else "false",
    }
    body = {"day": day.isoformat(), "findings": [f.model_dump() for f in found.findings]}
    published = _publish_once(runtime, key, digest_subject(found), body, attributes)
    return DigestOutcome(digest=found, sent=sent, published=published)


def _publish_once(
    runtime: Runtime, key: str, subject: str, body: dict[str, Any], attributes: dict[str, str]
) -> str | None:
    """Publish to the fan-out topic once per key; None when published before or there is no topic."""
    publisher = runtime.publisher
    if publisher is None:
        return None
    busy = NotificationInProgress(f"{key} is being published by another invocation; retry later")
    return run_once(
        runtime.state,
        key,
        PUBLISHED,
        runtime.settings.notify_lease_s,
        lambda: publisher.publish(subject, body, attributes),
        busy,
    )


@dataclass(frozen=True)
class DigestOutcome:
    digest: Digest
    sent: str | None  # the message id or outbox file; None: sent by an earlier run
    published: str | None  # the fan-out message id; None: published before, or no topic


def _analyzed(record: BatchRecord) -> dict[str, Any]:
    a = record.analysis
    return {
        **_summary(record.manifest),
        "risk_level": a.risk_level,
        "anomaly_readings": record.report.anomaly_readings,
        "model": a.model,
        "fallback": a.fallback_reason is not None,
        "tokens_in": a.tokens_in,
        "tokens_out": a.tokens_out,
        "cost_usd": a.cost_usd,
    }


def notify(runtime: Runtime, batch_id: str) -> str | None:
    """Stage 5: email the report once per batch; None when it was sent before."""
    from vitalflow.dashboard.report import publish_report_page
    from vitalflow.notify import notify as send_report  # matplotlib: the notify function only

    record = runtime.results.get(batch_id)
    if record is None:
        raise VitalflowError(f"batch {batch_id} has no analysis yet; run the analyze stage first")
    docs = docs_url(runtime, record.manifest)
    publish_report_page(runtime.docs_store, record, docs)  # users by rank only: the dashboard links it
    sent = _once(
        runtime,
        batch_id,
        lambda: send_report(
            record,
            runtime.mailer,
            sender=runtime.settings.mail_from,
            recipients=runtime.settings.mail_to,
            docs_url=docs,
        ),
    )
    if sent is not None:
        _tell_dashboard(runtime, BATCH_EMAILED, _summary(record.manifest))
    return sent


def notify_failure(runtime: Runtime, batch_id: str) -> str | None:
    """A failure alert for a file rejected as a whole, once per batch."""
    from vitalflow.notify import notify_failure as send_failure

    manifest = read_manifest(runtime.store, batch_id)
    if manifest is None:
        raise VitalflowError(f"no manifest for batch {batch_id}")
    return _once(
        runtime,
        batch_id,
        lambda: send_failure(
            manifest, runtime.mailer, sender=runtime.settings.mail_from, recipients=runtime.settings.mail_to
        ),
    )


def notify_job_failure(runtime: Runtime, job_name: str, run_id: str, state: str, detail: str) -> str | None:
    """An alert for a validation run that died before recording its batch, once per run."""
    from vitalflow.notify.message import job_failure_message

    settings = runtime.settings
    message = job_failure_message(
        job_name, run_id, state, detail, sender=settings.mail_from, recipients=settings.mail_to
    )
    return _once(runtime, f"glue#{run_id}", lambda: runtime.mailer.send(message))


def notify_analysis_failure(runtime: Runtime, batch_id: str, attempt_id: str, error: str) -> str | None:
    """An alert for a batch whose analysis failed after every retry, once per failed attempt.

    ``attempt_id`` (the failed invocation's request id) dedupes a replayed failure record while a
    later failure of the same batch, after a redrive, alerts again.
    """
    from vitalflow.notify.message import analysis_failure_message

    settings = runtime.settings
    message = analysis_failure_message(
        batch_id, error[:500], sender=settings.mail_from, recipients=settings.mail_to
    )
    return _once(runtime, f"analysis-failed#{batch_id}#{attempt_id}", lambda: runtime.mailer.send(message))


def docs_url(runtime: Runtime, manifest: Manifest) -> str | None:
    """Where a reviewer opens the batch's Data Docs page: the site URL, or the local file."""
    if not manifest.docs:
        return None
    base = runtime.settings.docs_base_url
    if base:
        page = manifest.docs[manifest.docs.rfind(lake.DOCS + "validations/") + len(lake.DOCS) :]
        return base.rstrip("/") + "/" + page
    return Path(manifest.docs).as_uri() if manifest.docs.startswith("/") else manifest.docs


def _once(runtime: Runtime, batch_id: str, send: Callable[[], str]) -> str | None:
    """Send once per batch (``leases.run_once``); a send claimed but never recorded (a crash) is retried."""
    busy = NotificationInProgress(
        f"the report for batch {batch_id} is being sent by another invocation; retry later"
    )
    return run_once(runtime.state, batch_id, NOTIFIED, runtime.settings.notify_lease_s, send, busy)


def _tell_dashboard(runtime: Runtime, detail_type: str, detail: dict[str, Any]) -> None:
    """An event only the live dashboard reads: losing it costs a status on a screen, so it never
    stops a stage (the next event of the batch brings the row up to date)."""
    try:
        runtime.bus.put(detail_type, detail)
    except Exception as exc:  # any bus failure: EventBridge, a full disk, a network error
        log.warning("could not announce %s to the dashboard: %s", detail_type, exc)


def _manifest(runtime: Runtime, batch_id: str) -> Manifest:
    manifest = read_manifest(runtime.store, batch_id)
    if manifest is None or manifest.status != "processed":
        raise VitalflowError(f"batch {batch_id} is not a processed batch")
    return manifest


def _summary(manifest: Manifest) -> dict[str, Any]:
    """Event detail: counts and ids only, never user data."""
    return {
        "batch_id": manifest.batch_id,
        "status": manifest.status,
        "source": manifest.source.model_dump(),
        "rows_in": manifest.rows_in,
        "rows_processed": manifest.rows_processed,
        "rows_rejected": manifest.rows_rejected,
        "error": manifest.error,
    }
