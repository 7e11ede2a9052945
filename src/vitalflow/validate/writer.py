"""Write a batch's rows as Hive-partitioned Parquet in a private working folder.

Nothing here is visible to readers: files are published to the lake only after the whole batch
was read, and the manifest written last makes them count (see ``vitalflow.validate.commit``).
"""

from __future__ import annotations

import contextlib
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


class PartitionedWriter:
    """One Parquet file per partition, appended to chunk by chunk, so memory holds one chunk at most."""

    def __init__(self, workdir: Path, table: str, schema: pa.Schema, batch_id: str) -> None:
        self.workdir = workdir
        self.table = table
        self.schema = schema
        self.batch_id = batch_id
        self._writers: dict[str, pq.ParquetWriter] = {}
        self._rows: dict[str, int] = {}

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
            path = self.workdir / lake.data_key(self.table, dt, self.batch_id)
            path.parent.mkdir(parents=True, exist_ok=True)
            writer = pq.ParquetWriter(
                path,
                self.schema,
                compression="zstd",
                use_dictionary=[n for n in self.schema.names if n not in DELTA_COLUMNS],
                column_encoding={n: "DELTA_BINARY_PACKED" for n in self.schema.names if n in DELTA_COLUMNS},
            )
            self._writers[dt] = writer
            self._rows[dt] = 0
        writer.write_table(data, row_group_size=1 << 20)
        self._rows[dt] += data.num_rows

    def close(self) -> list[WrittenFile]:
        files = []
        for dt, writer in sorted(self._writers.items()):
            writer.close()
            key = lake.data_key(self.table, dt, self.batch_id)
            files.append(WrittenFile(key=key, path=self.workdir / key, dt=dt, rows=self._rows[dt]))
        self._writers.clear()
        return files

    def abort(self) -> None:
        for writer in self._writers.values():
            with contextlib.suppress(Exception):  # the files are discarded anyway
                writer.close()
        self._writers.clear()
