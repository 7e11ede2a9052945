"""The Spark engine: the same batch as ``Batch``, its rows judged by Spark tasks, one split each.

The driver keeps everything that is about the batch as a whole and reuses ``Batch`` for it: the
counts check, the Data Docs page from the merged GE results, the manifest and the commit protocol
(``validate/commit.py``), written once after every task succeeded. Only the row phase is
distributed:

1. each byte range is scanned in a task; the driver plans the splits from the scans (``splits``);
2. each split's rows go through the row rules in a task (Great Expectations on pandas, the
   distinct-row memo);
3. the key hashes of the valid rows leave the tasks as Arrow batches and are grouped by key in
   Spark's JVM (no Python call per row): the lowest line of a key wins, every other line is a
   repeat, written by split for the split that holds it;
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
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from pyspark import TaskContext
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

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
    n = len(splits)
    folder = job.workdir / "repeats"
    keys = spark.range(0, n, 1, n).mapInArrow(  # one split per partition, each its own task
        lambda batches: _keys(job, splits, batches), _KEYS_SCHEMA
    )
    # In the JVM, vectorised: each key's lowest line, then every other line of the key is a repeat,
    # written per split for its finishing task (no Python function runs per row).
    first = keys.groupBy("key").agg(F.min("line").alias("first"))
    repeats = keys.join(first, "key").where(F.col("line") != F.col("first")).select("split", "line")
    repeats.write.mode("overwrite").partitionBy("split").parquet(str(folder))
    sc = spark.sparkContext
    return sc.parallelize(splits, n).map(lambda split: _finish(job, split, folder, hook)).collect()


_KEYS_SCHEMA = "key long, line long, split int"


def _keys(job: SplitJob, splits: list[Split], batches: Iterable[Any]) -> Iterator[Any]:
    """(key hash, line, split) of the rows that passed the row rules, as Arrow batches."""
    import pyarrow as pa

    for batch in batches:
        for index in batch.column(0).to_pylist():
            for hashes, lines in candidate_keys(job, check_split(job, splits[index])):
                split = np.full(len(lines), index, dtype=np.int32)
                yield pa.RecordBatch.from_arrays(
                    [pa.array(hashes), pa.array(lines), pa.array(split)], names=["key", "line", "split"]
                )


def _finish(job: SplitJob, split: Split, folder: Path, hook: Any) -> SplitOutput:
    context = TaskContext.get()
    attempt = f"{split.index:05d}-{context.taskAttemptId() if context else 0}"
    repeats = _repeats(folder / f"split={split.index}")
    output = finish_split(job, split, check_split(job, split), repeats, attempt)
    if hook is not None:  # tests: a task that dies after writing its files, before reporting
        hook(split)
    return output


def _repeats(folder: Path) -> np.ndarray:
    """The split's repeat lines, sorted (none: no folder, Spark writes none for a split without)."""
    import pyarrow.parquet as pq

    if not folder.is_dir():
        return np.zeros(0, dtype=np.int64)
    lines = pq.read_table(folder, columns=["line"], partitioning=None).column("line").to_numpy()
    return np.sort(lines.astype(np.int64))
