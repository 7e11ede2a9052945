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
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from vitalflow import lake
from vitalflow.contract import DATASET, LATEST_EVENT_AFTER_UPLOAD_HOURS, PROCESSED_SCHEMA, REJECTED_SCHEMA
from vitalflow.exceptions import BatchRejected, EmptyFile, RowCountMismatch
from vitalflow.manifests import read_manifest, write_manifest
from vitalflow.models import Manifest, SourceRef, SuiteInfo, Timings
from vitalflow.ports import ObjectStore
from vitalflow.validate import prepare
from vitalflow.validate.commit import mark_committed, publish
from vitalflow.validate.docs.publish import publish_docs
from vitalflow.validate.duplicates import Repeats
from vitalflow.validate.memory import MemoryGuard, release_free_memory
from vitalflow.validate.reader import FileScan, RawChunk, iter_chunks, scan_file
from vitalflow.validate.results import merge_results
from vitalflow.validate.rows import CheckedRows, check_rows
from vitalflow.validate.suite import HealthSuite
from vitalflow.validate.writer import PartitionedWriter, WrittenFile

if TYPE_CHECKING:
    from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResult

log = logging.getLogger(__name__)

MALFORMED = "row:malformed"


@dataclass(frozen=True)
class Validated:
    manifest: Manifest
    duplicate: bool = False  # the same bytes were already processed; nothing was written


@dataclass(frozen=True)
class BatchOptions:
    workdir: Path  # scratch space: the batch's files until they are published
    chunk_rows: int = 150_000  # rows validated at a time (VITALFLOW_CHUNK_ROWS)
    memory_limit_mb: int = 0  # VITALFLOW_MEMORY_LIMIT_MB; 0: the cgroup limit, if any
    progress: Callable[[int, int], None] | None = None  # (bytes read, file size) after each chunk


@dataclass
class Counts:
    rows_in: int = 0
    processed: int = 0
    rejected: int = 0
    blank: int = 0
    reasons: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class _Clock:
    """When the batch started, by the wall clock (for the record) and the monotonic one (for timings)."""

    started: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    origin: float = field(default_factory=time.perf_counter)

    def seconds(self) -> float:
        return time.perf_counter() - self.origin


def validate_batch(
    source: SourceRef,
    store: ObjectStore,
    suite: HealthSuite,
    options: BatchOptions,
    docs_store: ObjectStore | None = None,
) -> Validated:
    """Validate one raw file; idempotent on the file's content, safe to rerun after a crash."""
    clock = _Clock()
    with store.local_copy(source.key, source.version_id) as path:
        try:
            scan = scan_file(path)
        except BatchRejected as exc:
            return _failed(store, source, path, clock, exc)
        existing = read_manifest(store, lake.batch_id_for(scan.sha256))
        if existing is not None and existing.status == "processed":
            if mark_committed(store, existing):  # a crash fell between manifest and marker
                log.info("batch %s was committed but not yet visible; marked it visible", existing.batch_id)
            else:
                log.info("batch %s already processed; nothing written", existing.batch_id)
            return Validated(existing, duplicate=True)
        batch = Batch(source, store, docs_store or store, suite, path, scan, options, clock)
        try:
            return Validated(batch.run())
        except BatchRejected as exc:
            return _failed(store, source, path, clock, exc, scan)


