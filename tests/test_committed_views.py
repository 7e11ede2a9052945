"""What users query shows committed batches only, on Athena as locally (issue 10, item 4).

A job killed (kill -9) after its Parquet files are in place but before its manifest leaves files
that Athena's tables read (a Hive table reads every file under its prefix); the views users query,
processed, rejected and readings_flagged, must not show them. A kill after the manifest but before
the commit marker leaves a committed batch the views do not show yet; the rerun shows it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from athena_like import athena_like, count
from vitalflow.cli import main
from vitalflow.config import Settings
from vitalflow.generate import GeneratorOptions, generate
from vitalflow.models import Manifest
from vitalflow.pipeline import run_file
from vitalflow.runtime import local_runtime

DRIVER = Path(__file__).parent / "drivers" / "crash_at.py"
USERS_SEE = ("processed", "rejected", "readings_flagged")


def killed_at(tmp_path: Path, point: str) -> tuple[Path, Path]:
    source = tmp_path / "batch.csv"
    generate(GeneratorOptions(rows=2500, seed=11, invalid_rate=0.1), source)
    home = tmp_path / "lake"
    proc = subprocess.run(
        [sys.executable, str(DRIVER), point, str(home), str(source)], capture_output=True, timeout=300
    )
    assert proc.returncode == -9, f"never reached {point}: {proc.stderr.decode()[-1500:]}"
    return home, source


def local_count(home: Path, table: str, capsys: pytest.CaptureFixture[str]) -> int:
    code = main(["--home", str(home), "query", f"SELECT count(*) AS n FROM {table}", "--format", "json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    return int(json.loads(out.out)["n"])


@pytest.mark.slow
def test_a_job_killed_between_files_and_manifest_shows_nothing(tmp_path, capsys):
    home, source = killed_at(tmp_path, "files_published")
    assert list((home / "processed").rglob("*.parquet")), "the kill came before any file was written"
    athena = athena_like(home)
    assert count(athena, "processed_files") > 0  # Athena's table reads the dead run's files ...
    assert count(athena, "rejected_files") > 0
    for view in USERS_SEE:  # ... and what users query does not
        assert count(athena, view) == 0, view
        assert local_count(home, view, capsys) == 0, view

    outcome = run_file(local_runtime(Settings(home=home)), source)
    assert outcome.status == "processed", outcome.error
    (manifest,) = [Manifest.model_validate_json(p.read_bytes()) for p in (home / "manifests").glob("*.json")]
    athena = athena_like(home)
    assert count(athena, "processed") == manifest.rows_processed == local_count(home, "processed", capsys)
    assert count(athena, "rejected") == manifest.rows_rejected == local_count(home, "rejected", capsys)
    assert count(athena, "readings_flagged") == manifest.rows_processed
    assert manifest.rows_processed + manifest.rows_rejected == 2500


@pytest.mark.slow
def test_a_committed_batch_without_its_marker_appears_at_once_on_rerun(tmp_path, capsys):
    home, source = killed_at(tmp_path, "manifest_written")
    assert list((home / "manifests").glob("*.json")) and not list((home / "commits").glob("*"))
    athena = athena_like(home)
    for view in USERS_SEE:
        assert count(athena, view) == 0, view

    outcome = run_file(local_runtime(Settings(home=home)), source)  # the duplicate run marks it visible
    assert outcome.status == "duplicate"
    (manifest,) = [Manifest.model_validate_json(p.read_bytes()) for p in (home / "manifests").glob("*.json")]
    athena = athena_like(home)
    assert count(athena, "processed") == manifest.rows_processed > 0
    assert count(athena, "rejected") == manifest.rows_rejected > 0
    events = [json.loads(line) for line in (home / "events" / "events.jsonl").read_text().splitlines()]
    assert [e["detail"]["replay"] for e in events if e["detail-type"] == "BatchValidated"] == [True]


def test_views_keep_only_batches_with_a_marker(tmp_path):
    """Two batches' files in the lake, one of them committed: the views show exactly that one."""
    from datetime import datetime, timezone

    from lakefixture import reading, write_batch

    at = datetime(2026, 11, 20, 8, tzinfo=timezone.utc)
    write_batch(tmp_path, "aaaa000000000001", [reading("ann", at)], [{"reasons": ["x"]}], ingested_at=at)
    bob = [reading("bob", at)] * 2  # in the Iceberg tables, no manifest nor marker: killed between the two
    write_batch(tmp_path, "bbbb000000000002", bob, [{}], ingested_at=at, commit=False, in_tables=True)
    athena = athena_like(tmp_path)
    assert count(athena, "processed_files") == 3 and count(athena, "rejected_files") == 2
    rows = athena.execute("SELECT batch_id, count(*) FROM readings_flagged GROUP BY 1").fetchall()
    assert rows == [("aaaa000000000001", 1)]
    assert athena.execute("SELECT DISTINCT batch_id FROM rejected").fetchall() == [("aaaa000000000001",)]
