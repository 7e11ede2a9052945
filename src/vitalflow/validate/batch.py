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
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from vitalflow import lake
from vitalflow.contract import LATEST_EVENT_AFTER_UPLOAD_HOURS, PROCESSED_SCHEMA, REJECTED_SCHEMA
from vitalflow.datadocs.page import DocsFacts
from vitalflow.datadocs.publish import publish_docs
from vitalflow.exceptions import BatchRejected, EmptyFile, RowCountMismatch, StoredReadingsChanged
from vitalflow.manifests import read_manifest, write_manifest
from vitalflow.models import Manifest, SourceRef, SuiteInfo, Timings
from vitalflow.ports import ObjectStore
from vitalflow.tables import LakeTables
from vitalflow.validate import prepare
from vitalflow.validate.commit import mark_committed, publish
from vitalflow.validate.duplicates import Repeats
from vitalflow.validate.loaded import (
    ALREADY_LOADED,
    CONFLICT,
    CONFLICTS_WITH_LOADED,
    LOADED,
    NEW,
    LoadedReadings,
)
from vitalflow.validate.memory import MemoryGuard, release_free_memory
from vitalflow.validate.reader import FileScan, Opener, file_opener, iter_chunks, scan_stream
from vitalflow.validate.records import RawChunk
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
    on_conflict: str = "reject"  # VITALFLOW_ON_CONFLICT: "replace" takes corrections (validate/loaded.py)
    tables: LakeTables | None = None  # where the batch is committed; None: the local lake's, in ``store``
    engine: str = "local"  # "spark": the row phase in Spark tasks, one split each (spark_engine.py)
    split_bytes: int = 128 << 20  # VITALFLOW_SPLIT_BYTES: the Spark engine's byte range per task


def validate_batch(
    source: SourceRef,
    store: ObjectStore,
    suite: HealthSuite,
    options: BatchOptions,
    docs_store: ObjectStore | None = None,
) -> Validated:
    """Validate one raw file; idempotent on the file's content, safe to rerun after a crash."""
    started, clock = datetime.now(timezone.utc), time.perf_counter()
    engine = _batch_class(options)
    engine.prepare()  # while the file is fetched and hashed
    copy = store.local_copy(source.key, source.version_id) if engine.reads_file else nullcontext(None)
    with copy as path:
        opener = file_opener(path) if path is not None else partial(store.open, source.key, source.version_id)
        scan: FileScan | None = None
        try:
            scan = engine.scan_upload(opener, options)
            existing = read_manifest(store, lake.batch_id_for(scan.sha256))
            if existing is not None and existing.status == "processed":
                return _duplicate(store, existing)
            tables = options.tables or LakeTables.for_store(store)
            hashed = time.perf_counter() - clock
            batch = engine(source, store, docs_store or store, suite, scan, options, started)
            return Validated(_validate(path, batch, tables, hashed, clock))
        except BatchRejected as exc:
            return _failed(store, source, opener, scan, started, clock, exc)


# Validations of one file in one run when other uploads keep storing readings of its dates first
# (each attempt compares with what they stored, so it rarely takes a second)
VALIDATE_ATTEMPTS = 3


def _validate(path: Path | None, first: Batch, tables: LakeTables, hashed: float, clock: float) -> Manifest:
    """Run the batch; from scratch again (fresh writers and counts, the table read anew) when other
    uploads stored readings of its dates before it could commit, so their rows count as loaded."""
    batch = first
    for attempt in range(1, VALIDATE_ATTEMPTS + 1):
        batch.use_tables(tables)
        batch.hashed = hashed
        try:
            return batch.run(path, clock)
        except StoredReadingsChanged as exc:
            if attempt < VALIDATE_ATTEMPTS:
                log.info("batch %s: readings of its dates were stored meanwhile; again", batch.batch_id)
                batch = batch.again()
                continue
            raise StoredReadingsChanged(
                f"{exc}; other uploads of the same dates kept committing first "
                f"({VALIDATE_ATTEMPTS} attempts): run the file again"
            ) from None
    raise StoredReadingsChanged("no attempt was made")  # VALIDATE_ATTEMPTS < 1


def _batch_class(options: BatchOptions) -> type[Batch]:
    """The engine's batch: Spark is imported only when asked for (never on the Python shell job)."""
    if options.engine == "spark":
        from vitalflow.validate.spark_engine import SparkBatch

        return SparkBatch
    return Batch


