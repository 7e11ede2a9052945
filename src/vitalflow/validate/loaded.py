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
attempt saw and never its own rows. That snapshot and those dates go to the commit (``read_at``):
another job that stored readings of the same dates meanwhile makes the batch validate again
(``stored_since.py``), so two uploads of the same new readings at once store them once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
from pandas.util import hash_pandas_object

from vitalflow import lake
from vitalflow.contract import NUMERIC_COLUMNS, PARTITION_COLUMN
from vitalflow.stored_since import ReadAt
from vitalflow.tables import LakeTables, Reading, batch_snapshot, on_dates

ALREADY_LOADED = "row:already_loaded"
CONFLICTS_WITH_LOADED = "row:conflicts_with_loaded"
NEW, LOADED, CONFLICT = 0, 1, 2
TABLE = lake.FILES_TABLES["processed"]


@dataclass
class LoadedReadings:
    """The stored readings of the dates seen so far, and the keys this batch will replace.

    Each stored reading is kept as three 64-bit hashes, sorted: two of its key (user, instant) and
    one of its values. 24 bytes a reading, where the readings themselves as a frame took ~100 and a
    join per chunk rebuilt a hash table of them all: a re-export of 2M readings took 1,088 MB and
    45 s on Python 3.9, past the Glue Python shell's 1 GB. Two independent key hashes make a false
    match (a new reading taken for a stored one) a 2^-128 event; rows whose first hash matches a
    stored one's are then told apart by the second, however many share the first.
    """

    tables: LakeTables
    batch_id: str
    _stored: _Hashes = field(default_factory=lambda: _Hashes.empty())
    _dates: set[str] = field(default_factory=set)
    _snapshot: int | None = -1  # -1: not resolved yet; None: the table is empty
    replaced: list[Reading] = field(default_factory=list)  # stored readings this batch corrects

    def classify(self, good: pa.Table, days: np.ndarray) -> np.ndarray:
        """Per row of ``good`` (processed rows, ``days`` their event dates): NEW, LOADED or CONFLICT."""
        verdict = np.zeros(good.num_rows, dtype=np.int8)
        if good.num_rows == 0:
            return verdict
        day_numbers = np.unique(np.asarray(days).astype("datetime64[D]"))
        labels = np.datetime_as_string(day_numbers, unit="D").tolist()
        self._load(sorted(set(labels) - self._dates))
        if not len(self._stored.key1):
            return verdict
        found, values = self._stored.find(_Hashes.of(good))
        matched = found >= 0
        verdict[matched] = np.where(values[matched], LOADED, CONFLICT)
        return verdict

    def replace(self, good: pa.Table, days: np.ndarray, rows: np.ndarray) -> None:
        """Remember the keys of ``rows`` (of ``good``): their stored readings go at commit."""
        labels = np.datetime_as_string(np.asarray(days)[rows].astype("datetime64[D]"), unit="D")
        users = good.column("user_id").take(pa.array(rows)).to_pylist()
        stamps = good.column("event_time").take(pa.array(rows)).cast(pa.int64()).to_pylist()
        self.replaced.extend(zip(labels.tolist(), users, stamps))

    def pin(self, snapshot: int | None) -> None:
        """Compare with this snapshot of the table: a Spark task takes its driver's, so every split
        of a batch compares with the same stored readings."""
        self._snapshot = snapshot

    def compared(self, read: ReadAt | None) -> None:
        """Rows of this batch were compared elsewhere (a Spark task) at this object's pinned
        snapshot: their dates count for the commit's check (``read_at``)."""
        if read is not None:
            self._dates.update(read.dates)

    def snapshot_id(self) -> int | None:
        """The table's snapshot the batch's rows are compared with."""
        return self._snapshot_id()

    def read_at(self) -> ReadAt | None:
        """What the rows were compared with, for the commit to check nothing changed since (None:
        no row was compared, so no classification can be stale)."""
        if not self._dates:
            return None
        return ReadAt(self._snapshot_id(), frozenset(self._dates))

    def _load(self, dates: list[str]) -> None:
        if not dates:
            return
        self._dates.update(dates)
        snapshot = self._snapshot_id()
        if snapshot is None:
            return
        self._stored = _Hashes.merge([self._stored, *self._read(dates, snapshot)])

    def _read(self, dates: list[str], snapshot: int) -> Iterator[_Hashes]:
        """The stored readings of these dates, as hashes: the files Iceberg plans for them (pruned by
        month partition and by each file's ``dt`` bounds), read a row group at a time through the
        table's own file access (any FileIO, S3 through the job's client)."""
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        table = self.tables.table(TABLE)
        columns = ["user_id", "event_time", *NUMERIC_COLUMNS, "batch_id", PARTITION_COLUMN]
        wanted = pa.array(dates, pa.string())
        for task in table.scan(row_filter=on_dates(dates), snapshot_id=snapshot).plan_files():
            with table.io.new_input(task.file.file_path).open() as handle:
                for batch in pq.ParquetFile(handle).iter_batches(batch_size=1 << 18, columns=columns):
                    keep = pc.and_(
                        pc.is_in(batch.column(PARTITION_COLUMN), value_set=wanted),
                        pc.not_equal(batch.column("batch_id"), self.batch_id),
                    )
                    yield _Hashes.of(pa.Table.from_batches([batch.filter(keep)]))

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


