"""``vitalflow lake compact`` and ``vitalflow lake migrate``: the same rows, fewer files / new tables."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow.parquet as pq

from lakefixture import reading, write_batch
from vitalflow import lake
from vitalflow.compaction import compact
from vitalflow.local.object_store import LocalObjectStore
from vitalflow.local.query_engine import DuckDBEngine
from vitalflow.manifests import read_manifest
from vitalflow.migration import migrate
from vitalflow.tables import LakeTables

AT = datetime(2026, 11, 20, 8, tzinfo=timezone.utc)
REPORT = "SELECT dt, count(*) AS n, sum(heart_rate) AS hr, count_if(low_spo2) AS low " + (
    "FROM readings_flagged GROUP BY 1"
)


def many_batches(root: Path, n: int = 6, commit: bool = True, by_day: bool = False) -> list[str]:
    """``n`` batches, each with readings on the same two dates of one month: a small file each."""
    ids = []
    for i in range(n):
        rows = [reading(f"u{i}", AT + timedelta(hours=h, minutes=i), spo2=85 + h) for h in (0, 1, 30)]
        batch_id = f"{i:016x}"
        write_batch(
            root,
            batch_id,
            rows,
            [{"reasons": ["x"]}],
            ingested_at=AT,
            commit=commit,
            in_tables=commit,
            by_day=by_day,
        )
        ids.append(batch_id)
    return ids


def report(root: Path) -> list[dict[str, object]]:
    engine = DuckDBEngine(LocalObjectStore(root))
    try:
        return sorted(engine.query(REPORT).to_pylist(), key=lambda r: str(r["dt"]))
    finally:
        engine.close()


def test_compaction_keeps_every_row_in_fewer_files(tmp_path):
    root = tmp_path / "lake"
    ids = many_batches(root)
    store, tables = LocalObjectStore(root), LakeTables.local(root)
    before = report(root)
    result = compact(store, tables, retention=timedelta(0))
    assert result.files_before == {"processed_files": 6, "rejected_files": 6}
    assert result.files_after == {"processed_files": 1, "rejected_files": 1}
    assert report(root) == before
    for name in lake.FILES_TABLES.values():  # expired at once (no retention): old files are gone
        assert sorted(
            str(p.relative_to(root)) for p in root.glob(f"{name.split('_')[0]}/**/*.parquet")
        ) == sorted(tables.live_keys(name))
    manifest = read_manifest(store, ids[0])
    assert manifest is not None and manifest.processed_files == tables.live_keys("processed_files")
    again = compact(store, tables)
    assert again.partitions == {"processed_files": 0, "rejected_files": 0}  # nothing left to do


def test_migration_converts_a_lake_of_the_earlier_layout(tmp_path):
    root = tmp_path / "lake"
    many_batches(root, n=3, commit=True, by_day=True)
    expected = report(root)
    (root / "catalog.db").unlink()  # the earlier layout: no tables, no dt column in the files
    for folder in ("processed", "rejected"):
        for path in (root / folder).rglob("*.parquet"):
            pq.write_table(pq.read_table(path, partitioning=None).drop(["dt"]), path)
        for meta in (root / folder / "metadata").iterdir():
            meta.unlink()
    assert report(root) != expected  # nothing is visible before the migration

    result = migrate(LocalObjectStore(root), LakeTables.local(root))
    assert (result.batches, result.rows_before, result.rows_after) == (3, 12, 12)
    assert report(root) == expected
    assert migrate(LocalObjectStore(root), LakeTables.local(root)).batches == 0  # once


def test_compaction_packs_small_files_into_bins_of_the_target_size(tmp_path, monkeypatch):
    """A partition is never read whole: files under the target are packed into bins of up to the
    target size and each bin becomes one file."""
    from vitalflow import compaction

    root = tmp_path / "lake"
    many_batches(root)
    store, tables = LocalObjectStore(root), LakeTables.local(root)
    sizes = [task.file.file_size_in_bytes for task in tables.table("processed_files").scan().plan_files()]
    assert len(sizes) == 6
    monkeypatch.setattr(compaction, "TARGET_BYTES", 2 * max(sizes) + 1)  # two files a bin
    before = report(root)
    result = compact(store, tables, retention=timedelta(0))
    assert result.files_after["processed_files"] == 3
    assert report(root) == before
