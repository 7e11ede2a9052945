"""Compaction: each partition's small files rewritten as few, in one Iceberg commit per table.

Every batch adds a file per event month it has (and rejected rows a file per ingestion day), so a
month that many batches touched is read from many small files. Compaction packs each partition's
files under ``TARGET_BYTES`` into bins of up to that size and rewrites each bin as one file sorted
by event time (one ``overwrite`` snapshot replacing exactly those files: the rows are the same, only
their files change), then expires snapshots older than the retention and deletes the files nothing
references any more. Readers see the table before or after, never between. On AWS the Glue table
optimizers do the same on a schedule (Terraform).
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from vitalflow import lake
from vitalflow.contract import PARTITION_COLUMN
from vitalflow.exceptions import LakeCommitConflict
from vitalflow.ports import ObjectStore
from vitalflow.tables import COMMIT_ATTEMPTS, LakeTables, replace_files, table_schema, write_data_file
from vitalflow.upkeep import expire, files_by_batch, relist

DEFAULT_RETENTION = timedelta(days=7)  # time travel window kept after compaction
SORT = {"processed_files": "event_time", "rejected_files": "source_line"}
# Files below this are packed together, up to this size a file: a rewrite reads one bin at a time
# (a month of a busy fleet never in memory at once), and a file at the target stays as it is.
TARGET_BYTES = 128 << 20


@dataclass
class Compacted:
    files_before: dict[str, int] = field(default_factory=dict)
    files_after: dict[str, int] = field(default_factory=dict)
    partitions: dict[str, int] = field(default_factory=dict)  # rewritten, per table
    snapshots_expired: int = 0


def compact(store: ObjectStore, tables: LakeTables, *, retention: timedelta = DEFAULT_RETENTION) -> Compacted:
    result = Compacted()
    for name in lake.FILES_TABLES.values():
        if not tables.exists(name):
            continue
        result.files_before[name] = len(tables.live_keys(name))
        # expired first too: every commit of pyiceberg copies the table's metadata, snapshots and all
        result.snapshots_expired += expire(tables, name, datetime.now(timezone.utc) - retention)
        result.partitions[name] = _compact_table(tables, name)
        result.files_after[name] = len(tables.live_keys(name))
        result.snapshots_expired += expire(tables, name, datetime.now(timezone.utc) - retention)
    batches = {b for name in lake.FILES_TABLES.values() for b in files_by_batch(tables, name)}
    relist(store, tables, batches)
    return result


def _compact_table(tables: LakeTables, name: str) -> int:
    """Rewrite each partition's small files in bins of up to ``TARGET_BYTES``, in one snapshot;
    retried whole when a batch committed meanwhile. The partitions rewritten."""
    from pyiceberg.exceptions import CommitFailedException

    for attempt in range(COMMIT_ATTEMPTS):
        table = tables.writable(name)
        if table.current_snapshot() is None:
            return 0
        bins = _bins(name, [task.file for task in table.scan().plan_files()])
        if not bins:
            return 0
        changed = [change for label, files in bins for change in _rewrite(table, name, label, files)]
        try:
            with table.transaction() as tx:
                replace_files(tx, changed, {"vitalflow.operation": "compaction"})
            return len({label for label, _ in bins})
        except CommitFailedException:
            for _, new in changed:  # never part of the table: gone before the next attempt
                if new is not None:
                    table.io.delete(new.file_path)
            time.sleep(min(2.0, 0.05 * 2**attempt))
    raise LakeCommitConflict(f"could not compact {name}: batches kept committing; run it again")


def _bins(name: str, files: list[Any]) -> list[tuple[str, list[Any]]]:
    """Per partition, its files under ``TARGET_BYTES`` packed in order into bins of at most that
    size; the bins of more than one file (a file at the target or above is left as it is)."""
    by_partition: dict[str, list[Any]] = defaultdict(list)
    for data_file in sorted(files, key=lambda f: str(f.file_path)):
        if data_file.file_size_in_bytes < TARGET_BYTES:
            by_partition[_partition_of(name, data_file.partition[0])].append(data_file)
    bins: list[tuple[str, list[Any]]] = []
    for label, small in sorted(by_partition.items()):
        current: list[Any] = []
        for data_file in small:
            if (
                current
                and sum(f.file_size_in_bytes for f in current) + data_file.file_size_in_bytes > TARGET_BYTES
            ):
                bins.append((label, current))
                current = []
            current.append(data_file)
        bins.append((label, current))
    return [(label, group) for label, group in bins if len(group) > 1]


def _rewrite(table: Any, name: str, label: str, files: list[Any]) -> list[tuple[Any, Any]]:
    """The bin's rows as one file sorted by event time (line, for rejected rows), beside the first."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    pieces = []
    for data_file in files:
        with table.io.new_input(data_file.file_path).open() as handle:
            pieces.append(pq.read_table(handle).cast(table_schema(name)))
    rows = pa.concat_tables(pieces).sort_by(SORT[name])
    folder = str(files[0].file_path).rsplit("/", 1)[0]
    path = f"{folder}/compacted-{label}-{uuid.uuid4().hex[:12]}.parquet"
    return [(files[0], write_data_file(table, rows, path)), *((f, None) for f in files[1:])]


def _partition_of(name: str, value: object) -> str:
    """A file's partition in the table's current partitioning: a processed file's event month
    (``2026-10``), whether it was added by month (months since 1970) or, before the month
    partitioning, by day (``2026-10-31``); a rejected file's day."""
    if name != lake.FILES_TABLES["processed"]:
        return str(value)
    if isinstance(value, int):
        return f"{1970 + value // 12:04d}-{value % 12 + 1:02d}"
    return str(value)[:7]


def _rows_in(name: str, label: str) -> Any:
    """The rows of one partition, as a filter Iceberg prunes files with."""
    from pyiceberg.expressions import And, EqualTo, GreaterThanOrEqual, LessThan

    if name != lake.FILES_TABLES["processed"]:
        return EqualTo(PARTITION_COLUMN, label)
    year, month = (int(part) for part in label.split("-"))
    after = f"{year + month // 12:04d}-{month % 12 + 1:02d}"
    return And(
        GreaterThanOrEqual("event_time", f"{label}-01T00:00:00+00:00"),
        LessThan("event_time", f"{after}-01T00:00:00+00:00"),
    )
