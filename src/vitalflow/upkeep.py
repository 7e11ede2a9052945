"""Upkeep of the Iceberg tables after rows were rewritten (erasure, compaction): expiry and records.

Expiring a snapshot only drops it from the table's metadata; the data and manifest files that no
remaining snapshot references are deleted here, so rows that were rewritten away (an erased user's)
are gone from storage too, and so are the column bounds of old manifests. The batch manifests list
the files that hold each batch's rows; after a rewrite they are listed again from the tables.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from vitalflow import lake
from vitalflow.manifests import read_manifest, write_manifest
from vitalflow.ports import ObjectStore
from vitalflow.tables import BATCH_PROPERTY, LakeTables, history

if TYPE_CHECKING:
    from pyiceberg.table import Table
    from pyiceberg.table.snapshots import Snapshot

# Files the writer names after their batch (``<batch>.parquet``, ``<batch>-1.parquet``) hold that
# batch only; any other (a rewrite's) is read to find its batches.
_BATCH_NAME_LENGTH = 16
# Snapshots each table keeps after a batch (``trim``): time travel over its last 100 commits (older
# versions: ``expire`` by age, as compaction and erasure do); trimmed in steps of 25, so the cost of
# an expiry (a metadata commit, reading the snapshots' manifest lists) falls on one batch in 25.
SNAPSHOTS_KEPT = 100
TRIM_EVERY = 25
_MERGED = re.compile(r"-m[1-9][0-9]*\.avro$")  # a manifest a merging commit wrote after its first


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
    table = _expire_ids(tables, table, old)
    for path in sorted(before - _referenced(table)):
        table.io.delete(path)
    return len(old)


def trim(store: ObjectStore, tables: LakeTables, name: str) -> int:
    """Bound the snapshots a table keeps (every commit rewrites their list in its metadata.json):
    once ``SNAPSHOTS_KEPT + TRIM_EVERY`` accumulate, expire all but the newest ``SNAPSHOTS_KEPT``.

    A batch's snapshot is how a rerun after a crash finds what the batch committed, until its
    manifest is written (then the manifest says it): so a snapshot of a batch with no manifest, and
    its parent (what the batch was checked against), are kept, and so is everything newer (a
    table's history is one chain). The number of snapshots expired (0 when another job won the race).
    """
    from pyiceberg.exceptions import CommitFailedException

    if not tables.exists(name):
        return 0
    table = tables.table(name)
    chain = list(history(table))  # newest first
    if len(chain) <= SNAPSHOTS_KEPT + TRIM_EVERY:
        return 0
    kept = SNAPSHOTS_KEPT
    for position in range(len(chain) - 1, SNAPSHOTS_KEPT - 1, -1):  # the oldest pinned one, if any
        summary = chain[position].summary
        batch_id = summary[BATCH_PROPERTY] if summary is not None else None
        if batch_id is not None and not store.exists(lake.manifest_key(batch_id)):
            kept = min(position + 2, len(chain))
            break
    keep = {s.snapshot_id for s in chain[:kept]}
    old = [s.snapshot_id for s in table.metadata.snapshots if s.snapshot_id not in keep]
    if not old:
        return 0
    gone = [s for s in table.metadata.snapshots if s.snapshot_id in set(old)]
    before = _referenced(table) if _rewrote([*gone, chain[kept - 1]]) else set()
    try:
        after = _expire_ids(tables, table, old)  # (``table`` is the table after, from here on)
    except CommitFailedException:  # another batch committed meanwhile: the next one trims
        return 0
    released = before - _referenced(after) if before else _released_by_appends(gone, after)
    for path in sorted(released):
        after.io.delete(path)
    return len(old)


def _expire_ids(tables: LakeTables, table: Table, ids: list[int]) -> Table:
    """The table after expiring these snapshots (their files are still there)."""
    expiry = table.maintenance.expire_snapshots()
    # pyiceberg 0.10 keeps the ids to expire in a class-level set shared by every expiry in the
    # process (the second table's would also name the first's): give this one its own
    expiry._snapshot_ids_to_expire = set()
    expiry.by_ids(ids).commit()
    return tables.table(table.name()[-1])


def _rewrote(snapshots: list[Snapshot]) -> bool:
    """Whether any of these snapshots removed data files (a delete, a compaction, an erasure)."""
    return any(s.summary is None or s.summary.operation.value != "append" for s in snapshots)


def _released_by_appends(gone: list[Snapshot], after: Table) -> set[str]:
    """The files only the expired snapshots referenced, when they and the oldest kept snapshot only
    appended: every data file they saw is still live, so only their manifest lists and the
    manifests merges replaced are released, found from manifest lists alone (no manifest is read).
    A merging commit writes its batch's manifest (``<commit>-m0.avro``) before merging it into
    another (``-m1``...), so no snapshot ever names that first one: it goes with its commit's."""
    lists = {s.manifest_list for s in gone}
    manifests = {m.manifest_path for s in gone for m in s.manifests(after.io)}
    manifests |= {
        _MERGED.sub("-m0.avro", m.manifest_path)
        for s in gone
        for m in s.manifests(after.io)
        if m.added_snapshot_id == s.snapshot_id and _MERGED.search(m.manifest_path)
    }
    manifests -= {m.manifest_path for s in after.metadata.snapshots for m in s.manifests(after.io)}
    return lists | manifests


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
