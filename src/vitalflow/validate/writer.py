"""Write a batch's rows as Hive-partitioned Parquet in a private working folder.

Nothing here is visible to readers: files are published to the lake only after the whole batch
was read, and the manifest written last makes them count (see ``vitalflow.validate.commit``).
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from vitalflow import lake


@dataclass(frozen=True)
class WrittenFile:
    key: str  # where it goes in the lake
    path: Path  # where it is now
    dt: str
    rows: int


# Line numbers increase row by row, so their deltas are tiny: ~3 bytes a row become a fraction of
# one. (pyarrow's delta encoder does not take timestamp columns, or event_time would be here too.)
DELTA_COLUMNS = {"source_line"}


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

    At most ``open_file_budget()`` files are open at once (each open writer holds buffers and a
    file handle): a batch spanning thousands of dates closes the least recently used and opens
    a further part when that date comes back.
    """

    def __init__(self, workdir: Path, table: str, schema: pa.Schema, batch_id: str) -> None:
        self.workdir = workdir
        self.table = table
        self.schema = schema
        self.batch_id = batch_id
        self._writers: OrderedDict[str, pq.ParquetWriter] = OrderedDict()
        self._parts: dict[str, int] = {}  # next part number per date
        self._done: list[WrittenFile] = []
        self._open_rows: dict[str, int] = {}
        self._limit = open_file_budget()

    def write(self, data: pa.Table, days: np.ndarray | str) -> None:
        if data.num_rows == 0:
            return
        if isinstance(days, str):
            self._append(days, data)
            return
        uniques, inverse = np.unique(days, return_inverse=True)
        if len(uniques) == 1:
            self._append(str(uniques[0]), data)
            return
        order = np.argsort(inverse, kind="stable")
        bounds = np.searchsorted(inverse[order], np.arange(len(uniques) + 1))
        for i, day in enumerate(uniques):
            idx = order[bounds[i] : bounds[i + 1]]
            self._append(str(day), data.take(pa.array(idx)))

    def _append(self, dt: str, data: pa.Table) -> None:
        writer = self._writers.get(dt)
        if writer is None:
            while len(self._writers) >= self._limit:
                self._close(next(iter(self._writers)))
            part = self._parts.get(dt, 0)
            path = self.workdir / lake.data_key(self.table, dt, self.batch_id, part)
            path.parent.mkdir(parents=True, exist_ok=True)
            writer = pq.ParquetWriter(
                path,
                self.schema,
                compression="zstd",
                use_dictionary=[n for n in self.schema.names if n not in DELTA_COLUMNS],
                column_encoding={n: "DELTA_BINARY_PACKED" for n in self.schema.names if n in DELTA_COLUMNS},
            )
            self._writers[dt] = writer
            self._open_rows[dt] = 0
        else:
            self._writers.move_to_end(dt)
        writer.write_table(data, row_group_size=1 << 20)
        self._open_rows[dt] += data.num_rows

    def _close(self, dt: str) -> None:
        writer = self._writers.pop(dt)
        writer.close()
        part = self._parts.get(dt, 0)
        key = lake.data_key(self.table, dt, self.batch_id, part)
        self._done.append(WrittenFile(key=key, path=self.workdir / key, dt=dt, rows=self._open_rows.pop(dt)))
        self._parts[dt] = part + 1

    def close(self) -> list[WrittenFile]:
        for dt in list(self._writers):
            self._close(dt)
        return sorted(self._done, key=lambda f: f.key)

    def abort(self) -> None:
        for writer in self._writers.values():
            with contextlib.suppress(Exception):  # the files are discarded anyway
                writer.close()
        self._writers.clear()
