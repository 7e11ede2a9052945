"""Files that cannot be processed as a whole end as a failed batch with a message, and write no rows."""

from __future__ import annotations

import gzip

import pytest

from conftest import csv_text, row
from vitalflow.manifests import read_manifest
from vitalflow.pipeline import run_file

HEADER = "event_time,user_id,heart_rate,spo2,steps,temp_c,systolic_bp,diastolic_bp\n"

CASES = [
    ("empty", b"", "empty"),
    ("header only", HEADER.encode(), "no data rows"),
    ("header and blank lines", (HEADER + "\n\n").encode(), "no data rows"),
    ("binary", b"\x00\x01\x02garbage\x00", "binary"),
    ("gzip", gzip.compress(csv_text([row()]).encode()), "gzip"),
    ("utf-16", csv_text([row()]).encode("utf-16"), "UTF-16"),
    ("latin-1", (HEADER + "2026-11-20T08:00:00Z,J\xf6rg,70,98,1,36.6,120,80\n").encode("latin-1"), "line 2"),
    ("missing columns", b"event_time,user_id,heart_rate\n2026-11-20T08:00:00Z,u1,70\n", "spo2"),
    ("semicolons", HEADER.replace(",", ";").encode() + b"2026;u1;70;98;1;36.6;120;80\n", "comma"),
    ("no header", b"2026-11-20T08:00:00Z,u1,70,98,1,36.6,120,80\n", "header"),
    ("json", b'{"event_time": "2026-11-20"}\n', "missing required column"),
    ("duplicate column", (HEADER.strip() + ",spo2\n").encode() + b"a,b,1,2,3,4,5,6,7\n", "twice"),
]


@pytest.mark.parametrize(("name", "data", "message"), CASES, ids=[c[0] for c in CASES])
def test_file_level_failure(runtime, write_csv, name, data, message):
    outcome = run_file(runtime, write_csv(data))
    assert outcome.status == "failed"
    assert outcome.error and message.lower() in outcome.error.lower(), outcome.error
    assert "Traceback" not in outcome.error
    manifest = read_manifest(runtime.store, outcome.batch_id)
    assert manifest is not None and manifest.status == "failed" and manifest.error == outcome.error
    assert runtime.home is not None
    assert not list((runtime.home / "processed").rglob("*.parquet"))
    assert not list((runtime.home / "rejected").rglob("*.parquet"))
    assert not any((runtime.home / "_staging").rglob("*.parquet"))


def test_missing_input_path(runtime, tmp_path):
    outcome = run_file(runtime, tmp_path / "nope.csv")
    assert outcome.status == "failed" and "no such file" in (outcome.error or "")


def test_failed_file_fixed_and_resent_is_processed(runtime, write_csv):
    bad = run_file(runtime, write_csv(b"event_time,user_id\nx,y\n", name="clinic.csv"))
    assert bad.status == "failed"
    good = run_file(runtime, write_csv([row()], name="clinic.csv"))
    assert good.status == "processed" and good.rows_processed == 1
