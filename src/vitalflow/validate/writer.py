"""Write a batch's rows as Parquet files, one per partition, in a private working folder.

Nothing here is visible to readers: files are published to the lake only after the whole batch
was read, and the Iceberg commit makes them part of a table (see ``vitalflow.validate.commit``).
Every row holds its date as the ``dt`` column (Iceberg reads no partition from paths); the folder
names stay Hive-style, for people browsing the bucket.
"""

from __future__ import annotations

import contextlib
import heapq
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from vitalflow import lake
from vitalflow.contract import PARTITION_COLUMN


@dataclass(frozen=True)
class WrittenFile:
    key: str  # where it goes in the lake
    path: Path  # where it is now
    dt: str  # its partition: a month of processed rows (``2026-10``), a day of rejected ones
    rows: int
    dates: tuple[str, ...] = ()  # the event (or ingestion) dates of its rows, in order
    staged: str = ""  # a key in the store it was put under (a Spark task's file); "": it is at ``path``


# Line numbers increase row by row, so their deltas are tiny: ~3 bytes a row become a fraction of
# one. (pyarrow's delta encoder does not take timestamp columns, or event_time would be here too.)
DELTA_COLUMNS = {"source_line"}
# Nearly every reading has its own event time: a dictionary never pays, and building one until
# it overflows cost a third of the write (measured: 2.1 -> 1.5 s and 9.8 -> 7.5 MB a million rows).
PLAIN_COLUMNS = {"event_time"}


MAX_OPEN_WRITERS = 32


