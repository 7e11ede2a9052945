"""A corrupt or foreign file under manifests/ is reported once, by name, and skipped: it never blocks
other batches' queries, nor new runs, nor a rerun of its own batch (issue 9)."""

from __future__ import annotations

import json
import logging
import shutil
from datetime import datetime, timezone

import pytest

from conftest import row
from lakefixture import reading, write_batch
from vitalflow import lake
from vitalflow.cli import main
from vitalflow.config import Settings
from vitalflow.local.object_store import LocalObjectStore
from vitalflow.local.query_engine import DuckDBEngine
from vitalflow.manifests import read_manifest
from vitalflow.pipeline import run_file
from vitalflow.runtime import local_runtime

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
GOOD = "dddd000000000004"


def plant(home, name: str, content: str | bytes) -> str:
    path = home / lake.MANIFESTS / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return name


def warnings_about(caplog, name: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and name in r.getMessage()]


@pytest.fixture
def home(tmp_path):
    root = tmp_path / "lake"
    write_batch(root, GOOD, [reading("ann", T0), reading("bob", T0)], [{"reasons": ["x"]}], ingested_at=T0)
    return root


BAD_FILES = {
    "0000000000000bad.json": '{"batch_id": "0000000000000bad", "status": "proc',  # truncated write
    "1111000000000001.json": json.dumps({"batch_id": "1111000000000001", "status": "done"}),  # wrong shape
    "2222000000000002.json": "[]",
    "3333000000000003.json": b"\xff\xfe\x00garbage",
    "notes.txt": "remember to rerun tuesday's file",
    ".DS_Store": b"\x00\x00\x00\x01Bud1",
}


def test_bad_files_are_skipped_and_named_once_each(home, capsys, caplog):
    for name, content in BAD_FILES.items():
        plant(home, name, content)
    code = main(["--home", str(home), "query", "SELECT count(*) AS n FROM processed", "--format", "json"])
    assert code == 0, capsys.readouterr().err
    assert json.loads(capsys.readouterr().out) == {"n": 2}
    for name in BAD_FILES:
        (message,) = warnings_about(caplog, name)
        assert "\n" not in message and "skipped" in message


def test_a_copied_manifest_does_not_count_its_batch_twice(home, capsys, caplog):
    shutil.copy(home / lake.manifest_key(GOOD), home / lake.MANIFESTS / "backup.json")
    shutil.copy(home / lake.manifest_key(GOOD), home / lake.MANIFESTS / "ffff000000000009.json")
    count = ["query", "SELECT count(*) AS n FROM processed", "--format", "json"]
    assert main(["--home", str(home), *count]) == 0
    assert json.loads(capsys.readouterr().out) == {"n": 2}
    assert warnings_about(caplog, "backup.json") and warnings_about(caplog, "ffff000000000009.json")


def test_reported_once_while_the_engine_refreshes(home, caplog):
    plant(home, "0000000000000bad.json", "{not json")
    engine = DuckDBEngine(LocalObjectStore(home))
    try:
        for i in range(3):  # each new commit rebuilds the views and reads manifests/ again
            write_batch(home, f"aaaa00000000000{i}", [reading(f"u{i}", T0)], ingested_at=T0)
            assert engine.query("SELECT count(*) AS n FROM processed").to_pylist() == [{"n": 3 + i}]
    finally:
        engine.close()
    assert len(warnings_about(caplog, "0000000000000bad.json")) == 1


def test_a_batch_with_a_data_file_gone_is_left_out_whole(home, caplog):
    other = write_batch(home, "aaaa000000000001", [reading("cy", T0)], [{"reasons": ["y"]}], ingested_at=T0)
    (home / other.processed_files[0]).unlink()
    engine = DuckDBEngine(LocalObjectStore(home))
    try:
        assert engine.query("SELECT count(*) AS n FROM processed").to_pylist() == [{"n": 2}]
        assert engine.query("SELECT DISTINCT batch_id FROM rejected").to_pylist() == [{"batch_id": GOOD}]
    finally:
        engine.close()
    (message,) = warnings_about(caplog, "aaaa000000000001.json")
    assert other.processed_files[0] in message


def test_read_manifest_treats_a_corrupt_file_as_absent(home, caplog):
    plant(home, "0000000000000bad.json", "{")
    assert read_manifest(LocalObjectStore(home), "0000000000000bad") is None
    assert warnings_about(caplog, "0000000000000bad.json")
    assert read_manifest(LocalObjectStore(home), GOOD) is not None


def test_new_runs_and_reruns_are_not_blocked(tmp_path, write_csv, caplog):
    home = tmp_path / "lake"
    for name, content in BAD_FILES.items():
        plant(home, name, content)
    source = write_csv([row(), row(user_id="u-2", spo2="140")])
    batch_id = lake.batch_id_for(lake.sha256_file(source))
    own = plant(home, f"{batch_id}.json", '{"batch_id": "' + batch_id + '", "sta')  # its own, half-written

    runtime = local_runtime(Settings(home=home, chunk_rows=1000))
    outcome = run_file(runtime, source)

    assert outcome.status == "processed" and outcome.rows_processed == 1
    manifest = read_manifest(runtime.store, batch_id)
    assert manifest is not None and manifest.status == "processed"  # the rerun wrote a good one over it
    assert runtime.engine.query("SELECT count(*) AS n FROM processed").to_pylist() == [{"n": 1}]
    assert len(warnings_about(caplog, own)) == 1
    for name in BAD_FILES:
        assert len(warnings_about(caplog, name)) == 1
