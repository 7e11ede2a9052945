"""A commit's cost stays flat as batches accumulate (issue 20): what it reads and writes is bounded.

Every commit writes the table's metadata.json (listing its snapshots and earlier versions) and a
manifest list naming each manifest a scan plans; a plain append adds a manifest per batch. After
many batches published as the job publishes them, each of those stays under its bound (counts, not
seconds), every file left in the tables' metadata folders is one the tables still use, and a batch
that crashed after its commit (no manifest yet) still finds its snapshot on its rerun.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from factories import manifest
from vitalflow import lake
from vitalflow.contract import PROCESSED_SCHEMA, REJECTED_SCHEMA
from vitalflow.local.object_store import LocalObjectStore
from vitalflow.tables import LOCATIONS, TABLE_PROPERTIES, LakeTables, batch_snapshot
from vitalflow.upkeep import SNAPSHOTS_KEPT, TRIM_EVERY
from vitalflow.validate.commit import publish
from vitalflow.validate.writer import PartitionedWriter, WrittenFile

BATCHES = SNAPSHOTS_KEPT + TRIM_EVERY + 10
MERGE_AT = int(TABLE_PROPERTIES["commit.manifest.min-count-to-merge"])
VERSIONS = int(TABLE_PROPERTIES["write.metadata.previous-versions-max"])


def files_of(work: Path, batch_id: str, n: int) -> dict[str, list[WrittenFile]]:
    """One row per table, on a date of its own (so no two batches share a data file)."""
    out = {}
    for prefix, schema in (("processed", PROCESSED_SCHEMA), ("rejected", REJECTED_SCHEMA)):
        writer = PartitionedWriter(work / batch_id, prefix, schema, batch_id)
        row = {f.name: _value(f.type, n) for f in schema}
        writer.write(pa.Table.from_pylist([row], schema=schema), f"2026-{1 + n % 12:02d}-01")
        out[prefix] = writer.close()
    return out


def _value(kind: pa.DataType, n: int) -> object:
    if pa.types.is_timestamp(kind):
        return pa.scalar(1_767_225_600_000_000 + n * 86_400_000_000, pa.timestamp("us", tz="UTC")).as_py()
    if pa.types.is_list(kind):
        return ["row:x"]
    if pa.types.is_string(kind):
        return f"u{n}"
    return 1.0 if pa.types.is_floating(kind) else 1


def used_metadata(tables: LakeTables, name: str) -> set[str]:
    """The metadata files the table uses: its metadata.json (and the earlier ones it lists), the
    manifest list of each snapshot it keeps and every manifest those name."""
    table = tables.table(name)
    used = {table.metadata_location, *(entry.metadata_file for entry in table.metadata.metadata_log)}
    for snapshot in table.metadata.snapshots:
        used.add(snapshot.manifest_list)
        used.update(m.manifest_path for m in snapshot.manifests(table.io))
    return {Path(p.removeprefix("file://")).name for p in used}


def assert_nothing_left_behind(tables: LakeTables, name: str, folder: Path) -> None:
    """Every metadata file is one the table uses, but for pyiceberg's own leftover of a merge by a
    snapshot the table still keeps: the batch's manifest, written (<commit>-m0) before being merged
    into <commit>-m1; it goes with that snapshot (``upkeep.trim``)."""
    on_disk, used = {p.name for p in folder.iterdir()}, used_metadata(tables, name)
    assert used <= on_disk
    table = tables.table(name)
    kept = {s.snapshot_id for s in table.metadata.snapshots}
    merges = {
        Path(m.manifest_path).name.rsplit("-m", 1)[0] + "-m0.avro"
        for s in table.metadata.snapshots
        for m in s.manifests(table.io)
        if m.added_snapshot_id in kept and not m.manifest_path.endswith("-m0.avro")
    }
    assert on_disk - used == merges - used


def test_many_batches_leave_the_metadata_a_commit_reads_and_writes_bounded(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "lake")
    tables = LakeTables.for_store(store)
    crashed = manifest(f"{0xC0:016x}")  # committed to both tables, then the job died: no manifest
    for n in range(1, BATCHES):
        batch = manifest(f"{n:016x}")
        publish(store, tables, files_of(tmp_path / "work", batch.batch_id, n), batch)
        if n == 5:
            for prefix, written in files_of(tmp_path / "work", crashed.batch_id, 0).items():
                for one in written:
                    store.put_file(one.path, one.key)
                keys = [one.key for one in written]
                tables.commit_files(lake.FILES_TABLES[prefix], crashed.batch_id, keys)

    for name in lake.FILES_TABLES.values():
        table = tables.table(name)
        current = table.current_snapshot()
        assert current is not None
        assert len(current.manifests(table.io)) < MERGE_AT  # merged: not one manifest per batch
        metadata = store.root / LOCATIONS[name] / "metadata"
        assert len(list(metadata.glob("*.metadata.json"))) <= VERSIONS + 1
        assert_nothing_left_behind(tables, name, metadata)
        assert len(tables.live_keys(name)) == BATCHES  # every batch's file is live, once
        # the crashed batch's snapshot (and so everything after it) and its parent (what it was
        # checked against) are kept until its manifest exists
        pinned = batch_snapshot(table, crashed.batch_id)
        assert pinned is not None and pinned.parent_snapshot_id is not None
        assert table.snapshot_by_id(pinned.parent_snapshot_id) is not None

    # its rerun completes it (nothing added twice); then the history is trimmed on the next batch
    publish(store, tables, files_of(tmp_path / "again", crashed.batch_id, 0), crashed)
    last = manifest(f"{BATCHES:016x}")
    publish(store, tables, files_of(tmp_path / "work", last.batch_id, BATCHES), last)
    for name in lake.FILES_TABLES.values():
        table = tables.table(name)
        assert len(tables.live_keys(name)) == BATCHES + 1
        assert len(table.metadata.snapshots) <= SNAPSHOTS_KEPT + 1
        assert batch_snapshot(table, crashed.batch_id) is None  # its manifest stands for it now
        assert_nothing_left_behind(tables, name, store.root / LOCATIONS[name] / "metadata")
