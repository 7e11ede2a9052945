"""The commit protocol (``validate/commit.py``): a batch's outputs become visible all at once.

Intent record first (every key this attempt and earlier ones may have written), then per table the
files and one Iceberg snapshot carrying the batch id, then the stale keys of an earlier attempt go,
then the manifest, then the marker the views read, then the intent record goes.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pyarrow as pa
import pytest

from factories import manifest
from vitalflow import lake
from vitalflow.contract import PROCESSED_SCHEMA, REJECTED_SCHEMA
from vitalflow.exceptions import StoredReadingsChanged
from vitalflow.local.object_store import LocalObjectStore
from vitalflow.stored_since import ReadAt
from vitalflow.tables import BATCH_PROPERTY, LakeTables, batch_snapshot
from vitalflow.validate.commit import intent_key, mark_committed, publish
from vitalflow.validate.writer import PartitionedWriter, WrittenFile


class Recording(LocalObjectStore):
    """A local store that remembers the order of its writes and deletes."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.calls: list[str] = []

    def put_file(self, path: Path, key: str) -> None:
        self.calls.append(f"file {key}")
        super().put_file(path, key)

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None:
        self.calls.append(f"put {key}")
        super().put_bytes(key, data, content_type)

    def delete(self, keys: list[str]) -> None:
        self.calls.extend(f"delete {k}" for k in keys)
        super().delete(keys)


def written(workdir: Path, batch_id: str, table: str = "processed", dt: str = "2026-11-20") -> WrittenFile:
    """One real Parquet file of a batch, as the job's writer makes it (Iceberg reads its footer)."""
    schema = PROCESSED_SCHEMA if table == "processed" else REJECTED_SCHEMA
    writer = PartitionedWriter(workdir, table, schema, batch_id)
    row = {f.name: _value(f.type) for f in schema}
    writer.write(pa.Table.from_pylist([row], schema=schema), dt)
    (one,) = writer.close()
    return one


def _value(kind: pa.DataType) -> object:
    if pa.types.is_timestamp(kind):
        return pa.scalar(1_795_000_000_000_000, pa.timestamp("us", tz="UTC")).as_py()
    if pa.types.is_list(kind):
        return ["row:x"]
    if pa.types.is_string(kind):
        return "u1"
    return 1.0 if pa.types.is_floating(kind) else 1


def files_of(tmp_path: Path, batch_id: str) -> dict[str, list[WrittenFile]]:
    work = tmp_path / "work" / batch_id
    return {"processed": [written(work, batch_id)], "rejected": [written(work, batch_id, "rejected")]}


def test_files_then_snapshots_then_manifest_then_marker(tmp_path: Path) -> None:
    store = Recording(tmp_path / "lake")
    tables = LakeTables.for_store(store)
    m = manifest()
    files = files_of(tmp_path, m.batch_id)
    publish(store, tables, files, m)
    intent = intent_key(m.batch_id)
    assert store.calls == [
        f"put {intent}",
        f"file {files['processed'][0].key}",
        f"file {files['rejected'][0].key}",
        f"put {lake.manifest_key(m.batch_id)}",
        f"put {lake.commit_key(m.batch_id)}",
        f"delete {intent}",
    ]
    for name in lake.FILES_TABLES.values():
        snapshot = batch_snapshot(tables.table(name), m.batch_id)
        assert snapshot is not None and snapshot.summary is not None
        assert snapshot.summary[BATCH_PROPERTY] == m.batch_id
    assert tables.live_keys("processed_files") == [files["processed"][0].key]


def test_a_rerun_after_a_crash_between_the_two_tables_adds_nothing_twice(tmp_path: Path) -> None:
    store = Recording(tmp_path / "lake")
    tables = LakeTables.for_store(store)
    m = manifest()
    files = files_of(tmp_path, m.batch_id)
    store.put_file(files["processed"][0].path, files["processed"][0].key)  # the crashed attempt got
    tables.commit_files("processed_files", m.batch_id, [files["processed"][0].key])  # this far
    store.calls.clear()
    committed = publish(store, tables, files_of(tmp_path / "again", m.batch_id), m)
    assert f"file {files['processed'][0].key}" not in store.calls  # a committed file is never rewritten
    assert committed.processed_files == [files["processed"][0].key]
    assert len(tables.table("processed_files").metadata.snapshots) == 1
    assert tables.live_keys("rejected_files") == [files["rejected"][0].key]


def test_a_rerun_deletes_what_a_crashed_attempt_wrote_and_this_one_did_not(tmp_path: Path) -> None:
    store = Recording(tmp_path / "lake")
    m = manifest()
    stale = lake.data_key("processed", "2026-10", m.batch_id)
    store.put_bytes(stale, b"PAR1")
    store.put_bytes(intent_key(m.batch_id), json.dumps({"keys": [stale]}).encode())  # the crash's
    store.calls.clear()
    files = files_of(tmp_path, m.batch_id)
    publish(store, LakeTables.for_store(store), files, m)
    assert f"delete {stale}" in store.calls
    assert store.calls.index(f"delete {stale}") < store.calls.index(f"put {lake.manifest_key(m.batch_id)}")
    assert not store.exists(stale) and store.exists(files["processed"][0].key)
    assert not store.exists(intent_key(m.batch_id))