class Batch:
    """One file being validated: its chunks go through the row phase into two writers, then the
    counts are checked, the Data Docs page published and the outputs committed, in that order."""

    reads_file = True  # validated from a local copy of the upload (False: the engine reads the store)

    def __init__(
        self,
        source: SourceRef,
        store: ObjectStore,
        docs_store: ObjectStore,
        suite: HealthSuite,
        scan: FileScan,
        options: BatchOptions,
        started: datetime,
    ) -> None:
        self.source, self.store, self.docs_store, self.suite = source, store, docs_store, suite
        self.scan, self.options, self.started = scan, options, started
        self.batch_id = lake.batch_id_for(scan.sha256)
        self.dir = options.workdir / self.batch_id
        self.hashed = 0.0
        self.tables: LakeTables | None = None
        self.loaded: LoadedReadings | None = None
        # A reading may be dated up to a day after its upload: the rules' one parameter.
        received = source.received_at or started
        self.latest_event = (received + timedelta(hours=LATEST_EVENT_AFTER_UPLOAD_HOURS)).astimezone(
            timezone.utc
        )
        self.processed = PartitionedWriter(self.dir, "processed", PROCESSED_SCHEMA, self.batch_id)
        self.rejected = PartitionedWriter(self.dir, "rejected", REJECTED_SCHEMA, self.batch_id)
        self.rows_in = self.rows_processed = self.rows_rejected = self.blank = 0
        self.reasons: Counter[str] = Counter()
        self.results: list[ExpectationSuiteValidationResult] = []  # every chunk's, merged for Data Docs

    @classmethod
    def prepare(cls) -> None:
        """Start what the engine needs before the file is read (nothing: this process is enough)."""

    @classmethod
    def scan_upload(cls, opener: Opener, options: BatchOptions) -> FileScan:
        """The first pass over the file (``reader.scan_stream``), with what this engine needs of it."""
        return scan_stream(opener)

    def again(self) -> Batch:
        """A fresh start on the same file (nothing of this attempt is kept)."""
        return type(self)(  # the same engine
            self.source, self.store, self.docs_store, self.suite, self.scan, self.options, self.started
        )

    def use_tables(self, tables: LakeTables) -> None:
        self.tables = tables
        self.loaded = LoadedReadings(tables, self.batch_id)

    def run(self, path: Path | None, clock: float) -> Manifest:
        shutil.rmtree(self.dir, ignore_errors=True)  # leftovers of a crashed attempt
        self.dir.mkdir(parents=True)
        try:
            files = self.chunks(path)
            self.check_counts(files)
            validated = time.perf_counter() - clock
            docs = self.docs()
            documented = time.perf_counter() - clock
            manifest = self.manifest(files, docs, (validated, documented, time.perf_counter() - clock))
            assert self.tables is not None and self.loaded is not None
            outputs = {"processed": files[0], "rejected": files[1]}
            read_at = self.loaded.read_at()
            manifest = publish(self.store, self.tables, outputs, manifest, self.loaded.replaced, read_at)
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
        log.info(
            "batch %s processed: %d rows in, %d rejected", self.batch_id, self.rows_in, self.rows_rejected
        )
        return manifest

    def chunks(self, path: Path | None) -> tuple[list[WrittenFile], list[WrittenFile]]:
        """Every chunk through the row phase into the processed and rejected writers, in file order."""
        assert path is not None, "the single process reads its local copy of the file (reads_file)"
        rules = self.suite.rules_for({"latest_event_time": self.latest_event.isoformat()})
        repeats = Repeats(self.suite.duplicate_key)
        guard = MemoryGuard(self.options.memory_limit_mb, self.options.chunk_rows)
        try:
            for chunk in iter_chunks(path, self.scan, self.options.chunk_rows):
                if chunk.table.num_rows:
                    self._route(chunk, check_rows(chunk, rules, repeats))
                    release_free_memory()  # the chunk's frames are gone: their pages too, before the next
                self._malformed(chunk)
                guard.check(self.rows_in)
                if self.options.progress:
                    self.options.progress(chunk.end, self.scan.size)
            if self.rows_in == 0:
                raise EmptyFile("the file has a header but no data rows")
            return self.processed.close(), self.rejected.close()
        except BaseException:
            self.processed.abort()
            self.rejected.abort()
            raise

    def _route(self, chunk: RawChunk, checked: CheckedRows) -> None:
        """A chunk's rows to the writers: typed rows that passed, raw text and reasons of the rest."""
        good, days = prepare.processed_table(
            checked.frame, ~checked.failed, self.batch_id, self.started, self.latest_event
        )
        good, days = self._once(chunk, checked, good, days)
        self.processed.write(good, days)
        positions = np.flatnonzero(checked.failed)
        reasons, counts = checked.verdict.reasons_of(chunk.lines[positions])
        table = prepare.rejected_table(
            chunk.table, chunk.lines, reasons, positions, self.batch_id, self.started
        )
        self.rejected.write(table, f"{self.started:%Y-%m-%d}")
        self.results.extend(checked.verdict.results)
        self.reasons.update(counts)
        self.rows_processed += good.num_rows
        self.rows_rejected += len(positions)
        self.rows_in += chunk.table.num_rows

    def _once(
        self, chunk: RawChunk, checked: CheckedRows, good: pa.Table, days: np.ndarray
    ) -> tuple[pa.Table, np.ndarray]:
        """Valid rows whose reading is stored already go to rejected (validate/loaded.py); the rest on."""
        assert self.loaded is not None
        verdict = self.loaded.classify(good, days)
        if self.options.on_conflict == "replace":
            self.loaded.replace(good, days, np.flatnonzero(verdict == CONFLICT))
            verdict[verdict == CONFLICT] = NEW
        if not verdict.any():
            return good, days
        again = np.flatnonzero(~checked.failed)[verdict != NEW]
        names = np.where(verdict[verdict != NEW] == LOADED, ALREADY_LOADED, CONFLICTS_WITH_LOADED)
        reasons = pa.array([[name] for name in names.tolist()], pa.list_(pa.string()))
        table = prepare.rejected_table(chunk.table, chunk.lines, reasons, again, self.batch_id, self.started)
        self.rejected.write(table, f"{self.started:%Y-%m-%d}")
        self.reasons.update(names.tolist())
        self.rows_rejected += len(again)
        keep = verdict == NEW
        return good.filter(pa.array(keep)), np.asarray(days)[keep]

    def _malformed(self, chunk: RawChunk) -> None:
        """Records that are not rows: rejected as they are, with their raw text."""
        n = len(chunk.malformed_lines)
        self.blank += chunk.blank
        if n:
            lines, texts = chunk.malformed_lines, chunk.malformed_text
            table = prepare.malformed_table(lines, texts, MALFORMED, self.batch_id, self.started)
            self.rejected.write(table, f"{self.started:%Y-%m-%d}")
            self.reasons[MALFORMED] += n
            self.rows_rejected += n
            self.rows_in += n

    def check_counts(self, files: tuple[list[WrittenFile], list[WrittenFile]]) -> None:
        """Every row in exactly one output, or nothing is committed."""
        written = sum(f.rows for f in files[0] + files[1])
        if self.rows_processed + self.rows_rejected != self.rows_in or written != self.rows_in:
            raise RowCountMismatch(
                f"internal error: {self.rows_in} rows in, {self.rows_processed} processed + "
                f"{self.rows_rejected} rejected, {written} written; nothing was committed"
            )

    def docs(self) -> str | None:
        """Publish the batch's Data Docs page; its URI for the manifest."""
        if not self.results:
            return None
        facts = DocsFacts(
            self.rows_in, self.rows_processed, self.rows_rejected, dict(self.reasons), self._uri
        )
        meta = {"batch_id": self.batch_id, "source": self._uri, "rows_in": self.rows_in}
        meta.update(rows_processed=self.rows_processed, rows_rejected=self.rows_rejected)
        merged = merge_results(self.results, self.suite.name, meta)
        key = publish_docs(
            merged,
            batch_id=self.batch_id,
            run_time=self.started,
            data_store=self.store,
            docs_store=self.docs_store,
            facts=facts,
        )
        return self.docs_store.uri(key)

    @property
    def _uri(self) -> str:
        return self.source.uri or self.source.key

    def manifest(
        self, files: tuple[list[WrittenFile], list[WrittenFile]], docs: str | None, times: tuple[float, ...]
    ) -> Manifest:
        """The batch's record; ``times``: seconds from the start to validated, documented, now."""
        (processed, rejected), (validated, documented, total) = files, times
        timings = Timings(
            hash_s=round(self.hashed, 3),
            validate_s=round(validated - self.hashed, 3),
            docs_s=round(documented - validated, 3),
            write_s=round(total - documented, 3),
            total_s=round(total, 3),
        )
        return Manifest(
            batch_id=self.batch_id,
            source=self.source,
            sha256=self.scan.sha256,
            bytes=self.scan.size,
            status="processed",
            rows_in=self.rows_in,
            rows_processed=self.rows_processed,
            rows_rejected=self.rows_rejected,
            rows_replaced=len(self.loaded.replaced) if self.loaded is not None else 0,
            rejected_by_reason=dict(sorted(self.reasons.items())),
            extra_columns=self.scan.header.extra,
            blank_lines=self.blank,
            partitions=sorted({day for f in processed for day in f.dates}),
            processed_files=[f.key for f in processed],
            rejected_files=[f.key for f in rejected],
            suite=SuiteInfo(name=self.suite.name, sha256=self.suite.sha256),
            docs=docs,
            started_at=self.started,
            finished_at=datetime.now(timezone.utc),
            timings=timings,
        )


def _duplicate(store: ObjectStore, existing: Manifest) -> Validated:
    """The same bytes were committed before: make sure the batch is visible, write nothing else."""
    if mark_committed(store, existing):  # a crash fell between manifest and marker
        log.info("batch %s was committed but not yet visible; marked it visible", existing.batch_id)
    else:
        log.info("batch %s already processed; nothing written", existing.batch_id)
    return Validated(existing, duplicate=True)


def _failed(
    store: ObjectStore,
    source: SourceRef,
    opener: Opener,
    scan: FileScan | None,
    started: datetime,
    clock: float,
    exc: BatchRejected,
) -> Validated:
    """The manifest of a file that cannot be processed as a whole, saying why."""
    if scan is not None:
        sha256, size = scan.sha256, scan.size
    else:
        with opener() as fh:
            sha256, size = lake.sha256_read(fh)
    batch_id = lake.batch_id_for(sha256)
    existing = read_manifest(store, batch_id)
    if existing is not None and existing.status == "processed":
        return _duplicate(store, existing)
    manifest = Manifest(
        batch_id=batch_id,
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
