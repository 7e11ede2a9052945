"""The Spark engine: the same batch as ``Batch``, its rows judged by Spark tasks, one split each.

The driver keeps everything that is about the batch as a whole and reuses ``Batch`` for it: the
counts check, the Data Docs page from the merged GE results, the manifest and the commit protocol
(``validate/commit.py``), written once after every task succeeded. Only the row phase is
distributed:

1. each byte range is scanned in a task; the driver plans the splits from the scans (``splits``);
2. each split's rows go through the row rules in a task (Great Expectations on pandas, the
   distinct-row memo);
3. the key hashes of the valid rows are shuffled by key: the lowest line of a key wins, every
   other line is a repeat, sent (shuffled again, by split) to the split that holds it;
4. each split, judged by the row rules again, takes the duplicate rule and is routed and written
   as ``Batch`` would, to Parquet files named by split (a retried task replaces its files); the
   driver gets counts and results.

Keys never reach the driver; each split's repeats are handed to its task through the batch's folder
(shared by the tasks on one machine). Spark is imported here only: the Python shell job
(Python 3.9) never imports this module.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from pyspark import TaskContext
from pyspark.sql import SparkSession

from vitalflow.exceptions import EmptyFile
from vitalflow.validate.batch import Batch
from vitalflow.validate.reader import data_start
from vitalflow.validate.split_batch import (
    SplitJob,
    SplitOutput,
    candidate_keys,
    check_split,
    detached,
    finish_split,
)
from vitalflow.validate.splits import Split, plan, ranges, scan_range
from vitalflow.validate.writer import WrittenFile


def spark_session(master: str = "local[*]", shuffle_partitions: int = 8) -> SparkSession:
    """The running session, or a local one: the Glue job and the tests bring theirs."""
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # the workers run this interpreter's packages
    return (
        SparkSession.builder.master(master)
        .appName("vitalflow-validate")
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )


class SparkBatch(Batch):
    """A ``Batch`` whose row phase runs on Spark; everything after it is the single-process code."""

    spark: SparkSession | None = None
    before_finish: Any = None  # tests: called in each finishing task with its split (a failure hook)

    def chunks(self, path: Path) -> tuple[list[WrittenFile], list[WrittenFile]]:
        spark = self.spark or spark_session()
        job = self._job(path)
        splits = self._plan(spark, path)
        outputs = run_splits(spark, job, splits, self.before_finish) if splits else []
        for output in sorted(outputs, key=lambda o: o.index):
            self._take(output)
        if self.rows_in == 0:
            raise EmptyFile("the file has a header but no data rows")
        processed = sorted((f for o in outputs for f in o.processed), key=lambda f: f.key)
        rejected = sorted((f for o in outputs for f in o.rejected), key=lambda f: f.key)
        return processed, rejected

    def _job(self, path: Path) -> SplitJob:
        assert self.tables is not None
        return SplitJob(
            path=path,
            source=self.source,
            scan=self.scan,
            started=self.started,
            workdir=self.dir,
            store=self.store,
            lake_tables=detached(self.tables),
            suite_path=self.suite.path,
            duplicate_key=self.suite.duplicate_key,
            chunk_rows=self.options.chunk_rows,
            on_conflict=self.options.on_conflict,
            snapshot=self.loaded.snapshot_id() if self.loaded is not None else None,
        )

    def _plan(self, spark: SparkSession, path: Path) -> list[Split]:
        """Scan every byte range in its own task; plan the splits from the (small) scans."""
        start = data_start(self.scan)
        spans = ranges(start, self.scan.size, self.options.split_bytes)
        if not spans:
            return []
        scans = (
            spark.sparkContext.parallelize(spans, len(spans))
            .map(lambda span: scan_range(path, span[0], span[1], start))
            .collect()
        )
        return plan(scans, self.scan.size, self.scan.header.lines + 1)

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

    The row rules run twice per split (for the keys, then to finish): measured, that is cheaper
    than caching a split's judged chunks, which PySpark pickles into the JVM and back (1M rows:
    0.5 s of rules against 2 s of pickling per 8 MiB split).
    """
    sc = spark.sparkContext
    n = len(splits)
    owner = sc.broadcast(np.array([s.first_line for s in splits], dtype=np.int64))
    tasks = sc.parallelize(splits, n)  # split i is partition i
    folder = job.workdir / "repeats"
    try:
        (
            tasks.flatMap(lambda split: candidate_keys(job, check_split(job, split)))
            .combineByKey(_first, _add, _merge)
            .flatMap(lambda kv: kv[1][1])
            .map(lambda line: (int(np.searchsorted(owner.value, line, side="right")) - 1, line))
            .partitionBy(n)  # portable_hash(i) % n == i: split i's repeats in partition i
            .mapPartitionsWithIndex(lambda i, pairs: _save(folder, i, pairs))
            .count()
        )
        return tasks.map(lambda split: _finish(job, split, folder, hook)).collect()
    finally:
        owner.destroy()


def _first(line: int) -> tuple[int, list[int]]:
    """(the key's lowest line so far, the other lines: repeats)."""
    return line, []


def _add(acc: tuple[int, list[int]], line: int) -> tuple[int, list[int]]:
    low, others = acc
    others.append(max(low, line))
    return min(low, line), others


def _merge(a: tuple[int, list[int]], b: tuple[int, list[int]]) -> tuple[int, list[int]]:
    return min(a[0], b[0]), [*a[1], *b[1], max(a[0], b[0])]


def _save(folder: Path, index: int, pairs: Iterable[tuple[int, int]]) -> Iterator[int]:
    """Split ``index``'s repeat lines, for its finishing task (a retry rewrites the same file whole).

    Handing them over through the batch's folder, not a cogroup with the cached states, keeps the
    states out of PySpark's group-by, which pickles and spills every value it groups.
    """
    lines = []
    for split, line in pairs:
        assert split == index, "partition i holds split i's repeats"  # portable_hash(i) % n == i
        lines.append(line)
    folder.mkdir(parents=True, exist_ok=True)
    scratch = folder / f".{index:05d}-{uuid.uuid4().hex}.npy"
    np.save(scratch, np.array(sorted(lines), dtype=np.int64))
    scratch.replace(folder / f"{index:05d}.npy")
    yield len(lines)


def _finish(job: SplitJob, split: Split, folder: Path, hook: Any) -> SplitOutput:
    context = TaskContext.get()
    attempt = f"{split.index:05d}-{context.taskAttemptId() if context else 0}"
    repeats = np.load(folder / f"{split.index:05d}.npy")
    output = finish_split(job, split, check_split(job, split), repeats, attempt)
    if hook is not None:  # tests: a task that dies after writing its files, before reporting
        hook(split)
    return output