class Batch:
    """One file being validated: its chunks go through the row phase into two writers, then the
    counts are checked, the Data Docs page published and the outputs committed, in that order."""

    def __init__(
        self,
        source: SourceRef,
        store: ObjectStore,
        docs_store: ObjectStore,
        suite: HealthSuite,
        path: Path,
        scan: FileScan,
        options: BatchOptions,
        clock: _Clock,
    ) -> None:
        self.source, self.store, self.docs_store, self.suite = source, store, docs_store, suite
        self.path, self.scan, self.options = path, scan, options
        self.clock, self.hashed = clock, clock.seconds()
        self.batch_id = lake.batch_id_for(scan.sha256)
        self.dir = options.workdir / self.batch_id
        self.counts = Counts()
        self.results: list[ExpectationSuiteValidationResult] = []  # every chunk's, merged for Data Docs

    @property
    def started(self) -> datetime:
        return self.clock.started

    @property
    def latest_event(self) -> datetime:
        """The latest event time a reading may have: a day after its upload (the rules' parameter)."""
        return (self.source.received_at or self.started) + timedelta(hours=LATEST_EVENT_AFTER_UPLOAD_HOURS)

    def run(self) -> Manifest:
        shutil.rmtree(self.dir, ignore_errors=True)  # leftovers of a crashed attempt
        self.dir.mkdir(parents=True)
        try:
            processed, rejected = self.chunks()
            self.check_counts(processed + rejected)
            validated = self.clock.seconds()
            docs = self.docs()
            timings = (self.hashed, validated, self.clock.seconds())
            manifest = self.manifest(processed, rejected, docs, timings)
            publish(self.store, self.batch_id, processed + rejected, manifest)
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
        log.info(
            "batch %s processed: %d rows in, %d processed, %d rejected",
            self.batch_id,
            self.counts.rows_in,
            self.counts.processed,
            self.counts.rejected,
        )
        return manifest

    def chunks(self) -> tuple[list[WrittenFile], list[WrittenFile]]:
        """Every chunk through the row phase into the processed and rejected writers, in file order."""
        processed = PartitionedWriter(self.dir, "processed", PROCESSED_SCHEMA, self.batch_id)
        rejected = PartitionedWriter(self.dir, "rejected", REJECTED_SCHEMA, self.batch_id)
        latest = self.latest_event.astimezone(timezone.utc)
        rules = self.suite.rules_for({"latest_event_time": latest.isoformat()})
        repeats = Repeats(self.suite.duplicate_key)
        guard = MemoryGuard(self.options.memory_limit_mb, self.options.chunk_rows)
        try:
            for chunk in iter_chunks(self.path, self.scan, self.options.chunk_rows):
                if chunk.table.num_rows:
                    checked = check_rows(chunk, rules, repeats)
                    self._route(chunk, checked, processed, rejected)
                    del checked
                    release_free_memory()  # the chunk's frames are gone: their pages too, before the next
                self._malformed(chunk, rejected)
                guard.check(self.counts.rows_in)
                if self.options.progress:
                    self.options.progress(chunk.end, self.scan.size)
            if self.counts.rows_in == 0:
                raise EmptyFile("the file has a header but no data rows")
            return processed.close(), rejected.close()
        except BaseException:
            processed.abort()
            rejected.abort()
            raise

    def _route(
        self, chunk: RawChunk, checked: CheckedRows, processed: PartitionedWriter, rejected: PartitionedWriter
    ) -> None:
        """A chunk's rows to the writers: typed rows that passed, raw text and reasons of the rest."""
        good, days = prepare.processed_table(
            checked.frame, ~checked.failed, self.batch_id, self.started, self.latest_event
        )
        processed.write(good, days)
        positions = np.flatnonzero(checked.failed)
        reasons, counts = checked.verdict.reasons_of(chunk.lines[positions])
        table = prepare.rejected_table(
            chunk.table, chunk.lines, reasons, positions, self.batch_id, self.started
        )
        rejected.write(table, f"{self.started:%Y-%m-%d}")
        self.results.extend(checked.verdict.results)
        self.counts.reasons.update(counts)
        self.counts.processed += good.num_rows
        self.counts.rejected += len(positions)
        self.counts.rows_in += chunk.table.num_rows

    def _malformed(self, chunk: RawChunk, rejected: PartitionedWriter) -> None:
        """Records that are not rows: rejected as they are, with their raw text."""
        n = len(chunk.malformed_lines)
        self.counts.blank += chunk.blank
        if n:
            table = prepare.malformed_table(
                chunk.malformed_lines, chunk.malformed_text, MALFORMED, self.batch_id, self.started
            )
            rejected.write(table, f"{self.started:%Y-%m-%d}")
            self.counts.reasons[MALFORMED] += n
            self.counts.rejected += n
            self.counts.rows_in += n

    def check_counts(self, files: list[WrittenFile]) -> None:
        """Every row in exactly one output, or nothing is committed."""
        c = self.counts
        written = sum(f.rows for f in files)
        if c.processed + c.rejected != c.rows_in or written != c.rows_in:
            raise RowCountMismatch(
                f"internal error: {c.rows_in} rows in, {c.processed} processed + {c.rejected} "
                f"rejected, {written} written; nothing was committed"
            )

    def docs(self) -> str | None:
        """Publish the batch's Data Docs page; its URI for the manifest."""
        if not self.results:
            return None
        facts = {
            "batch_id": self.batch_id,
            "source": self.source.uri or self.source.key,
            "rows_in": self.counts.rows_in,
            "rows_processed": self.counts.processed,
            "rows_rejected": self.counts.rejected,
        }
        merged = merge_results(self.results, self.suite.name, facts)
        key = publish_docs(
            merged,
            batch_id=self.batch_id,
            run_time=self.started,
            data_store=self.store,
            docs_store=self.docs_store,
        )
        return self.docs_store.uri(key)

    def manifest(
        self,
        processed: list[WrittenFile],
        rejected: list[WrittenFile],
        docs: str | None,
        timings: tuple[float, float, float],
    ) -> Manifest:
        c = self.counts
        return Manifest(
            batch_id=self.batch_id,
            dataset=DATASET,
            source=self.source,
            sha256=self.scan.sha256,
            bytes=self.scan.size,
            status="processed",
            rows_in=c.rows_in,
            rows_processed=c.processed,
            rows_rejected=c.rejected,
            rejected_by_reason=dict(sorted(c.reasons.items())),
            extra_columns=self.scan.header.extra,
            blank_lines=c.blank,
            partitions=sorted({f.dt for f in processed}),
            processed_files=[f.key for f in processed],
            rejected_files=[f.key for f in rejected],
            suite=SuiteInfo(name=self.suite.name, sha256=self.suite.sha256),
            docs=docs,
            started_at=self.started,
            finished_at=datetime.now(timezone.utc),
            timings=_timings(self.clock.seconds(), *timings),
        )


def _failed(
    store: ObjectStore,
    source: SourceRef,
    path: Path,
    clock: _Clock,
    exc: BatchRejected,
    scan: FileScan | None = None,
) -> Validated:
    """The manifest of a file that cannot be processed as a whole, saying why."""
    sha256 = scan.sha256 if scan is not None else lake.sha256_file(path)
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
        bytes=scan.size if scan is not None else path.stat().st_size,
        status="failed",
        error=str(exc),
        started_at=clock.started,
        finished_at=datetime.now(timezone.utc),
        timings=Timings(total_s=round(clock.seconds(), 3)),
    )
    write_manifest(store, manifest)
    log.warning("batch %s failed: %s", batch_id, exc)
    return Validated(manifest)


def _timings(total: float, hashed: float, validated: float, documented: float) -> Timings:
    return Timings(
        hash_s=round(hashed, 3),
        validate_s=round(validated - hashed, 3),
        docs_s=round(documented - validated, 3),
        write_s=round(total - documented, 3),
        total_s=round(total, 3),
    )
