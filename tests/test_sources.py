"""Every batch has a source (the uploader's feed): from the file name, ``--source``, or
``raw/<source>/`` on AWS; it reaches the manifest, batch_commits and batch_summaries (issue 21)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import csv_text, row
from vitalflow import sources
from vitalflow.exceptions import BadSourceName
from vitalflow.glue_job import parse
from vitalflow.manifests import read_manifest
from vitalflow.models import SourceRef
from vitalflow.pipeline import run_file


@pytest.mark.parametrize(
    ("name", "source"),
    [
        ("clinic-a-2026-11-22.csv", "clinic-a"),
        ("clinic-a_20261122.csv", "clinic-a"),
        ("clinic-a.2026.11.22.CSV", "clinic-a"),
        ("clinic-a-2026-11-22.csv.gz", "clinic-a"),
        ("clinic-a.csv", "clinic-a"),
        ("Ward 7 export 2026-11-22 .csv", "Ward 7 export"),
        ("clinic-2026-b.csv", "clinic-2026-b"),  # a date only counts at the end
        ("clinic-a-2026-11-22", "clinic-a"),  # no extension
        ("2026-11-22.csv", sources.UNKNOWN),
        ("dir/sub/clinic-c-20261122.csv", "clinic-c"),
        ("<img src=x onerror=alert(1)>-2026-11-22.csv", "<img src=x onerror=alert(1)>"),  # pages escape
        ("bad\nname\u2028-2026-11-22.csv", "bad name"),  # nothing that breaks a line
        ("x" * 200 + ".csv", "x" * sources.MAX_LENGTH),
    ],
)
def test_source_from_file_name(name, source):
    assert sources.from_file_name(name) == source


@pytest.mark.parametrize(
    ("key", "source"),
    [
        ("raw/clinic-b/upload-2026-11-22.csv", "clinic-b"),  # the prefix wins over the name
        ("raw/clinic-b/2026/11/upload.csv", "clinic-b"),
        ("raw/clinic-a-2026-11-22.csv", "clinic-a"),  # no prefix: the name
        ("raw/2026-11-22/clinic-a-2026-11-22.csv", "clinic-a"),  # a date folder is no feed (local lake)
        ("raw/20261122/clinic-a.csv", "clinic-a"),
    ],
)
def test_source_from_key(key, source):
    assert sources.from_key(key) == source


def test_given_source_names_are_checked():
    assert sources.given("  clinic-z ") == "clinic-z"
    for bad in ("", "   ", "a\nb", "x" * (sources.MAX_LENGTH + 1)):
        with pytest.raises(BadSourceName):
            sources.given(bad)


def test_manifests_without_a_source_get_the_keys():
    """Manifests written before sources existed still load, with the source their key implies."""
    old = SourceRef.model_validate_json(json.dumps({"key": "raw/2026-11-22/clinic-q-20261122.csv"}))
    assert old.name == "clinic-q"
    assert SourceRef(key="raw/x.csv", name="given").name == "given"


def test_glue_job_takes_the_source_from_the_key_prefix():
    source, _ = parse({"source_bucket": "b", "source_key": "raw/clinic-b/feed-2026-11-22.csv"})
    assert source.name == "clinic-b"


def test_source_reaches_manifest_commits_and_summaries(runtime, write_csv):
    named = run_file(runtime, write_csv([row()], name="clinic-a-2026-11-22.csv"))
    second = write_csv([row(user_id="u-2")], name="clinic-a-2026-11-23.csv")
    forced = run_file(runtime, second, source="ward-9")
    for outcome, source in ((named, "clinic-a"), (forced, "ward-9")):
        manifest = read_manifest(runtime.store, outcome.batch_id)
        assert manifest is not None and manifest.source.name == source
    commits = runtime.engine.query("SELECT batch_id, source FROM batch_commits ORDER BY source").to_pylist()
    assert commits == [
        {"batch_id": named.batch_id, "source": "clinic-a"},
        {"batch_id": forced.batch_id, "source": "ward-9"},
    ]
    summaries = runtime.engine.query("SELECT batch_id, source FROM batch_summaries ORDER BY source")
    assert summaries.to_pylist() == commits


def test_run_source_option(tmp_path):
    good = tmp_path / "clinic-a-2026-11-22.csv"
    good.write_text(csv_text([row()]))
    home = tmp_path / "lake"
    cli = [sys.executable, "-m", "vitalflow.cli", "--home", str(home), "run", "--json"]
    bad = subprocess.run([*cli, "--source", "a\tb", str(good)], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stderr.startswith("error: --source") and "Traceback" not in bad.stderr
    assert not (home / "manifests").exists()  # refused before any work
    ok = subprocess.run([*cli, "--source", "ward-9", str(good)], capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stderr
    batch_id = json.loads(ok.stdout)["batch_id"]
    manifest = json.loads((home / "manifests" / f"{batch_id}.json").read_text())
    assert manifest["source"]["name"] == "ward-9"
