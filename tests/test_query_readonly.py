"""`vitalflow query` reads the lake's committed data and nothing else: no other file, no writes.

Each attack is the one a curious or careless user tried (issue 9), through the real CLI and a real
DuckDB; a test passes only when the attempt fails with a one-line error and leaves no trace.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakefixture import reading, write_batch
from vitalflow import lake
from vitalflow.cli import main
from vitalflow.contract import PROCESSED_SCHEMA
from vitalflow.exceptions import QueryError
from vitalflow.local.object_store import LocalObjectStore
from vitalflow.local.query_engine import DuckDBEngine

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
SECRET = "s3cr3t-marker-7f1c"


@pytest.fixture
def home(tmp_path):
    root = tmp_path / "lake"
    write_batch(root, "dddd000000000004", [reading("ann", T0), reading("bob", T0)], ingested_at=T0)
    # a crashed batch: its Parquet is in place, its manifest never got written
    write_batch(root, "eeee000000000005", [reading("ghost", T0)], ingested_at=T0, commit=False)
    return root


def query(home, sql, *extra):
    return main(["--home", str(home), "query", sql, *extra])


def one_line_error(capsys) -> str:
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert len(err.splitlines()) == 1, captured.err
    assert err.startswith("error: ") and "Traceback" not in err
    return err + captured.out


READERS = ["read_csv", "read_text", "read_blob", "read_json_objects", "read_parquet"]


@pytest.mark.parametrize("reader", READERS)
def test_files_outside_the_lake_cannot_be_read(home, tmp_path, capsys, reader):
    secret = tmp_path / "secret.csv"
    secret.write_text(f"a\n{SECRET}\n")
    assert query(home, f"SELECT * FROM {reader}('{secret}')", "--format", "json") == 2
    out = one_line_error(capsys)
    assert SECRET not in out and "not files" in out


def test_system_files_cannot_be_read(home, capsys):
    assert query(home, "SELECT * FROM read_csv('/etc/passwd')") == 2
    assert "root:" not in one_line_error(capsys)


def test_uncommitted_files_cannot_be_read_by_path_or_glob(home, capsys):
    ghost = home / lake.data_key("processed", "2026-11", "eeee000000000005")
    assert ghost.is_file()
    for target in (f"{home}/processed/**/*.parquet", str(ghost), f"{home}/*/*/*.parquet"):
        assert query(home, f"SELECT user_id FROM read_parquet('{target}')", "--format", "json") == 2
        assert "ghost" not in one_line_error(capsys)


def test_committed_files_stay_readable_through_the_views(home, capsys):
    assert query(home, "SELECT count(*) AS n FROM processed", "--format", "json") == 0
    assert json.loads(capsys.readouterr().out) == {"n": 2}


def test_copy_cannot_write_outside_the_lake(home, tmp_path, capsys):
    target = tmp_path / "dump.csv"
    assert query(home, f"COPY (SELECT * FROM processed) TO '{target}'") == 2
    err = one_line_error(capsys)
    assert "only read statements" in err and "SELECT" in err and "COPY" in err
    assert not target.exists()


def test_copy_cannot_plant_batches_in_the_lake(home, capsys):
    """The issue's attack: a Parquet file plus a matching manifest written by COPY."""
    fake = lake.data_key("processed", "2026-11", "ffff000000000006")
    manifest = {
        "batch_id": "ffff000000000006",
        "source": {"key": "raw/x.csv"},
        "sha256": "f" * 64,
        "bytes": 1,
        "status": "processed",
        "processed_files": [fake],
        "started_at": "2026-11-20T08:00:00Z",
    }
    statements = [
        f"COPY (SELECT * FROM processed, range(500)) TO '{home / fake}' (FORMAT parquet)",
        f"COPY (SELECT '{json.dumps(manifest)}' AS m) TO '{home / lake.manifest_key('ffff000000000006')}' "
        "(FORMAT csv, HEADER false, QUOTE '')",
    ]
    for sql in statements:
        assert query(home, sql) == 2
        one_line_error(capsys)
    assert not (home / fake).exists()
    assert not (home / lake.manifest_key("ffff000000000006")).exists()
    assert query(home, "SELECT count(*) AS n FROM processed", "--format", "json") == 0
    assert json.loads(capsys.readouterr().out) == {"n": 2}


@pytest.mark.parametrize(
    ("sql", "verb"),
    [
        ("ATTACH '{tmp}/other.duckdb' AS other", "ATTACH"),
        ("INSTALL httpfs", "INSTALL"),
        ("LOAD httpfs", "LOAD"),
        ("SET enable_external_access = true", "SET"),
        ("RESET lock_configuration", "RESET"),
        ("PRAGMA enable_profiling", "PRAGMA"),
        ("CREATE TABLE t AS SELECT * FROM processed", "CREATE"),
        ("CREATE OR REPLACE VIEW processed AS SELECT * FROM read_parquet('{tmp}/x.parquet')", "CREATE"),
        ("INSERT INTO processed SELECT * FROM processed", "INSERT"),
        ("DROP VIEW processed", "DROP"),
        ("EXPORT DATABASE '{tmp}/export'", "EXPORT"),
        ("CALL pragma_version()", "CALL"),
        ("EXPLAIN ANALYZE COPY (SELECT 1) TO '{tmp}/x.csv'", "EXPLAIN"),
    ],
)
def test_only_read_statements_are_accepted(home, tmp_path, capsys, sql, verb):
    assert query(home, sql.format(tmp=tmp_path)) == 2
    err = one_line_error(capsys)
    assert "only read statements" in err and "SELECT" in err and verb in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lake"]  # nothing written


