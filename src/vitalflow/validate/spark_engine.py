"""The Spark engine: the same batch as ``Batch``, its rows judged by Spark tasks, one split each.

The driver keeps everything that is about the batch as a whole and reuses ``Batch`` for it: the
counts check, the Data Docs page from the merged GE results, the manifest and the commit protocol
(``validate/commit.py``), written once after every task succeeded. Only the row phase is
distributed:

1. the driver cuts the file into splits as it streams and hashes the upload (``splits``);
2. each split's rows go through the row rules in a task (Great Expectations on pandas, the
   distinct-row memo), which keeps the judged chunks on its machine's disk for step 4;
3. the key hashes of the valid rows leave the tasks packed by key partition, shuffled by key: the
   tasks that receive them keep the lowest line of a key held by several rows (numpy, no Python
   call per row); every other line is a repeat, shuffled to the task that finishes the split
   holding it;
4. each split's judged chunks (read back, or judged again on another machine) take the duplicate
   rule and are routed and written as ``Batch`` would, to Parquet files named by split (a retried
   task replaces its files); the driver gets counts and condensed GE results.

Keys never reach the driver. A vitalflow error in a task (a record past the reader's limit, the
memory budget, a suite that cannot be evaluated) ends the batch on the driver as itself
(``carried``). Tasks share nothing with the driver but the object store: they read their bytes of
the upload from it and stage their Parquet files in it (``split_batch``). The slots' Python workers
are started while the driver streams and hashes the file (``start_workers``). Spark is imported
here only: the Python shell job (Python 3.9) never imports this module.
"""

from __future__ import annotations

import base64
import dataclasses
import os
import pickle
import re
import sys
import threading
import uuid
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pyspark import TaskContext
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from vitalflow.exceptions import EmptyFile, VitalflowError
from vitalflow.validate.batch import Batch, BatchOptions
from vitalflow.validate.reader import FileScan, Opener, scan_stream
from vitalflow.validate.split_batch import (
    SplitJob,
    SplitOutput,
    candidate_keys,
    check_split,
    finish_split,
    kept,
    kept_or_checked,
)
from vitalflow.validate.splits import Split
from vitalflow.validate.writer import WrittenFile

LOG_CONFIG = Path(__file__).resolve().parent.parent / "resources" / "spark" / "log4j2.properties"
# PySpark's own checks of pandas' and pyarrow's versions use distutils, which warns on every call
warnings.filterwarnings("ignore", "distutils Version classes", DeprecationWarning, r"pyspark\.")


# What every session that runs vitalflow's tasks needs (local, the tests', the Glue job's): its Python
# workers forked from a daemon that imported vitalflow already (spark_daemon.py), and reused.
SPARK_CONF: dict[str, Any] = {  # (typed as the builder's map= takes it)
    "spark.python.daemon.module": "vitalflow.validate.spark_daemon",
    "spark.python.worker.reuse": "true",
}


# A local session's one JVM only schedules tasks and passes Arrow batches: the rows are judged in
# its Python workers, on the same cores. Its just-in-time compiler's optimizing tier and a parallel
# collector's threads would compete with them for those cores: a 10M-row batch on two cores cost the
# JVM 7-8 s of CPU with them, 5 s without (its CPU time read from /proc around one batch).
LOCAL_JAVA_OPTIONS = " ".join(
    [f"-Dlog4j2.configurationFile={LOG_CONFIG.as_uri()}", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]
)


def spark_session(master: str = "local[*]", shuffle_partitions: int = 8) -> SparkSession:
    """The running session, or a local one: the Glue job and the tests bring theirs."""
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # the workers run this interpreter's packages
    builder = SparkSession.builder.master(master).appName("vitalflow-validate").config(map=SPARK_CONF)
    builder = builder.config("spark.sql.shuffle.partitions", str(shuffle_partitions))
    # the CLI's output is vitalflow's: no progress bars, and Spark's errors only (LOG_CONFIG)
    builder = builder.config("spark.ui.showConsoleProgress", "false")
    builder = builder.config("spark.driver.extraJavaOptions", LOCAL_JAVA_OPTIONS)
    return builder.config("spark.ui.enabled", "false").getOrCreate()


