"""Stage 2, validate: split a raw CSV into processed and rejected Parquet, with a manifest and Data Docs.

Every data row of the file lands in exactly one output; the counts are checked before the batch is
committed. A file that cannot be read as a whole ends as a failed batch whose manifest says why.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from vitalflow import lake
from vitalflow.contract import DATASET, LATEST_EVENT_AFTER_UPLOAD_HOURS, PROCESSED_SCHEMA, REJECTED_SCHEMA
from vitalflow.exceptions import BatchRejected, EmptyFile, VitalflowError
from vitalflow.manifests import read_manifest, write_manifest
from vitalflow.models import Manifest, SourceRef, SuiteInfo, Timings
from vitalflow.ports import ObjectStore
from vitalflow.validate import parallel, prepare
from vitalflow.validate.commit import mark_committed, publish
from vitalflow.validate.docs import merge_results, publish_docs
from vitalflow.validate.memory import MemoryGuard
from vitalflow.validate.reader import FileScan, iter_chunks, scan_file
from vitalflow.validate.suite import HealthSuite
from vitalflow.validate.writer import PartitionedWriter

log = logging.getLogger(__name__)

MALFORMED = "row:malformed"


class RowCountMismatch(VitalflowError):
    """Internal safety net: the outputs do not add up to the input, so nothing is committed."""


@dataclass(frozen=True)
class Validated:
    manifest: Manifest
    duplicate: bool = False  # the same bytes were already processed; nothing was written


def validate_batch(
    source: SourceRef,
    store: ObjectStore,
    suite: HealthSuite,
    *,
    workdir: Path,
    chunk_rows: int = 150_000,
    memory_limit_mb: int = 0,
    docs_store: ObjectStore | None = None,
    progress: Callable[[int, int], None] | None = None,
    workers: int = 0,
) -> Validated:
    """Validate one raw file; idempotent on the file's content, safe to rerun after a crash.

    ``workers``: processes validating the file (``VITALFLOW_WORKERS``): 0 (auto) and 1 run everything
    in this process; see :func:`parallel.processes_for`.
    """
    started = datetime.now(timezone.utc)
    clock = time.perf_counter()
    with (
        store.local_copy(source.key, source.version_id) as path,
        _pool(suite, workers) as pool,
    ):
        try:
            scan = scan_file(path)
        except BatchRejected as exc:
            return _failed(store, source, path, started, clock, exc)
        batch_id = lake.batch_id_for(scan.sha256)
        existing = read_manifest(store, batch_id)
        if existing is not None and existing.status == "processed":
            if mark_committed(store, existing):  # a crash fell between manifest and marker
                log.info("batch %s was committed but not yet visible; marked it visible", batch_id)
            else:
                log.info("batch %s already processed; nothing written", batch_id)
            return Validated(existing, duplicate=True)
        hashed = time.perf_counter() - clock
        batch_dir = workdir / batch_id
        shutil.rmtree(batch_dir, ignore_errors=True)  # leftovers of a crashed attempt
        batch_dir.mkdir(parents=True)
        try:
            return _run(
                source,
                store,
                docs_store or store,
                suite,
                path,
                scan,
                batch_id,
                batch_dir,
                chunk_rows,
                memory_limit_mb,
                started,
                clock,
                hashed,
                progress,
                pool,
            )
        except BatchRejected as exc:
            return _failed(store, source, path, started, clock, exc, scan=scan)
        finally:
            shutil.rmtree(batch_dir, ignore_errors=True)


def _run(
    source: SourceRef,
    store: ObjectStore,
    docs_store: ObjectStore,
    suite: HealthSuite,
    path: Path,
    scan: FileScan,
    batch_id: str,
    batch_dir: Path,
    chunk_rows: int,
    memory_limit_mb: int,
    started: datetime,
    clock: float,
    hashed: float,
    progress: Callable[[int, int], None] | None,
    pool: parallel.WorkerPool,
) -> Validated:
    processed = PartitionedWriter(batch_dir, "processed", PROCESSED_SCHEMA, batch_id)
    rejected = PartitionedWriter(batch_dir, "rejected", REJECTED_SCHEMA, batch_id)
    ingest_dt = f"{started:%Y-%m-%d}"
    latest = (source.received_at or started) + timedelta(hours=LATEST_EVENT_AFTER_UPLOAD_HOURS)
    parameters = {"latest_event_time": latest.astimezone(timezone.utc).isoformat()}
    repeats = prepare.RepeatTracker()
    guard = MemoryGuard(memory_limit_mb, chunk_rows)
    phases = parallel.row_phases(iter_chunks(path, scan, chunk_rows), suite, parameters, pool)
    results = []
    reasons_count: Counter[str] = Counter()
    rows_in = rows_processed = rows_rejected = blank = 0
    try:
        for chunk, phase in phases:
            blank += chunk.blank
            if phase is not None:
                verdict, kept = phase.verdict, phase.kept
                repeats.mark(kept, np.ones(len(kept), dtype=bool), suite.duplicate_key)
                final = phase.final
                if prepare.REPEAT_COLUMN in final.columns:
                    repeat = np.zeros(len(final), dtype=bool)
                    repeat[phase.candidates] = kept[prepare.REPEAT_COLUMN].to_numpy(dtype=bool)
                    final[prepare.REPEAT_COLUMN] = repeat
                suite.check_final(final, verdict)
                results.extend(verdict.results)
                failed = verdict.failed(chunk.lines)
                good, days = prepare.processed_table(
                    kept, ~failed[phase.candidates], batch_id, started, latest
                )
                processed.write(good, days)
                positions = np.flatnonzero(failed)
                reasons, counts = verdict.reasons_of(chunk.lines[positions])
                rejected.write(
                    prepare.rejected_table(chunk.table, chunk.lines, reasons, positions, batch_id, started),
                    ingest_dt,
                )
                reasons_count.update(counts)
                rows_processed += good.num_rows
                rows_rejected += len(positions)
            if len(chunk.malformed_lines):
                n = len(chunk.malformed_lines)
                table = prepare.malformed_table(
                    chunk.malformed_lines, chunk.malformed_text, MALFORMED, batch_id, started
                )
                rejected.write(table, ingest_dt)
                reasons_count[MALFORMED] += n
                rows_rejected += n
            rows_in += chunk.table.num_rows + len(chunk.malformed_lines)
            guard.check(rows_in, pool.pids)
            if progress:
                progress(chunk.end, scan.size)
        if rows_in == 0:
            raise EmptyFile("the file has a header but no data rows")
        processed_files, rejected_files = processed.close(), rejected.close()
    except BaseException:
        phases.close()
        pool.close(clean=False)  # no worker outlives a failed batch
        processed.abort()
        rejected.abort()
        raise
    written = sum(f.rows for f in processed_files) + sum(f.rows for f in rejected_files)
    if rows_processed + rows_rejected != rows_in or written != rows_in:
        raise RowCountMismatch(
            f"internal error: {rows_in} rows in, {rows_processed} processed + {rows_rejected} "
            f"rejected, {written} written; nothing was committed"
        )
    validated = time.perf_counter() - clock
    docs_key = None
    if results:
        merged = merge_results(
            results,
            suite.name,
            {
                "batch_id": batch_id,
                "source": source.uri or source.key,
                "rows_in": rows_in,
                "rows_processed": rows_processed,
                "rows_rejected": rows_rejected,
            },
        )
        docs_key = publish_docs(
            merged, batch_id=batch_id, run_time=started, data_store=store, docs_store=docs_store
        )
    documented = time.perf_counter() - clock
    manifest = Manifest(
        batch_id=batch_id,
        dataset=DATASET,
        source=source,
        sha256=scan.sha256,
        bytes=scan.size,
        status="processed",
        rows_in=rows_in,
        rows_processed=rows_processed,
        rows_rejected=rows_rejected,
        rejected_by_reason=dict(sorted(reasons_count.items())),
        extra_columns=scan.header.extra,
        blank_lines=blank,
        partitions=sorted({f.dt for f in processed_files}),
        processed_files=[f.key for f in processed_files],
        rejected_files=[f.key for f in rejected_files],
        suite=SuiteInfo(name=suite.name, sha256=suite.sha256),
        docs=docs_store.uri(docs_key) if docs_key else None,
        started_at=started,
        finished_at=datetime.now(timezone.utc),
        timings=_timings(clock, hashed, validated, documented),
    )
    publish(store, batch_id, processed_files + rejected_files, manifest)
    log.info(
        "batch %s processed: %d rows in, %d processed, %d rejected",
        batch_id,
        manifest.rows_in,
        rows_processed,
        rows_rejected,
    )
    return Validated(manifest)


def _pool(suite: HealthSuite, workers: int) -> parallel.WorkerPool:
    """The batch's worker processes (none unless configured), started first: they import meanwhile."""
    return parallel.WorkerPool(parallel.processes_for(workers) - 1, suite)