# pandas' hash of strings is SipHash under a 16-byte key: two keys, two independent hashes
_KEYS = ("vitalflow.key.1a", "vitalflow.key.2b")
_VALUES_KEY = "vitalflow.values"


@dataclass(frozen=True)
class _Hashes:
    """Readings as hashes, sorted by the first: (key1, key2) of (user, instant), and of the values."""

    key1: np.ndarray
    key2: np.ndarray
    values: np.ndarray

    @classmethod
    def empty(cls) -> _Hashes:
        none = np.zeros(0, dtype=np.uint64)
        return cls(none, none, none)

    @classmethod
    def of(cls, table: pa.Table) -> _Hashes:
        """The hashes of a table's readings, in its row order (not sorted)."""
        if table.num_rows == 0:
            return cls.empty()
        key = pd.DataFrame(
            {
                "user_id": table.column("user_id").to_numpy(zero_copy_only=False),
                "event_us": table.column("event_time").cast(pa.int64()).to_numpy(),
            }
        )
        values = pd.DataFrame({name: table.column(name).to_numpy() for name in NUMERIC_COLUMNS})
        first, second = (hash_pandas_object(key, index=False, hash_key=k).to_numpy() for k in _KEYS)
        return cls(first, second, hash_pandas_object(values, index=False, hash_key=_VALUES_KEY).to_numpy())

    @classmethod
    def merge(cls, parts: list[_Hashes]) -> _Hashes:
        key1 = np.concatenate([p.key1 for p in parts])
        order = np.argsort(key1, kind="stable")
        key2, values = (np.concatenate([getattr(p, n) for p in parts])[order] for n in ("key2", "values"))
        return cls(key1[order], key2, values)

    def find(self, rows: _Hashes) -> tuple[np.ndarray, np.ndarray]:
        """Per row: the index of the stored reading with its key (-1: none), and whether the
        stored values are the same."""
        at = np.searchsorted(self.key1, rows.key1)
        found = np.full(len(rows.key1), -1, dtype=np.int64)
        first = np.minimum(at, len(self.key1) - 1)
        same_first = self.key1[first] == rows.key1
        both = same_first & (self.key2[first] == rows.key2)
        found[both] = first[both]
        for row in np.flatnonzero(same_first & ~both):  # others share the first hash: look further
            j = int(at[row]) + 1
            while j < len(self.key1) and self.key1[j] == rows.key1[row]:
                if self.key2[j] == rows.key2[row]:
                    found[row] = j
                    break
                j += 1
        same = np.zeros(len(found), dtype=bool)
        hit = found >= 0
        same[hit] = self.values[found[hit]] == rows.values[hit]
        return found, same
