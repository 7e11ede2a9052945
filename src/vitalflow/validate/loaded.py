"""Each reading once across uploads: which of a batch's valid rows the processed table already holds.

A reading's key is (user, instant). Devices re-export overlapping days, with other bytes (CRLF, a
BOM): such a file is a new batch, but its readings are not new. A row whose key is stored with the
same values is ``row:already_loaded``; with other values, ``row:conflicts_with_loaded`` (the stored
reading stays), unless the deployment takes corrections (``VITALFLOW_ON_CONFLICT=replace``): then
the row is processed and replaces the stored one at commit (``validate/commit.py``), whose old
version stays in the table's history until its snapshots expire.

Stored readings are read per event date, only for the dates the batch has (the table is
partitioned by event month and each file's ``dt`` bounds are in its metadata, so files of other
months, and of other dates where bounds tell, are never opened), once per date and batch, from the
table as it was before this batch's own snapshot, so a rerun after a crash sees what the first
attempt saw and never its own rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from vitalflow import lake
from vitalflow.contract import NUMERIC_COLUMNS, PARTITION_COLUMN, PROCESSED_SCHEMA
from vitalflow.tables import LakeTables, Reading, batch_snapshot

ALREADY_LOADED = "row:already_loaded"
CONFLICTS_WITH_LOADED = "row:conflicts_with_loaded"
NEW, LOADED, CONFLICT = 0, 1, 2
KEY = ["user_id", "event_us"]
TABLE = lake.FILES_TABLES["processed"]


@dataclass
class LoadedReadings:
    """The stored readings of the dates seen so far, and the keys this batch will replace."""

    tables: LakeTables
    batch_id: str
    _stored: pd.DataFrame | None = None
    _dates: set[str] = field(default_factory=set)
    _snapshot: int | None = -1  # -1: not resolved yet; None: the table is empty
    replaced: list[Reading] = field(default_factory=list)  # stored readings this batch corrects

    def classify(self, good: pa.Table, days: np.ndarray) -> np.ndarray:
        """Per row of ``good`` (processed rows, ``days`` their event dates): NEW, LOADED or CONFLICT."""
        verdict = np.zeros(good.num_rows, dtype=np.int8)
        if good.num_rows == 0:
            return verdict
        labels = np.datetime_as_string(np.asarray(days).astype("datetime64[D]"), unit="D")
        self._load(sorted(set(np.unique(labels)) - self._dates))
        if self._stored is None or self._stored.empty:
            return verdict
        rows = _frame(good)
        rows["__row"] = np.arange(len(rows))
        found = rows.merge(self._stored, on=KEY, how="inner", suffixes=("", "__stored"))
        if found.empty:
            return verdict
        same = np.ones(len(found), dtype=bool)
        for name in NUMERIC_COLUMNS:
            same &= found[name].to_numpy() == found[f"{name}__stored"].to_numpy()
        positions = found["__row"].to_numpy()
        verdict[positions] = np.where(same, LOADED, CONFLICT)
        return verdict

    def replace(self, good: pa.Table, days: np.ndarray, rows: np.ndarray) -> None:
        """Remember the keys of ``rows`` (of ``good``): their stored readings go at commit."""
        labels = np.datetime_as_string(np.asarray(days)[rows].astype("datetime64[D]"), unit="D")
        users = good.column("user_id").take(pa.array(rows)).to_pylist()
        stamps = good.column("event_time").take(pa.array(rows)).cast(pa.int64()).to_pylist()
        self.replaced.extend(zip(labels.tolist(), users, stamps))

    def _load(self, dates: list[str]) -> None:
        if not dates:
            return
        self._dates.update(dates)
        snapshot = self._snapshot_id()
        if snapshot is None:
            return
        stored = _frame(self._read(dates, snapshot))
        self._stored = (
            stored if self._stored is None else pd.concat([self._stored, stored], ignore_index=True)
        )

    def _read(self, dates: list[str], snapshot: int) -> pa.Table:
        """The stored readings of these dates: the files Iceberg plans for them (pruned by month
        partition and by each file's ``dt`` bounds), read through the table's own file access (any
        FileIO, S3 through the job's client), keeping the rows of these dates."""
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        table = self.tables.table(TABLE)
        columns = ["user_id", "event_time", *NUMERIC_COLUMNS, "batch_id", PARTITION_COLUMN]
        wanted = pa.array(dates, pa.string())
        pieces = [pa.table({c: pa.array([], t) for c, t in _TYPES.items()})]
        for task in table.scan(row_filter=_on_dates(dates), snapshot_id=snapshot).plan_files():
            with table.io.new_input(task.file.file_path).open() as handle:
                piece = pq.read_table(handle, columns=columns)
            keep = pc.and_(
                pc.is_in(piece.column(PARTITION_COLUMN), value_set=wanted),
                pc.not_equal(piece.column("batch_id"), self.batch_id),
            )
            pieces.append(piece.filter(keep).select(list(_TYPES)).cast(pa.schema(_TYPES.items())))
        return pa.concat_tables(pieces)

    def _snapshot_id(self) -> int | None:
        """The table's snapshot to compare with: the one before this batch's own, if it has one."""
        if self._snapshot == -1:
            if not self.tables.exists(TABLE):
                self._snapshot = None
            else:
                table = self.tables.table(TABLE)
                own = batch_snapshot(table, self.batch_id)
                current = table.current_snapshot()
                if own is not None:
                    self._snapshot = own.parent_snapshot_id
                else:
                    self._snapshot = current.snapshot_id if current is not None else None
        return self._snapshot


def _on_dates(dates: list[str]) -> Any:
    """Rows of these event dates: ``dt`` for the files' bounds, the event time's range for the
    month partitions (a filter on ``dt`` alone cannot prune those)."""
    from pyiceberg.expressions import And, GreaterThanOrEqual, In, LessThan

    first = date.fromisoformat(dates[0])
    after = date.fromisoformat(dates[-1]) + timedelta(days=1)
    return And(
        In(PARTITION_COLUMN, dates),
        And(
            GreaterThanOrEqual("event_time", f"{first}T00:00:00+00:00"),
            LessThan("event_time", f"{after}T00:00:00+00:00"),
        ),
    )


_TYPES = {f.name: f.type for f in PROCESSED_SCHEMA if f.name in ("user_id", "event_time", *NUMERIC_COLUMNS)}


def _frame(table: pa.Table) -> pd.DataFrame:
    """Key and values as plain columns: the instant as integer microseconds (time zones aside)."""
    columns = {
        "user_id": table.column("user_id").to_pandas(),
        "event_us": table.column("event_time").cast(pa.int64()).to_numpy(),
    }
    for name in NUMERIC_COLUMNS:
        columns[name] = table.column(name).to_numpy()
    return pd.DataFrame(columns)