class SparkBatch(Batch):
    """A ``Batch`` whose row phase runs on Spark; everything after it is the single-process code."""

    spark: SparkSession | None = None
    before_finish: Any = None  # tests: called in each finishing task with its split (a failure hook)
    keep_judged = True  # False: each finishing task judges its split again, as on another machine
    reads_file = False  # the tasks read their ranges from the store; the driver streams it once to hash it

    @classmethod
    def prepare(cls) -> None:
        """The session, and its Python workers starting while the driver fetches and hashes the file."""
        start_workers(cls.spark or spark_session())

    @classmethod
    def scan_upload(cls, opener: Opener, options: BatchOptions) -> FileScan:
        """The driver cuts the splits as it hashes the upload: one pass, no job reading it again."""
        return scan_stream(opener, options.split_bytes)

    def chunks(self, path: Path | None) -> tuple[list[WrittenFile], list[WrittenFile]]:
        spark = self.spark or spark_session()
        job, splits = self._job(), list(self.scan.splits)
        outputs = run_splits(spark, job, splits, self.before_finish) if splits else []
        for output in sorted(outputs, key=lambda o: o.index):
            self._take(output)
        if self.rows_in == 0:
            raise EmptyFile("the file has a header but no data rows")
        processed = sorted((f for o in outputs for f in o.processed), key=lambda f: f.key)
        rejected = sorted((f for o in outputs for f in o.rejected), key=lambda f: f.key)
        return processed, rejected

    def _job(self) -> SplitJob:
        assert self.tables is not None
        return SplitJob(
            source=self.source,
            scan=dataclasses.replace(self.scan, splits=()),  # the tasks get the splits they need
            started=self.started,
            workdir=self.dir,
            store=self.store,
            lake_tables=self.tables.detached(),
            suite_path=self.suite.path,
            duplicate_key=self.suite.duplicate_key,
            chunk_rows=self.options.chunk_rows,
            split_bytes=self.options.split_bytes,
            on_conflict=self.options.on_conflict,
            snapshot=self.loaded.snapshot_id() if self.loaded is not None else None,
            # this run's own folder: a machine may still hold an earlier run's files of the batch
            kept=self.dir / "kept" / uuid.uuid4().hex if self.keep_judged else None,
            memory_limit_mb=self.options.memory_limit_mb,
        )

    def _take(self, output: SplitOutput) -> None:
        self.rows_in += output.rows_in
        self.rows_processed += output.rows_processed
        self.rows_rejected += output.rows_rejected
        self.blank += output.blank
        self.reasons.update(output.reasons)
        self.results.extend(output.results)
        assert self.loaded is not None
        self.loaded.replaced.extend(output.replaced)
        self.loaded.compared(output.read_at)