def open_file_budget() -> int:
    """Writers kept open at once: few enough for any open-file limit (``ulimit -n 256`` included)."""
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (ImportError, OSError, ValueError):
        return MAX_OPEN_WRITERS
    if soft == resource.RLIM_INFINITY:
        return MAX_OPEN_WRITERS
    return max(1, min(MAX_OPEN_WRITERS, (soft - 64) // 4))


class PartitionedWriter:
    """Parquet files per partition, appended to chunk by chunk, so memory holds one chunk at most.

    Processed rows are partitioned by event month, rejected rows by ingestion day
    (``lake.PARTITION_FIELDS``); every row carries its own date in ``dt``. The first
    ``open_file_budget()`` partitions each get an open writer (each holds buffers and a file
    handle). Rows of any further partition are spilled, sorted by partition within each chunk, to
    one local Parquet file; closing merges those runs partition by partition (a k-way merge reading
    one row group per run at a time) into one more file each. So a batch spanning decades writes at
    most two files a month, with bounded memory and open files.
    """

    def __init__(self, workdir: Path, table: str, schema: pa.Schema, batch_id: str) -> None:
        self.workdir = workdir
        self.table = table
        self.schema = schema.append(pa.field(PARTITION_COLUMN, pa.string(), nullable=False))
        self.batch_id = batch_id
        self.monthly = lake.PARTITION_FIELDS[table] == lake.MONTH_PARTITION
        self._writers: dict[str, pq.ParquetWriter] = {}
        self._rows: dict[str, int] = {}
        self._dates: dict[str, set[str]] = {}
        self._limit = open_file_budget()
        self._spill = _Spill(workdir / f".spill-{table}.parquet")

    def write(self, data: pa.Table, days: np.ndarray | str) -> None:
        """Append ``data``; ``days`` is one date for all rows, or each row's date (datetime64).

        Dates are grouped as integers and only the distinct ones become labels; each row's ``dt`` is
        a dictionary of those decoded by Arrow: turning every row's date into a string in numpy
        cost 60 ms a chunk, more than writing the chunk.
        """
        if data.num_rows == 0:
            return
        if isinstance(days, str):
            column = pa.repeat(pa.scalar(days, pa.string()), data.num_rows)
            label = days[:7] if self.monthly else days
            self._dates.setdefault(label, set()).add(days)
            self._route(_with_dt(data, column), np.array([label]), np.zeros(data.num_rows, dtype=np.int64))
            return
        day_numbers, day_of_row = np.unique(
            np.asarray(days).astype("datetime64[D]").view(np.int64), return_inverse=True
        )
        day_of_row = day_of_row.reshape(-1)
        dates = np.datetime_as_string(day_numbers.view("datetime64[D]"), unit="D")
        column = pa.DictionaryArray.from_arrays(
            pa.array(day_of_row.astype(np.int32)), pa.array(dates, pa.string())
        ).cast(pa.string())
        if self.monthly:
            months = day_numbers.view("datetime64[D]").astype("datetime64[M]").view(np.int64)
            month_numbers, month_of_day = np.unique(months, return_inverse=True)
            labels = np.datetime_as_string(month_numbers.view("datetime64[M]"), unit="M")
            month_of_day = month_of_day.reshape(-1)
            inverse = month_of_day[day_of_row]
        else:
            labels, month_of_day, inverse = dates, np.arange(len(dates)), day_of_row
        for i, label in enumerate(labels):
            self._dates.setdefault(str(label), set()).update(dates[month_of_day == i].tolist())
        self._route(_with_dt(data, column), labels, inverse)

    def _route(self, data: pa.Table, labels: np.ndarray, inverse: np.ndarray) -> None:
        """Rows to their partition's open writer, or to the spill once the open-file budget is used."""
        if len(labels) == 1:
            order, bounds = None, np.array([0, data.num_rows])
        else:
            order = np.argsort(inverse, kind="stable")
            bounds = np.searchsorted(inverse[order], np.arange(len(labels) + 1))
        spilled: list[np.ndarray] = []
        for i, label in enumerate(labels):
            name = str(label)
            rows = None if order is None else order[bounds[i] : bounds[i + 1]]  # None: every row
            if rows is not None and len(rows) == 0:
                continue
            if name in self._writers or len(self._writers) < self._limit:
                self._append(name, data if rows is None else data.take(pa.array(rows)))
            else:
                spilled.append(np.arange(data.num_rows) if rows is None else rows)
        if spilled:
            idx = np.sort(np.concatenate(spilled))
            self._spill.add(data.take(pa.array(idx)), labels[inverse[idx]].astype(str))

    def _append(self, label: str, data: pa.Table) -> None:
        writer = self._writers.get(label)
        if writer is None:
            writer = self._open(label, 0)
            self._writers[label] = writer
            self._rows[label] = 0
        writer.write_table(data, row_group_size=1 << 20)
        self._rows[label] += data.num_rows

    def _open(self, label: str, part: int) -> pq.ParquetWriter:
        path = self.workdir / lake.data_key(self.table, label, self.batch_id, part)
        path.parent.mkdir(parents=True, exist_ok=True)
        return pq.ParquetWriter(
            path,
            self.schema,
            compression="zstd",
            use_dictionary=[n for n in self.schema.names if n not in DELTA_COLUMNS | PLAIN_COLUMNS],
            column_encoding={n: "DELTA_BINARY_PACKED" for n in self.schema.names if n in DELTA_COLUMNS},
        )

    def close(self) -> list[WrittenFile]:
        files = []
        for label, writer in sorted(self._writers.items()):
            writer.close()
            files.append(self._written(label, 0, self._rows[label]))
        for label, pieces in self._spill.drain():
            part = 1 if label in self._writers else 0
            writer = self._open(label, part)
            rows = 0
            for start in range(0, len(pieces), 64):  # a few large row groups, not one per run
                table = pa.concat_tables(pieces[start : start + 64])
                writer.write_table(table, row_group_size=1 << 20)
                rows += table.num_rows
            writer.close()
            files.append(self._written(label, part, rows))
        self._writers.clear()
        return sorted(files, key=lambda f: f.key)

    def _written(self, label: str, part: int, rows: int) -> WrittenFile:
        key = lake.data_key(self.table, label, self.batch_id, part)
        dates = tuple(sorted(self._dates.get(label, ())))
        return WrittenFile(key=key, path=self.workdir / key, dt=label, rows=rows, dates=dates)

    def abort(self) -> None:
        for writer in self._writers.values():
            with contextlib.suppress(Exception):  # the files are discarded anyway
                writer.close()
        self._writers.clear()
        self._spill.discard()


class _Spill:
    """Rows waiting for their date's file: one local Parquet file of runs, each sorted by date."""

    ROWS = 4096  # a row group: what the merge holds per run at a time

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer: pq.ParquetWriter | None = None
        self._runs: list[list[int]] = []  # row group numbers of each run
        self._groups = 0

    def add(self, data: pa.Table, dts: np.ndarray) -> None:
        order = np.argsort(dts, kind="stable")  # keeps file order within a date
        table = data.take(pa.array(order)).append_column("__dt", pa.array(dts[order], pa.string()))
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(self.path, table.schema, compression="lz4")
        run = []
        for start in range(0, table.num_rows, self.ROWS):
            self._writer.write_table(table.slice(start, self.ROWS), row_group_size=self.ROWS)
            run.append(self._groups)
            self._groups += 1
        self._runs.append(run)

    def drain(self) -> Iterator[tuple[str, list[pa.Table]]]:
        """(date, its rows in file order) for every spilled date, in date order."""
        if self._writer is None:
            return
        self._writer.close()
        self._writer = None
        source = pq.ParquetFile(self.path)
        pending: list[pa.Table | None] = [None] * len(self._runs)
        position = [0] * len(self._runs)

        def head(run: int) -> pa.Table | None:
            table = pending[run]
            while (table is None or table.num_rows == 0) and position[run] < len(self._runs[run]):
                table = source.read_row_group(self._runs[run][position[run]])
                position[run] += 1
            pending[run] = table if table is not None and table.num_rows else None
            return pending[run]

        heap = [(_first_dt(t), run) for run in range(len(self._runs)) if (t := head(run)) is not None]
        heapq.heapify(heap)
        while heap:
            dt = heap[0][0]
            pieces = []
            while heap and heap[0][0] == dt:
                _, run = heapq.heappop(heap)
                table = head(run)
                while table is not None and _first_dt(table) == dt:
                    labels = table.column("__dt").to_numpy(zero_copy_only=False)
                    end = int(np.searchsorted(labels, dt, side="right"))
                    pieces.append(table.slice(0, end).drop(["__dt"]))
                    pending[run] = table.slice(end)
                    table = head(run)
                if table is not None:
                    heapq.heappush(heap, (_first_dt(table), run))
            yield dt, pieces
        self.discard()

    def discard(self) -> None:
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.close()
            self._writer = None
        self.path.unlink(missing_ok=True)


def _with_dt(table: pa.Table, column: pa.Array) -> pa.Table:
    """The rows with their date as a column (dictionary-encoded on disk: nearly free)."""
    return table.append_column(pa.field(PARTITION_COLUMN, pa.string(), nullable=False), column)


def _first_dt(table: pa.Table) -> str:
    return str(table.column("__dt")[0].as_py())
