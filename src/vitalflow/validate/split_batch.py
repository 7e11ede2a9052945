"""One split of a file through the single-process validator, in two halves around the duplicate rule.

The Spark engine (``spark_engine``) runs these inside its tasks; nothing here imports Spark. The row
rules judge every row on its own, so a split can run them alone (``check_split``). The duplicate
rule needs the whole file (the first valid reading of a key wins, wherever it is): the valid rows'
key hashes (``candidate_keys``) go through Spark's shuffle, and ``finish_split`` gets back the lines
that lost, then runs the final rule and routes rows exactly as ``Batch`` does, with its own methods,
into Parquet files named by the split (``<batch>-s<split>``), so a retried task replaces what a
failed attempt wrote.
"""

from __future__ import annotations

import dataclasses
import pickle
import shutil
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from vitalflow import lake
from vitalflow.contract import LATEST_EVENT_AFTER_UPLOAD_HOURS
from vitalflow.models import SourceRef
from vitalflow.ports import ObjectStore
from vitalflow.stored_since import ReadAt
from vitalflow.tables import LakeTables, Reading
from vitalflow.validate import prepare
from vitalflow.validate.duplicates import KnownRepeats, key_hashes
from vitalflow.validate.memory import MemoryGuard
from vitalflow.validate.reader import FileScan, iter_chunks
from vitalflow.validate.records import RawChunk
from vitalflow.validate.results import condense
from vitalflow.validate.rows import CheckedRows
from vitalflow.validate.splits import Split
from vitalflow.validate.suite import BatchRules, ChunkVerdict, HealthSuite
from vitalflow.validate.writer import WrittenFile

if TYPE_CHECKING:
    from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResult


@dataclass(frozen=True)
class SplitJob:
    """What every task of one batch needs (pickled to the executors): the batch's facts and lake.

    Tasks share nothing with the driver but this and the object store: each reads its part of the
    upload from the store and puts its files there (``_place``), on whichever machine it runs.
    """

    source: SourceRef  # the upload, read from ``store`` by byte ranges
    scan: FileScan
    started: datetime
    workdir: Path  # the batch's folder on the driver; a task's scratch at the same path on its machine
    store: ObjectStore
    lake_tables: Callable[[], LakeTables]  # builds the tables in the task: a connected catalog never pickles
    suite_path: Path | None
    duplicate_key: list[str]  # the suite's, sent along: hashing keys must not load the suite in a worker
    chunk_rows: int
    split_bytes: int
    on_conflict: str
    snapshot: int | None = None  # the processed table's snapshot every split compares with
    kept: Path | None = None  # where a task keeps its judged chunks for the split's finishing task
    memory_limit_mb: int = 0  # VITALFLOW_MEMORY_LIMIT_MB, per task (each a Python worker process)

    @property
    def latest_event(self) -> datetime:
        received = self.source.received_at or self.started
        return (received + timedelta(hours=LATEST_EVENT_AFTER_UPLOAD_HOURS)).astimezone(timezone.utc)

    def part(self, start: int, stop: int) -> AbstractContextManager[Path]:
        """The upload's bytes ``[start, stop)`` on this machine, at their offsets in the file."""
        return self.store.local_range(self.source.key, self.source.version_id, start, stop)

    def rules(self) -> BatchRules:
        """The batch's rules, kept by each worker process for the batch's next split: what GE answered
        per distinct row (``distinct``) serves the next split as it serves the next chunk in one
        process, so a split does not pay Great Expectations again for rows it has seen."""
        key = (self.scan.sha256, self.suite_path, self.latest_event.isoformat())
        if key not in _RULES:
            _RULES.clear()  # another batch's answers: one batch's at a time
            _RULES[key] = _suite(self.suite_path).rules_for({"latest_event_time": key[2]})
        return _RULES[key]

    def guard(self) -> MemoryGuard:
        """The memory budget of one task (``validate/memory.py``), with the Spark engine's advice."""
        advice = f"or lower VITALFLOW_SPLIT_BYTES (each task's share of the file; now {self.split_bytes:,})"
        return MemoryGuard(self.memory_limit_mb, self.chunk_rows, advice)


@dataclass
class CheckedChunk:
    """A chunk after the row rules, before the duplicate rule."""

    chunk: RawChunk
    frame: pd.DataFrame | None  # None: the chunk has no rows (only malformed or blank records)
    verdict: ChunkVerdict | None


@dataclass
class SplitOutput:
    """What a finished split reports to the driver: counts, GE results and its files."""

    index: int
    rows_in: int = 0
    rows_processed: int = 0
    rows_rejected: int = 0
    blank: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    results: list[ExpectationSuiteValidationResult] = field(default_factory=list)
    processed: list[WrittenFile] = field(default_factory=list)
    rejected: list[WrittenFile] = field(default_factory=list)
    replaced: list[Reading] = field(default_factory=list)
    read_at: ReadAt | None = None  # what its rows were compared with (the commit checks it)


def check_split(job: SplitJob, split: Split) -> Iterator[CheckedChunk]:
    """The split's records chunk by chunk, each judged by the row rules (the costly half)."""
    rules, guard, rows = job.rules(), job.guard(), 0
    with job.part(split.start, split.stop) as path:
        for chunk in iter_chunks(path, job.scan, job.chunk_rows, split):
            if not chunk.table.num_rows:
                yield CheckedChunk(chunk, None, None)
                continue
            frame = prepare.check_frame(chunk.table, chunk.lines)
            verdict = rules.verdict()
            rules.check_rows(frame, verdict)
            rows += chunk.table.num_rows
            guard.check(rows)
            yield CheckedChunk(chunk, frame, verdict)