def run_splits(
    spark: SparkSession, job: SplitJob, splits: list[Split], hook: Any = None
) -> list[SplitOutput]:
    """Steps 2 to 4 of the module docstring; the outputs of every split (all tasks succeeded).

    The row rules run once per split: the first task keeps its judged chunks on its machine's disk
    (``kept``) and the finishing task reads them back, or judges them again if it runs elsewhere.
    """
    n = len(splits)
    # One shuffle on the key (a groupBy joined back would run the tasks above twice): each key's
    # rows meet in one task, which finds the keys held by more than one row and keeps each one's
    # lowest line (numpy); every other line is a repeat. The keys never reach the driver. Each task
    # takes the keys of about KEYS_PART_BYTES of the file, with one task a slot at least.
    # A split's keys travel packed, one row per key partition (``_pack``): Spark moves a few rows
    # a split, not one per reading (converting rows between the JVM and Arrow cost more than the
    # shuffle itself).
    parts = max(-(-job.scan.size // KEYS_PART_BYTES), spark.sparkContext.defaultParallelism)
    to_part = partition_values(parts)
    keys = spark.range(0, n, 1, n).mapInArrow(  # one split per partition, each its own task
        lambda batches: _keys(job, splits, to_part, batches), _PACKED
    )
    repeats = keys.repartition(parts, "to").mapInArrow(_repeats, _REPEATS)
    # Each split's repeats reach its finishing task through Spark's shuffle, a row for every split
    # (its keys task sends a mark through the key shuffle, so a split without keys or repeats is
    # finished too): split i goes to partition i, by a value Spark's hash sends there (a range
    # partitioning would sample its input first, finding the repeats twice). A task finishes every
    # split it is sent, so no file or folder is shared between machines.
    to = F.element_at(F.array(*(F.lit(v) for v in partition_values(n))), F.col("split") + 1)
    routed = repeats.withColumn("to", to).repartition(n, "to").drop("to")
    return _answers(routed.mapInArrow(lambda batches: _finish_all(job, splits, batches, hook), _ANSWERS), n)


def partition_values(n: int) -> list[int]:
    """For each i < n, a number that ``repartition(n, column)`` of an int column puts in partition i.

    Spark's hash partitioning is ``pmod(hash(value), n)``, its ``hash`` Murmur3 (x86, 32 bits) with
    seed 42 (``Murmur3_x86_32.hashInt``); computed here for a few numbers a partition, so the driver
    needs no Spark job for it (``test_partition_values_follow_sparks_hash`` holds it to Spark's).
    """
    found: dict[int, int] = {}
    limit = 32 * n
    while len(found) < n:  # 32 candidates a partition leave one empty about once in 10^14
        values = np.arange(limit, dtype=np.int64)
        owners = spark_hash(values.astype(np.int32)).astype(np.int64) % n
        found = {int(p): int(values[i]) for p, i in zip(*np.unique(owners, return_index=True))}
        limit *= 4
    return [found[i] for i in range(n)]


def spark_hash(values: np.ndarray) -> np.ndarray:
    """Spark's ``hash()`` of 32-bit integers (Murmur3 x86 32, seed 42), as signed 32-bit integers."""
    with np.errstate(over="ignore"):
        k = values.astype(np.uint32) * np.uint32(0xCC9E2D51)
        k = _rotl(k, 15) * np.uint32(0x1B873593)
        h = _rotl(np.uint32(42) ^ k, 13) * np.uint32(5) + np.uint32(0xE6546B64)
        h ^= np.uint32(4)  # the input's length in bytes
        h ^= h >> np.uint32(16)
        h *= np.uint32(0x85EBCA6B)
        h ^= h >> np.uint32(13)
        h *= np.uint32(0xC2B2AE35)
        h ^= h >> np.uint32(16)
    return h.view(np.int32)


def _rotl(x: np.ndarray, r: int) -> np.ndarray:
    return (x << np.uint32(r)) | (x >> np.uint32(32 - r))


def start_workers(spark: SparkSession) -> None:
    """Start a Python worker on every task slot, in the background, once per Spark application.

    Their daemon's imports (vitalflow and Great Expectations, about 3 s) then overlap the driver's
    download and hash of the file instead of delaying the first split; the batch's tasks reuse the
    workers (``spark.python.worker.reuse``). A failure here is left for the batch's own tasks to meet.
    """
    application = spark.sparkContext.applicationId
    if application in _STARTED:
        return
    _STARTED.add(application)

    def run() -> None:
        with suppress(Exception):
            warm_workers(spark)

    threading.Thread(target=run, name="vitalflow-start-workers", daemon=True).start()


_STARTED: set[str] = set()  # the Spark applications whose workers were started


def warm_workers(spark: SparkSession) -> None:
    """One trivial task per slot, so that each slot's Python worker has started and imported vitalflow.

    Through Spark SQL's Arrow runner (``mapInArrow``), as the batch's tasks are, not an RDD: Spark gives
    the two kinds of Python runner two daemons, and each daemon pays vitalflow's imports (3 s).
    """
    n = spark.sparkContext.defaultParallelism
    spark.range(0, n, 1, n).mapInArrow(lambda batches: batches, "id long").collect()


def _answers(tasks: Any, n: int) -> list[Any]:
    """The answers ``tasks`` (a DataFrame of ``_ANSWERS``) give for 0..n-1, in order, once all succeeded."""
    with task_errors():
        rows = tasks.collect()
    found = {row["i"]: pickle.loads(row["answer"]) for row in rows}  # our own tasks' answers
    return [found[i] for i in range(n)]


_PACKED = "to int, data binary"  # a split's keys for key partition ``to`` (by Spark's hash), packed
_REPEATS = "split int, lines binary"  # a split's repeated lines, packed
KEYS_PART_BYTES = 256 << 20  # file bytes whose keys one task compares (about 100 MB of keys)
_ANSWERS = "i long, answer binary"  # a task's answer for split (or task) i, pickled


def _answer(index: int, value: Any) -> Any:
    import pyarrow as pa

    answer = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return pa.RecordBatch.from_arrays(
        [pa.array([index], pa.int64()), pa.array([answer], pa.binary())], names=["i", "answer"]
    )


def _repeats(batches: Iterable[Any]) -> Iterator[Any]:
    """Per split: the lines of this task's keys but each key's first (lowest) line."""
    import pyarrow as pa

    table = _received(batches)
    if table is None:
        return
    unpacked = [_unpack(data) for data in table.column("data").to_pylist()]
    key = np.concatenate([first for _, first, _ in unpacked])
    line = np.concatenate([second for _, _, second in unpacked])
    split = np.concatenate([np.full(len(first), index) for index, first, _ in unpacked])
    shared = pd.Series(key).duplicated(keep=False).to_numpy()  # a hash table: no sort of every key
    key, line, split = key[shared], line[shared], split[shared]
    order = np.lexsort((line, key))  # by key, then line: a key's first line leads
    picked = order[np.flatnonzero(key[order][1:] == key[order][:-1]) + 1]
    split, line = split[picked], line[picked]
    seen = sorted({index for index, _, _ in unpacked})  # every split sent here, repeats or not
    packed = [_pack(index, line[split == index]) for index in seen]
    columns = [pa.array(seen, pa.int32()), pa.array(packed, pa.binary())]
    yield pa.RecordBatch.from_arrays(columns, names=["split", "lines"])


def _pack(index: int, first: np.ndarray, second: np.ndarray | None = None) -> bytes:
    """A split's number and one or two arrays of 64-bit integers, as bytes for Spark to move."""
    parts = [np.array([index, len(first)], dtype=np.int64), first.astype(np.int64)]
    if second is not None:
        parts.append(second.astype(np.int64))
    return np.concatenate(parts).tobytes()


def _unpack(data: bytes) -> tuple[int, np.ndarray, np.ndarray]:
    """``_pack``'s split number and arrays (the second empty if there was none)."""
    values = np.frombuffer(data, dtype=np.int64)
    size = int(values[1])
    return int(values[0]), values[2 : 2 + size], values[2 + size :]


_EMPTY = np.empty(0, dtype=np.int64)


def _received(batches: Iterable[Any]) -> Any:  # -> pa.Table | None (pyarrow imported in tasks only)
    """A task's input rows as one table; None when it was sent none."""
    import pyarrow as pa

    received = [batch for batch in batches if batch.num_rows]
    return pa.Table.from_batches(received) if received else None


def _keys(job: SplitJob, splits: list[Split], to: list[int], batches: Iterable[Any]) -> Iterator[Any]:
    """A split's (key hash, line) of the rows that passed the row rules, one packed row per key
    partition: ``to[p]`` is the value Spark's hash sends to partition p, the key's hash modulo their
    number. And a row without keys (a mark), so the split reaches the next stage in any case."""
    import pyarrow as pa

    for batch in batches:
        for index in batch.column(0).to_pylist():
            checked = check_split(job, splits[index])
            if job.kept is not None:
                path = job.kept / f"split-{index:05d}.pickle"
                checked = kept(checked, path, _attempt(index), job.rules())
            with carried():
                found = list(candidate_keys(job, checked))
            key = np.concatenate([_EMPTY] + [hashes for hashes, _ in found])
            line = np.concatenate([_EMPTY] + [lines for _, lines in found])
            part = key.view(np.uint64) % np.uint64(len(to))
            order = np.argsort(part, kind="stable")
            bounds = np.searchsorted(part[order], np.arange(len(to) + 1))
            rows = [
                (to[p], _pack(index, key[order[lo:hi]], line[order[lo:hi]]))
                for p, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:]))
                if hi > lo
            ]
            rows.append((to[index % len(to)], _pack(index, _EMPTY, _EMPTY)))  # the split's mark
            yield pa.RecordBatch.from_arrays(
                [pa.array([r[0] for r in rows], pa.int32()), pa.array([r[1] for r in rows], pa.binary())],
                names=["to", "data"],
            )