def test_a_write_hidden_after_a_read_is_refused(home, tmp_path, capsys):
    assert query(home, f"SELECT 1; COPY processed TO '{tmp_path}/x.csv'") == 2
    one_line_error(capsys)
    assert not (tmp_path / "x.csv").exists()


def test_duckdb_confirms_what_the_athena_parse_accepted(home):
    """A statement that starts like a read but is not one is refused by DuckDB's own classification."""
    engine = DuckDBEngine(LocalObjectStore(home))
    try:
        with pytest.raises(QueryError, match=r"only read statements.*INSERT"):
            engine.query("WITH x AS (SELECT 1 AS a) INSERT INTO processed SELECT * FROM processed")
    finally:
        engine.close()


def test_read_statements_of_every_accepted_kind(home, capsys):
    for sql in (
        "WITH u AS (SELECT DISTINCT user_id FROM processed) SELECT count(*) AS n FROM u",
        "SELECT 1 AS n UNION ALL SELECT 2",
        "VALUES (1), (2)",
        "DESCRIBE processed",
        "SELECT count(*) AS n FROM readings_flagged WHERE low_spo2",
        "SELECT table_name FROM information_schema.tables",
    ):
        assert query(home, sql, "--format", "json") == 0, capsys.readouterr().err
        assert capsys.readouterr().out


def test_the_lock_holds_even_when_a_query_reaches_the_connection(home, tmp_path):
    """Defence in depth: the connection itself refuses file access and configuration changes."""
    engine = DuckDBEngine(LocalObjectStore(home))
    try:
        assert engine.con is not None
        for sql in (
            "SET enable_external_access = true",
            "SET allowed_directories = ['/']",
            f"COPY (SELECT 1) TO '{tmp_path}/x.csv'",
            "SELECT * FROM read_text('/etc/hostname')",
        ):
            with pytest.raises(Exception, match=r"locked|disabled by configuration"):
                engine.con.execute(sql)
        assert not (tmp_path / "x.csv").exists()
    finally:
        engine.close()


def test_a_batch_committed_later_becomes_visible_under_the_lock(home):
    engine = DuckDBEngine(LocalObjectStore(home))
    try:
        assert engine.query("SELECT count(*) AS n FROM processed").to_pylist() == [{"n": 2}]
        write_batch(home, "aaaa000000000001", [reading("cy", T0)], ingested_at=T0)
        assert engine.query("SELECT count(*) AS n FROM processed").to_pylist() == [{"n": 3}]
        # the new connection is locked too
        assert engine.con is not None
        with pytest.raises(Exception, match="locked"):
            engine.con.execute("SET enable_external_access = true")
    finally:
        engine.close()


def test_stored_report_queries_run_under_the_lock(home):
    engine = DuckDBEngine(LocalObjectStore(home))
    params = {"batch_id": "dddd000000000004", "dt_from": "2026-11-20", "dt_to": "2026-11-20"}
    try:
        rows = engine.run("report/anomaly_rules", params).to_pylist()
    finally:
        engine.close()
    assert rows and all(isinstance(r["readings"], int) for r in rows)


def test_a_manifest_cannot_point_the_views_at_other_files(home, tmp_path, capsys, caplog):
    """Even a planted manifest (written outside vitalflow) only exposes the lake's own table files."""
    outside = tmp_path / "outside.parquet"
    rows = [{**reading("mallory", T0), "batch_id": "x", "source_line": 2, "ingested_at": T0}]
    pq.write_table(pa.Table.from_pylist(rows, schema=PROCESSED_SCHEMA), outside)
    for batch_id, key in (("abab000000000001", "../outside.parquet"), ("abab000000000002", "raw/x.parquet")):
        (home / lake.manifest_key(batch_id)).write_text(
            json.dumps(
                {
                    "batch_id": batch_id,
                    "source": {"key": "raw/x.csv"},
                    "sha256": "a" * 64,
                    "bytes": 1,
                    "status": "processed",
                    "processed_files": [key],
                    "started_at": "2026-11-20T08:00:00Z",
                }
            )
        )
    assert query(home, "SELECT count(*) AS n FROM processed", "--format", "json") == 0
    assert json.loads(capsys.readouterr().out) == {"n": 2}
    assert "abab000000000001.json" in caplog.text and "abab000000000002.json" in caplog.text


def test_temp_folder_is_private_and_removed(home):
    engine = DuckDBEngine(LocalObjectStore(home))
    assert engine.con is not None
    (folder,) = engine.con.execute("SELECT current_setting('temp_directory')").fetchone()
    assert "vitalflow-duckdb-" in folder
    engine.close()
    assert not os.path.exists(folder)