def kept(
    checked: Iterable[CheckedChunk], path: Path, attempt: str, rules: BatchRules
) -> Iterator[CheckedChunk]:
    """``checked``, each chunk also appended to ``path`` as it passes (``for_finish``), so the split's
    finishing task reads the judged chunks back instead of judging them again (the rules are most of
    a split's work).

    Written under the attempt's name and renamed once complete: a reader finds a whole file or none.
    """
    partial = path.with_name(f"{path.name}.{attempt}")
    path.parent.mkdir(parents=True, exist_ok=True)
    with partial.open("wb") as fh:
        for one in checked:
            pickle.dump(for_finish(one, rules), fh, protocol=pickle.HIGHEST_PROTOCOL)
            yield one
    partial.replace(path)


def for_finish(one: CheckedChunk, rules: BatchRules) -> CheckedChunk:
    """What a split's finishing task reads of a judged chunk: its raw rows (a rejected row keeps its
    text), its verdict, and of its frame only the columns the processed table and the after-row-checks
    rules read. The other columns (the trimmed text, the rules' flags) were a third of the bytes kept,
    and writing kept files cost more system time than pickling them (about 450 MB/s into a new file
    here)."""
    if one.frame is None:
        return one
    columns = list(dict.fromkeys([*prepare.PROCESSED_FROM, *rules.final_columns(one.frame)]))
    return CheckedChunk(one.chunk, one.frame[columns], one.verdict)


def kept_or_checked(job: SplitJob, split: Split, path: Path | None) -> Iterator[CheckedChunk]:
    """The split's judged chunks as ``kept`` left them at ``path``, else judged again here (``path``
    is None, or ``kept`` ran on another machine).

    The file is the batch's own scratch, written by this job's tasks, never by users' input.
    """
    if path is None or not path.exists():
        yield from check_split(job, split)
        return
    with path.open("rb") as fh:
        while True:
            try:
                yield pickle.load(fh)
            except EOFError:
                return


def candidate_keys(job: SplitJob, checked: Iterable[CheckedChunk]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Per chunk: the key hashes and lines of the rows that passed the row rules (the rows that may
    claim a key), as arrays."""
    key = job.duplicate_key
    for one in checked:
        if one.frame is None or one.verdict is None or not key:
            continue
        candidates = ~one.verdict.failed(one.chunk.lines)
        if candidates.any():
            hashes = key_hashes(one.frame, candidates, key).view(np.int64)
            yield hashes, one.chunk.lines[candidates].astype(np.int64)


def finish_split(
    job: SplitJob, split: Split, checked: Iterable[CheckedChunk], repeats: np.ndarray, attempt: str
) -> SplitOutput:
    """The duplicate rule with the file-wide ``repeats``, then rows to Parquet as ``Batch`` routes them.

    Written under an attempt's own folder, then moved to the split's: a retried (or speculative)
    attempt replaces the split's files whole, never adds to them.
    """
    from vitalflow.validate.batch import Batch, BatchOptions  # the single-process batch's own routing

    scratch = job.workdir / "attempts" / attempt
    shutil.rmtree(scratch, ignore_errors=True)
    tables = job.lake_tables()
    options = BatchOptions(scratch, job.chunk_rows, on_conflict=job.on_conflict, tables=tables)
    batch = Batch(job.source, job.store, job.store, _suite(job.suite_path), job.scan, options, job.started)
    batch.use_tables(tables)
    assert batch.loaded is not None
    batch.loaded.pin(job.snapshot)
    rules, known, guard = job.rules(), KnownRepeats(repeats), job.guard()
    try:
        for one in checked:
            if one.frame is not None and one.verdict is not None:
                known.mark(one.frame, ~one.verdict.failed(one.chunk.lines))
                rules.check_final(one.frame, one.verdict)
                batch._route(
                    one.chunk, CheckedRows(one.frame, one.verdict, one.verdict.failed(one.chunk.lines))
                )
            batch._malformed(one.chunk)
            guard.check(batch.rows_in)
        files = batch.processed.close(), batch.rejected.close()
    except BaseException:
        batch.processed.abort()
        batch.rejected.abort()
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    assert batch.loaded is not None
    output = SplitOutput(split.index, batch.rows_in, batch.rows_processed, batch.rows_rejected, batch.blank)
    output.reasons, output.replaced = batch.reasons, batch.loaded.replaced
    output.results = condense(batch.results)  # one per rule group, not one per chunk, to the driver
    output.read_at = batch.loaded.read_at()
    output.processed, output.rejected = (_place(job, split, f) for f in files)
    shutil.rmtree(scratch, ignore_errors=True)
    return output


def _place(job: SplitJob, split: Split, files: list[WrittenFile]) -> list[WrittenFile]:
    """Put an attempt's files in the store's staging area under names of the split: ``<batch>-s<split>``
    where the writer put the batch id, so whatever layout the writer chooses, splits never share a
    name and a retry replaces what a failed attempt put there. The driver's commit copies them to
    their keys (``commit.publish``) and deletes the staged copies."""
    batch_id = lake.batch_id_for(job.scan.sha256)
    placed = []
    for one in files:
        folder, _, name = one.key.rpartition("/")
        key = f"{folder}/{name.replace(batch_id, f'{batch_id}-s{split.index:05d}', 1)}"
        staged = f"{lake.STAGING}{batch_id}/{key}"
        job.store.put_file(one.path, staged)
        placed.append(dataclasses.replace(one, key=key, staged=staged))
    return placed


_SUITES: dict[Path | None, HealthSuite] = {}
_RULES: dict[tuple[str, Path | None, str], BatchRules] = {}  # the last batch's, in this process


def _suite(path: Path | None) -> HealthSuite:
    """One loaded suite per executor process and path (loading builds a GE context)."""
    if path not in _SUITES:
        _SUITES[path] = HealthSuite(path)
    return _SUITES[path]
