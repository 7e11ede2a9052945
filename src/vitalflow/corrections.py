"""Corrections (``VITALFLOW_ON_CONFLICT=replace``): stored readings a batch replaces, taken out of
their files in the batch's own commit.

Iceberg's row delete takes a filter expression, and a correction is a list of (user, instant)
keys: one ``OR`` term per reading made a tree deeper than Python's recursion limit past about a
thousand corrections (``RecursionError``), and costs a pass over every row per term. Here the files
that may hold them (planned by their dates) are read once each, the corrected readings are dropped
by an exact join on the key, and each file that held any is replaced by its rewrite in one
``overwrite`` snapshot: the old file stays in the table's history until its snapshots expire, as
the old readings must.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyiceberg.manifest import DataFile
    from pyiceberg.table import Table

    from vitalflow.tables import Reading

Rewrite = tuple["DataFile", "DataFile | None"]  # a file, and its rewrite (None: nothing left)


def rewrites(table: Table, readings: Sequence[Reading], batch_id: str) -> list[Rewrite]:
    """Per current file holding some of ``readings``: the file, and its rewrite without them (None:
    nothing is left). The rewrites are written beside the originals, named after ``batch_id``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from vitalflow.tables import on_dates, write_data_file

    if table.current_snapshot() is None or not readings:
        return []
    gone = pa.table(
        {
            "user_id": pa.array([r[1] for r in readings], pa.string()),
            "event_us": pa.array([r[2] for r in readings], pa.int64()),
        }
    )
    dates = sorted({r[0] for r in readings})
    changed: list[Rewrite] = []
    for task in table.scan(row_filter=on_dates(dates)).plan_files():
        with table.io.new_input(task.file.file_path).open() as handle:
            stored = pq.read_table(handle)
        keep = _keeping(stored, gone)
        if keep is None:
            continue
        if not len(keep):
            changed.append((task.file, None))
            continue
        path = _rewrite_path(task.file.file_path, batch_id)
        changed.append((task.file, write_data_file(table, stored.take(keep), path)))
    return changed


def _keeping(stored: Any, gone: Any) -> Any:
    """Row numbers of ``stored`` whose key is not in ``gone``, in order; None when all stay."""
    import pyarrow as pa
    import pyarrow.compute as pc

    keys = pa.table(
        {
            "user_id": stored.column("user_id"),
            "event_us": stored.column("event_time").cast(pa.int64()),
            "__row": pa.array(range(stored.num_rows), pa.int64()),
        }
    )
    hit = keys.join(gone, keys=["user_id", "event_us"], join_type="left semi")
    if not hit.num_rows:
        return None
    dropped = hit.column("__row")
    return pc.filter(keys.column("__row"), pc.invert(pc.is_in(keys.column("__row"), value_set=dropped)))


def _rewrite_path(path: str, batch_id: str) -> str:
    """``<folder>/<name>.parquet`` -> ``<folder>/<name>.r<batch>.parquet``: the original's batch
    still leads the name (``upkeep.files_by_batch``), the correcting batch follows."""
    folder, name = path.rsplit("/", 1)
    stem = name.split(".", 1)[0]
    return f"{folder}/{stem}.r{batch_id}.parquet"
