"""Compaction: each partition's small files rewritten as one, in one Iceberg commit per table.

Every batch adds a file per event month it has (and rejected rows a file per ingestion day), so a
month that many batches touched is read from many small files. Compaction rewrites each partition
holding more than one file into one file sorted by event time (an ``overwrite`` of exactly that
partition: the rows are the same, only their files change), then expires snapshots older than the
retention and deletes the files nothing references any more. Readers see the table before or
after, never between. On AWS the Glue table optimizers do the same on a schedule (Terraform).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from vitalflow import lake
from vitalflow.contract import PARTITION_COLUMN
from vitalflow.exceptions import LakeCommitConflict
from vitalflow.ports import ObjectStore
from vitalflow.tables import COMMIT_ATTEMPTS, LakeTables
from vitalflow.upkeep import expire, files_by_batch, relist

DEFAULT_RETENTION = timedelta(days=7)  # time travel window kept after compaction
SORT = {"processed_files": "event_time", "rejected_files": "source_line"}


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
    """Rewrite the partitions with more than one file; retried whole when a batch committed meanwhile."""
    from pyiceberg.exceptions import CommitFailedException

    for attempt in range(COMMIT_ATTEMPTS):
        table = tables.writable(name)
        if table.current_snapshot() is None:
            return 0
        files = Counter(_partition_of(name, task.file.partition[0]) for task in table.scan().plan_files())
        crowded = sorted(label for label, n in files.items() if n > 1)
        if not crowded:
            return 0
        try:
            with table.transaction() as tx:
                for label in crowded:
                    where = _rows_in(name, label)
                    rows = table.scan(row_filter=where).to_arrow().sort_by(SORT[name])
                    tx.overwrite(
                        rows,
                        overwrite_filter=where,
                        snapshot_properties={"vitalflow.operation": "compaction"},
                    )
            return len(crowded)
        except CommitFailedException:
            time.sleep(min(2.0, 0.05 * 2**attempt))
    raise LakeCommitConflict(f"could not compact {name}: batches kept committing; run it again")


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
