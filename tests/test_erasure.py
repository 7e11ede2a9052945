"""``vitalflow erase``: a user's rows, raw lines and live snapshots go; the audit entry has no id."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq

from test_reading_once import exports
from vitalflow import lake
from vitalflow.cli import main
from vitalflow.config import Settings
from vitalflow.erasure import subject_digest
from vitalflow.pipeline import run_file
from vitalflow.runtime import local_runtime
from vitalflow.tables import LakeTables

USER = "user-001"


def loaded_lake(tmp_path: Path) -> Path:
    home = tmp_path / "lake"
    runtime = local_runtime(Settings(home=home, chunk_rows=50))
    for path in exports(tmp_path):
        assert run_file(runtime, path).status == "processed"
    return home


def files_holding(home: Path, text: str) -> list[str]:
    """Every file in the lake whose bytes hold ``text`` (Parquet statistics and Iceberg manifests too)."""
    needle = text.encode()
    return sorted(
        str(p.relative_to(home)) for p in home.rglob("*") if p.is_file() and needle in p.read_bytes()
    )


def parquet_holding(home: Path) -> list[str]:
    """Every Parquet file in the lake with a row of the user (its bytes are compressed: read it)."""
    found = []
    for path in home.rglob("*.parquet"):
        table = pq.read_table(path, partitioning=None)
        for column in ("user_id", "raw_line"):
            if column in table.column_names and USER in str(table.column(column).to_pylist()):
                found.append(str(path.relative_to(home)))
    return sorted(set(found))


def user_rows(tables: LakeTables, name: str, snapshot_id: int) -> int:
    rows = tables.table(name).scan(selected_fields=("user_id",), snapshot_id=snapshot_id).to_arrow()
    return int(pc.sum(pc.equal(rows.column(0), USER)).as_py() or 0)


def test_erase_leaves_no_row_raw_line_or_snapshot_with_the_id(tmp_path, capsys):
    home = loaded_lake(tmp_path)
    assert files_holding(home, USER) and parquet_holding(home)  # the raw uploads, the data files ...
    (home / ".lock").touch()  # the lake lock every command takes
    before = {p: p.read_bytes() for p in home.rglob("*") if p.is_file()}

    assert main(["--home", str(home), "erase", "--user-id", USER, "--dry-run"]) == 0
    assert "would remove 32 row(s) from processed_files" in capsys.readouterr().out
    assert {p: p.read_bytes() for p in home.rglob("*") if p.is_file()} == before  # a dry run changes nothing

    assert main(["--home", str(home), "erase", "--user-id", USER]) == 0
    capsys.readouterr()
    assert files_holding(home, USER) == []  # no raw line, statistic or plain-text bound holds the id
    assert parquet_holding(home) == []  # no data file, live or not
    tables = LakeTables.local(home)
    for name in lake.FILES_TABLES.values():
        for snapshot in tables.table(name).metadata.snapshots:  # no snapshot left to travel back to
            assert user_rows(tables, name, snapshot.snapshot_id) == 0
    (audit,) = (home / "audit" / "erasures").iterdir()
    entry = json.loads(audit.read_text())
    assert entry["subject_sha256"] == subject_digest(USER) and entry["rows"]["processed_files"] == 32

    assert (
        main(["--home", str(home), "query", "SELECT count(*) AS n FROM processed", "--format", "json"]) == 0
    )
    assert json.loads(capsys.readouterr().out) == {"n": 160 - 32}  # everyone else's readings stay
    raw = sorted((home / "raw").rglob("*.csv"))
    assert (
        len(raw) == 3 and raw[1].read_bytes().startswith(b"\xef\xbb\xbf") and b"\r\n" in raw[1].read_bytes()
    )


def test_an_erasure_racing_a_batch_commit_retries_and_keeps_the_batch(tmp_path):
    """A batch commits between the erasure's load of the table and its delete: the delete's commit
    fails on the stale table (the catalog's own check), is retried on a fresh one, and both land."""
    from factories import manifest
    from test_commit import written
    from vitalflow.erasure import erase_user
    from vitalflow.local.object_store import LocalObjectStore

    home = loaded_lake(tmp_path)
    store = LocalObjectStore(home)
    other = manifest().batch_id
    racing = written(tmp_path / "work", other)
    store.put_file(racing.path, racing.key)

    class Racing(LakeTables):
        raced = False

        def table(self, name):
            table = super().table(name)
            deleting = sys._getframe(1).f_code.co_name == "_retried"  # the erasure's delete asks
            if name == "processed_files" and deleting and not Racing.raced:
                Racing.raced = True  # another job commits now; this caller holds the table as it was
                assert LakeTables.local(home).commit_files(name, other, [racing.key])
            return table

    tables = Racing.local(home)
    result = erase_user(store, tables, USER)
    assert Racing.raced and result.rows["processed_files"] > 0
    after = LakeTables.local(home).table("processed_files")
    current = after.current_snapshot()
    assert (
        current is not None
        and user_rows(after and LakeTables.local(home), "processed_files", current.snapshot_id) == 0
    )
    assert racing.key in LakeTables.local(home).live_keys("processed_files")  # the racing batch landed too