def test_jobs_committing_at_once_all_land(tmp_path: Path) -> None:
    """Optimistic commits that lose a race reload and retry: no batch fails, no file is lost."""
    store = LocalObjectStore(tmp_path / "lake")
    LakeTables.for_store(store).table("processed_files")  # made once, as Terraform does on AWS
    batches = [f"b{n:015d}" for n in range(6)]
    keys = {}
    for batch_id in batches:
        one = written(tmp_path / "work" / batch_id, batch_id)
        store.put_file(one.path, one.key)
        keys[batch_id] = one.key
    start = threading.Barrier(len(batches))
    errors: list[BaseException] = []

    def job(batch_id: str) -> None:
        tables = LakeTables.for_store(store)  # each job its own catalog client, as separate processes
        tables.table("processed_files")
        start.wait()
        try:
            assert tables.commit_files("processed_files", batch_id, [keys[batch_id]])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=job, args=(b,)) for b in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert LakeTables.for_store(store).live_keys("processed_files") == sorted(keys.values())


def test_the_marker_is_written_once(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "lake")
    assert mark_committed(store, manifest()) is True
    assert mark_committed(store, manifest()) is False


def test_a_table_made_without_partitioning_gets_it_on_first_commit(tmp_path: Path) -> None:
    """Terraform's Glue resource cannot declare a partition spec: the first commit sets it, once;
    reading never changes a table (a lake may be read by someone who cannot write it)."""
    from vitalflow.tables import table_schema

    store = LocalObjectStore(tmp_path / "lake")
    made = LakeTables.for_store(store)
    made.catalog.create_namespace_if_not_exists("vitalflow")
    made.catalog.create_table(("vitalflow", "processed_files"), schema=table_schema("processed_files"))
    jobs = LakeTables(made._connect, "vitalflow", str(store.root), create=False)
    assert not jobs.table("processed_files").spec().fields
    m = manifest()
    one = written(tmp_path / "work", m.batch_id)
    store.put_file(one.path, one.key)
    assert jobs.commit_files("processed_files", m.batch_id, [one.key])
    table = jobs.table("processed_files")
    assert [(f.name, str(f.transform)) for f in table.spec().fields] == [("event_month", "month")]
    (task,) = table.scan().plan_files()
    assert task.file.partition[0] == (2026 - 1970) * 12 + 10  # November 2026, in months since 1970


def test_a_lake_partitioned_by_day_moves_to_months_and_compaction_rewrites_its_files(tmp_path: Path) -> None:
    """A lake made before the month partitioning: its day files stay readable beside the new month
    files, and compaction rewrites a month's files of both specs into one."""
    from pyiceberg.catalog import Catalog
    from pyiceberg.partitioning import PartitionField, PartitionSpec
    from pyiceberg.schema import assign_fresh_schema_ids
    from pyiceberg.transforms import IdentityTransform

    from vitalflow.compaction import compact
    from vitalflow.tables import table_schema

    store = LocalObjectStore(tmp_path / "lake")
    tables = LakeTables.for_store(store)
    tables.catalog.create_namespace_if_not_exists("vitalflow")
    schema = assign_fresh_schema_ids(Catalog._convert_schema_if_needed(table_schema("processed_files")))
    by_day = PartitionSpec(PartitionField(schema.find_field("dt").field_id, 1000, IdentityTransform(), "dt"))
    old = tables.catalog.create_table(("vitalflow", "processed_files"), schema=schema, partition_spec=by_day)
    before = written(tmp_path / "old", "a0c0ffee00000001")
    store.put_file(before.path, "processed/dt=2026-11-18/a0c0ffee00000001.parquet")
    old.add_files([tables.uri("processed/dt=2026-11-18/a0c0ffee00000001.parquet")])
    after = written(tmp_path / "new", "b0c0ffee00000002")
    store.put_file(after.path, after.key)
    assert tables.commit_files("processed_files", "b0c0ffee00000002", [after.key])
    table = tables.table("processed_files")
    assert [f.name for f in table.spec().fields] == ["event_month"]
    assert sorted(task.file.spec_id for task in table.scan().plan_files()) == [0, 1]
    assert table.scan().to_arrow().num_rows == 2
    result = compact(store, tables)
    assert result.files_before["processed_files"] == 2 and result.files_after["processed_files"] == 1
    (task,) = tables.table("processed_files").scan().plan_files()
    assert task.file.spec_id == 1 and task.file.partition[0] == (2026 - 1970) * 12 + 10
    assert tables.table("processed_files").scan().to_arrow().num_rows == 2


def test_a_commit_after_other_jobs_stored_readings_of_its_dates_refuses_and_leaves_nothing(
    tmp_path: Path,
) -> None:
    """The classification read an empty table; another batch stored a reading of its date since."""
    store = LocalObjectStore(tmp_path / "lake")
    tables = LakeTables.for_store(store)
    other = written(tmp_path / "work" / "other", "a" * 16)  # its reading: 2026-11-18, 11:06 UTC
    store.put_file(other.path, other.key)
    tables.commit_files("processed_files", "a" * 16, [other.key])
    m = manifest()
    files = files_of(tmp_path, m.batch_id)
    stale = ReadAt(None, frozenset({"2026-11-17", "2026-11-18"}))
    with pytest.raises(StoredReadingsChanged, match="nothing of it was committed"):
        publish(store, tables, files, m, read_at=stale)
    assert not store.exists(files["processed"][0].key)  # published, then deleted: in no table
    assert not store.exists(files["rejected"][0].key)
    assert tables.live_keys("processed_files") == [other.key]
    assert not store.exists(lake.commit_key(m.batch_id))
    # readings of other dates stored meanwhile do not make a batch start over
    publish(store, tables, files, m, read_at=ReadAt(None, frozenset({"2026-11-19"})))
    assert store.exists(files["processed"][0].key) and store.exists(lake.commit_key(m.batch_id))