def _failed(
    store: ObjectStore,
    source: SourceRef,
    path: Path,
    started: datetime,
    clock: float,
    exc: BatchRejected,
    scan: FileScan | None = None,
) -> Validated:
    if scan is not None:
        sha256, size = scan.sha256, scan.size
    else:
        sha256 = lake.sha256_file(path)
        size = path.stat().st_size
    batch_id = lake.batch_id_for(sha256)
    existing = read_manifest(store, batch_id)
    if existing is not None and existing.status == "processed":
        mark_committed(store, existing)
        return Validated(existing, duplicate=True)
    manifest = Manifest(
        batch_id=batch_id,
        dataset=DATASET,
        source=source,
        sha256=sha256,
        bytes=size,
        status="failed",
        error=str(exc),
        started_at=started,
        finished_at=datetime.now(timezone.utc),
        timings=Timings(total_s=round(time.perf_counter() - clock, 3)),
    )
    write_manifest(store, manifest)
    log.warning("batch %s failed: %s", batch_id, exc)
    return Validated(manifest)


def _timings(clock: float, hashed: float, validated: float, documented: float) -> Timings:
    total = time.perf_counter() - clock
    return Timings(
        hash_s=round(hashed, 3),
        validate_s=round(validated - hashed, 3),
        docs_s=round(documented - validated, 3),
        write_s=round(total - documented, 3),
        total_s=round(total, 3),
    )
