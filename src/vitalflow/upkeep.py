"""Upkeep of the Iceberg tables after rows were rewritten (erasure, compaction): expiry and records.

Expiring a snapshot only drops it from the table's metadata; the data and manifest files that no
remaining snapshot references are deleted here, so rows that were rewritten away (an erased user's)
are gone from storage too, and so are the column bounds of old manifests. The batch manifests list
the files that hold each batch's rows; after a rewrite they are listed again from the tables.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from vitalflow import lake
from vitalflow.manifests import read_manifest, write_manifest
from vitalflow.ports import ObjectStore
from vitalflow.tables import LakeTables

if TYPE_CHECKING:
    from pyiceberg.table import Table

# Files the writer names after their batch (``<batch>.parquet``, ``<batch>-1.parquet``) hold that
# batch only; any other (a rewrite's) is read to find its batches.
_BATCH_NAME_LENGTH = 16


def expire(tables: LakeTables, name: str, older_than: datetime) -> int:
    """Expire the table's snapshots older than ``older_than`` (never the current one) and delete the
    files only they referenced; the number of snapshots expired."""
    table = tables.table(name)
    old = [s.snapshot_id for s in table.metadata.snapshots if s.timestamp_ms < older_than.timestamp() * 1000]
    current = table.current_snapshot()
    old = [s for s in old if current is None or s != current.snapshot_id]
    if not old:
        return 0
    before = _referenced(table)
    expiry = table.maintenance.expire_snapshots()
    # pyiceberg 0.10 keeps the ids to expire in a class-level set shared by every expiry in the
    # process (the second table's would also name the first's): give this one its own
    expiry._snapshot_ids_to_expire = set()
    expiry.by_ids(old).commit()
    table = tables.table(name)
    for path in sorted(before - _referenced(table)):
        table.io.delete(path)
    return len(old)


def _referenced(table: Table) -> set[str]:
    """Every manifest list, manifest and live data file of every snapshot the table keeps."""
    paths: set[str] = set()
    seen: set[str] = set()
    for snapshot in table.metadata.snapshots:
        paths.add(snapshot.manifest_list)
        for manifest in snapshot.manifests(table.io):
            paths.add(manifest.manifest_path)
            if manifest.manifest_path in seen:  # shared by snapshots: read once
                continue
            seen.add(manifest.manifest_path)
            for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=True):
                paths.add(entry.data_file.file_path)
    return paths


def files_by_batch(tables: LakeTables, name: str) -> dict[str, list[str]]:
    """The table's live files (lake keys) holding each batch's rows."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    if not tables.exists(name):
        return {}
    table = tables.table(name)
    found: dict[str, list[str]] = defaultdict(list)
    for task in table.scan().plan_files():
        key = tables.key(task.file.file_path)
        stem = key.rsplit("/", 1)[-1].split(".", 1)[0].split("-", 1)[0]
        if len(stem) == _BATCH_NAME_LENGTH and all(c in "0123456789abcdef" for c in stem):
            found[stem].append(key)
            continue
        with table.io.new_input(task.file.file_path).open() as handle:
            column = pq.read_table(handle, columns=["batch_id"]).column(0)
        for batch_id in pc.unique(column).to_pylist():
            found[batch_id].append(key)
    return found


def relist(store: ObjectStore, tables: LakeTables, batch_ids: Iterable[str]) -> int:
    """Rewrite the manifests of these batches to list the files now holding their rows."""
    holding = {prefix: files_by_batch(tables, lake.FILES_TABLES[prefix]) for prefix in lake.FILES_TABLES}
    changed = 0
    for batch_id in sorted(set(batch_ids)):
        manifest = read_manifest(store, batch_id)
        if manifest is None:
            continue
        update = {
            "processed_files": sorted(holding["processed"].get(batch_id, [])),
            "rejected_files": sorted(holding["rejected"].get(batch_id, [])),
        }
        if update != {"processed_files": manifest.processed_files, "rejected_files": manifest.rejected_files}:
            write_manifest(store, manifest.model_copy(update=update))
            changed += 1
    return changed