# A vitalflow error in a task (a record too long, the memory budget, a suite that cannot be
# evaluated) reaches the driver only as text in Spark's error: carried there pickled between markers,
# it is raised again on the driver as itself, so the batch ends as the single-process one does.
_CARRIED = re.compile(r"vitalflow-task-error:([A-Za-z0-9+/=]+):end")


@contextmanager
def carried() -> Iterator[None]:
    """In a task: a vitalflow error leaves as Spark's failure text, the error pickled inside it."""
    try:
        yield
    except VitalflowError as exc:
        packed = base64.b64encode(pickle.dumps(exc)).decode()
        raise RuntimeError(f"{type(exc).__name__}: {exc} vitalflow-task-error:{packed}:end") from None


@contextmanager
def task_errors() -> Iterator[None]:
    """On the driver, around a Spark action: a task's vitalflow error raised again as itself."""
    try:
        yield
    except Exception as exc:
        found = _CARRIED.search(str(exc))
        if found is None:
            raise
        raise pickle.loads(base64.b64decode(found.group(1))) from None


def _finish_all(job: SplitJob, splits: list[Split], batches: Iterable[Any], hook: Any) -> Iterator[Any]:
    """Finish every split whose rows (its packed repeat lines) this task was sent."""
    table = _received(batches)
    if table is None:
        return
    repeats: dict[int, list[np.ndarray]] = {}
    for index, lines in zip(table.column("split").to_pylist(), table.column("lines").to_pylist()):
        repeats.setdefault(index, []).append(_unpack(lines)[1])
    for index in sorted(repeats):
        with carried():
            yield _answer(index, _finish(job, splits[index], np.concatenate(repeats[index]), hook))


def _finish(job: SplitJob, split: Split, repeats: np.ndarray, hook: Any) -> SplitOutput:
    kept_at = job.kept / f"split-{split.index:05d}.pickle" if job.kept is not None else None
    output = finish_split(job, split, kept_or_checked(job, split, kept_at), repeats, _attempt(split.index))
    if hook is not None:  # tests: a task that dies after writing its files, before reporting
        hook(split)
    if kept_at is not None:
        kept_at.unlink(missing_ok=True)
    return output


def _attempt(index: int) -> str:
    """A name of this task attempt, unique within the batch (retries and speculative copies differ)."""
    context = TaskContext.get()
    return f"{index:05d}-{context.taskAttemptId() if context else 0}"
