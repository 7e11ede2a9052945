"""Every row exactly once and every value exactly right, under real-world CSV (issue: row exactness).

Each case here failed on the earlier validation core: corrupt numbers committed as sentinels, rows
duplicated or lost when the line scanner and pyarrow disagreed, crashes on long fractions, CR-only
files and placeholder dates, broken expectations that passed silently.
"""

from __future__ import annotations

import bz2
import csv
import io
import json
import lzma
import subprocess
import sys
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import REPO, csv_text, outputs, row
from vitalflow.config import Settings
from vitalflow.exceptions import ContractViolation, SuiteError
from vitalflow.models import Manifest
from vitalflow.pipeline import run_file
from vitalflow.runtime import local_runtime
from vitalflow.stages import load_suite

HEADER = "event_time,user_id,heart_rate,spo2,steps,temp_c,systolic_bp,diastolic_bp"


def reasons_by_line(rejected: list[dict]) -> dict[int, list[str]]:
    return {r["source_line"]: r["reasons"] for r in rejected}


UNSTORABLE = [
    ({"heart_rate": "٧٢"}, "heart_rate:not_a_number"),  # Arabic-Indic digits
    ({"heart_rate": "７２"}, "heart_rate:not_a_number"),  # full-width digits
    ({"temp_c": "３６.６"}, "temp_c:not_a_number"),
    ({"spo2": "9８"}, "spo2:not_a_number"),
    ({"steps": "1e2"}, "steps:not_a_number"),
    ({"temp_c": "inf"}, "temp_c:not_a_number"),
    ({"temp_c": "nan"}, "temp_c:not_a_number"),
    ({"heart_rate": "0x48"}, "heart_rate:not_a_number"),
    ({"heart_rate": "72.0000001"}, "heart_rate:not_a_whole_number"),
    ({"heart_rate": "99999999999999999999"}, "heart_rate:out_of_range"),
    ({"event_time": "2026-11-20T24:00:00Z"}, "event_time:invalid_timestamp"),
    ({"event_time": "2016-12-31T23:59:60Z"}, "event_time:invalid_timestamp"),
    ({"event_time": "2026-11-20T08:00:00+19:00"}, "event_time:invalid_timestamp"),
    ({"event_time": "٢٠٢٦-11-20T08:00:00Z"}, "event_time:invalid_timestamp"),
    ({"event_time": "0001-01-01T00:00:00Z"}, "event_time:out_of_range"),
    ({"event_time": "9999-12-31T23:59:59Z"}, "event_time:out_of_range"),
    ({"event_time": "1999-12-31T23:59:59Z"}, "event_time:out_of_range"),
]


def test_values_the_parser_cannot_store_exactly_are_rejected(runtime, write_csv):
    cases = UNSTORABLE
    """Every case in one batch, after one good row (a rejected row claims no key)."""
    rows = [row()] + [row(user_id=f"u-{i}", **changes) for i, (changes, _) in enumerate(cases)]
    outcome = run_file(runtime, write_csv(rows))
    assert outcome.status == "processed", outcome.error
    processed, rejected = outputs(runtime, outcome.batch_id)
    assert [r["source_line"] for r in processed] == [2]
    assert reasons_by_line(rejected) == {line: [reason] for line, (_, reason) in enumerate(cases, start=3)}
    assert processed[0]["heart_rate"] == 72 and processed[0]["temp_c"] == 36.7


def test_readings_dated_more_than_a_day_after_upload_are_rejected(runtime, write_csv):
    now = datetime.now(timezone.utc)
    soon = (now + timedelta(hours=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
    late = (now + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    outcome = run_file(runtime, write_csv([row(event_time=soon), row(user_id="u-2", event_time=late)]))
    processed, rejected = outputs(runtime, outcome.batch_id)
    assert [r["source_line"] for r in processed] == [2]
    assert reasons_by_line(rejected) == {3: ["event_time:out_of_range"]}


STORED_TIMES = [
    ("2026-11-20T08:00:00.1234567Z", datetime(2026, 11, 20, 8, 0, 0, 123457, timezone.utc)),
    ("2026-11-20T08:00:00.123456789Z", datetime(2026, 11, 20, 8, 0, 0, 123457, timezone.utc)),
    ("2026-11-20T08:00:00.9999996Z", datetime(2026, 11, 20, 8, 0, 1, tzinfo=timezone.utc)),
    ("2026-11-20t08:00:00z", datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)),
    ("2026-11-20 09:30+0130", datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)),
    ("2024-02-29T08:00:00-05", datetime(2024, 2, 29, 13, 0, tzinfo=timezone.utc)),
]


def test_timestamps_are_stored_as_written(runtime, write_csv):
    cases = STORED_TIMES
    rows = [row(user_id=f"u-{i}", event_time=text) for i, (text, _) in enumerate(cases)]
    outcome = run_file(runtime, write_csv(rows))
    processed, rejected = outputs(runtime, outcome.batch_id)
    assert not rejected, rejected
    assert {r["source_line"]: r["event_time"] for r in processed} == {
        line: stored for line, (_, stored) in enumerate(cases, start=2)
    }


def test_same_instant_written_with_two_offsets_is_a_duplicate(runtime, write_csv):
    rows = [row(event_time="2026-11-20T08:00:00Z"), row(event_time="2026-11-20T09:00:00+01:00")]
    outcome = run_file(runtime, write_csv(rows))
    _, rejected = outputs(runtime, outcome.batch_id)
    assert reasons_by_line(rejected) == {3: ["row:duplicate"]}


def reference_records(text: str) -> list[tuple[int, list[str]]]:
    """(first line, fields) per data record, by Python's csv module."""
    reader = csv.reader(io.StringIO(text, newline=""))
    out, line = [], 1
    for record in reader:
        out.append((line, record))
        line = reader.line_num + 1
    return out[1:]


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
def test_messy_file_every_record_exactly_once_with_its_line(runtime, write_csv, ending):
    good = [row(user_id=f"u-{i}") for i in range(6)]
    body = csv_text(good).replace("\n", ending)
    lines = body.split(ending)
    lines.insert(2, '2026-11-20T08:00:00Z,"u-x",72,98,1,36.6,"118\n",76')  # quoted newline: a row
    lines.insert(4, '2026-11-20T08:00:00Z,u-y,7"2,98,1,36.6,118,76')  # stray quote: malformed
    lines.insert(6, "2026-11-20T08:00:00Z,u-z,72")  # too few fields: malformed
    lines.insert(7, "   ")  # blank
    text = ending.join(lines)
    outcome = run_file(runtime, write_csv(text))
    assert outcome.status == "processed", outcome.error
    processed, rejected = outputs(runtime, outcome.batch_id)
    expected = [(line, f) for line, f in reference_records(text) if "".join(f).strip()]
    seen = sorted([r["source_line"] for r in processed] + [r["source_line"] for r in rejected])
    assert seen == [line for line, _ in expected]
    assert outcome.rows_in == len(expected) == outcome.rows_processed + outcome.rows_rejected
    malformed = {r["source_line"]: r["raw_line"] for r in rejected if r["reasons"] == ["row:malformed"]}
    assert set(malformed.values()) == {
        '2026-11-20T08:00:00Z,u-y,7"2,98,1,36.6,118,76',
        "2026-11-20T08:00:00Z,u-z,72",
    }
    quoted = [r for r in processed if r["user_id"] == "u-x"]
    assert len(quoted) == 1 and quoted[0]["systolic_bp"] == 118


def test_header_with_a_quoted_newline(runtime, write_csv):
    text = '"event_time","user_id","heart_rate\n",spo2,steps,temp_c,systolic_bp,diastolic_bp\n'
    text += "2026-11-20T08:00:00Z,u-1,72,98,1,36.6,118,76\n"
    outcome = run_file(runtime, write_csv(text))
    processed, _ = outputs(runtime, outcome.batch_id)
    assert [r["source_line"] for r in processed] == [3]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("bzip2", bz2.compress(csv_text([row()]).encode()), "bzip2"),
        ("xz", lzma.compress(csv_text([row()]).encode()), "xz"),
        ("zstd", b"\x28\xb5\x2f\xfd" + b"\x00" * 32, "zstd"),
        ("utf-32", csv_text([row()]).encode("utf-32"), "UTF-32"),
        ("utf-16-be", b"\xfe\xff" + csv_text([row()]).encode("utf-16-be"), "UTF-16"),
        ("utf-16 no bom", csv_text([row()]).encode("utf-16-le"), "UTF-16"),
    ],
)
def test_file_formats_are_named(runtime, write_csv, name, data, message):
    outcome = run_file(runtime, write_csv(data))
    assert outcome.status == "failed" and message in (outcome.error or ""), outcome.error


def test_zip_archive_is_named(runtime, write_csv, tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("vitals.csv", csv_text([row()]))
    outcome = run_file(runtime, write_csv(buf.getvalue()))
    assert outcome.status == "failed" and "ZIP" in (outcome.error or "")


def edited_suite(tmp_path: Path, edit) -> Path:
    spec = json.loads((REPO / "expectations" / "health_vitals.json").read_text(encoding="utf-8"))
    edit(spec["expectations"])
    path = tmp_path / "suite.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    return path


def _bad_regex(expectations: list[dict]) -> None:
    for e in expectations:
        if e["kwargs"].get("column") == "user_id" and "regex" in e["kwargs"]:
            e["kwargs"]["regex"] = "^[A-Za-z0-9_.\\-{1,64}$"


def _bad_row_condition(expectations: list[dict]) -> None:
    for e in expectations:
        if e["kwargs"].get("column") == "heart_rate__num":
            e["kwargs"]["row_condition"] = "heart_rate.notnaa()"
            e["kwargs"]["condition_parser"] = "pandas"


def _missing_column(expectations: list[dict]) -> None:
    expectations.append(
        {
            "type": "expect_column_values_to_not_be_null",
            "kwargs": {"column": "heartrate"},
            "meta": {"reason": "x"},
        }
    )


@pytest.mark.parametrize("edit", [_bad_regex, _bad_row_condition, _missing_column])
def test_an_expectation_that_cannot_be_evaluated_fails_the_batch(tmp_path, write_csv, edit):
    runtime = local_runtime(Settings(home=tmp_path / "lake", suite_path=edited_suite(tmp_path, edit)))
    with pytest.raises(SuiteError, match="could not be evaluated"):
        run_file(runtime, write_csv([row(), row(user_id="bad id", heart_rate="10")]))
    assert not list((tmp_path / "lake").rglob("*.parquet"))
    assert not list((tmp_path / "lake").glob("manifests/*.json"))


def test_a_suite_looser_than_the_contract_fails_loudly_and_commits_nothing(tmp_path, write_csv):
    def widen(expectations: list[dict]) -> None:
        for e in expectations:
            if e["kwargs"].get("column") == "heart_rate__num":
                e["kwargs"]["max_value"] = 5000

    runtime = local_runtime(Settings(home=tmp_path / "lake", suite_path=edited_suite(tmp_path, widen)))
    with pytest.raises(ContractViolation, match="heart_rate"):
        run_file(runtime, write_csv([row(heart_rate="300")]))
    assert not list((tmp_path / "lake").rglob("*.parquet"))


def test_two_suites_in_one_process_both_validate(tmp_path, write_csv):
    first = load_suite(None)
    second = local_runtime(Settings(home=tmp_path / "b", suite_path=edited_suite(tmp_path, lambda e: None)))
    a = run_file(local_runtime(Settings(home=tmp_path / "a")), write_csv([row()]))
    b = run_file(second, write_csv([row(user_id="u-2")]))
    assert first is load_suite(None)
    assert a.status == b.status == "processed"


def test_placeholder_dates_still_get_an_email(runtime, write_csv):
    rows = [
        row(),
        row(user_id="u-2", event_time="0001-01-01T00:00:00Z"),
        row(event_time="9999-12-31T23:59:59Z"),
    ]
    outcome = run_file(runtime, write_csv(rows))
    assert outcome.status == "processed" and outcome.report, outcome
    assert outcome.rejected_by_reason == {"event_time:out_of_range": 2}


def test_run_goes_on_after_a_file_that_fails(tmp_path, write_csv):
    good = write_csv([row()], name="good.csv")
    bad = write_csv(b"\x1f\x8b\x08\x00", name="bad\nname.csv.gz")
    also = write_csv([row(user_id="u-9")], name="also.csv")
    missing = tmp_path / "in" / "missing.csv"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "vitalflow.cli",
            "--home",
            str(tmp_path / "lake"),
            "run",
            "--json",
            str(good),
            str(bad),
            str(missing),
            str(also),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    results = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["status"] for r in results] == ["processed", "failed", "failed", "processed"]
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "gzip" in results[1]["error"]
    alerts = list((tmp_path / "lake" / "outbox").glob("*.eml"))
    assert len(alerts) == 3  # two reports and the failure alert for the gzip file


def test_many_dates_with_a_low_open_file_limit(tmp_path, write_csv):
    """More distinct months than writers may stay open (16 with 128 files): no crash, one file a month,
    every row counted."""
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    rows = [
        row(
            user_id=f"u-{i % 7}",
            event_time=(start + timedelta(days=i % 600, seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        for i in range(1200)
    ]
    path = write_csv(rows)
    script = (
        "import resource, sys, json; resource.setrlimit(resource.RLIMIT_NOFILE, (128, 128));"
        "from pathlib import Path; from vitalflow import pipeline, stages;"
        "from vitalflow.config import Settings; from vitalflow.runtime import local_runtime;"
        "rt = local_runtime(Settings(home=Path(sys.argv[1]), chunk_rows=100));"
        "m = stages.validate(rt, pipeline.ingest(rt, Path(sys.argv[2]))).manifest;"
        "print(m.model_dump_json())"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "lake"), str(path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    manifest = Manifest.model_validate_json(proc.stdout.splitlines()[-1])
    assert manifest.status == "processed" and manifest.rows_processed == 1200, manifest.error
    assert len(manifest.partitions) == 600
    months = {dt[:7] for dt in manifest.partitions}
    assert len(months) == 20  # one file a month: spilled months are merged, not split
    assert len(manifest.processed_files) == len(months)


def test_a_file_that_outgrows_the_memory_budget_fails_with_a_message(tmp_path, write_csv):
    runtime = local_runtime(Settings(home=tmp_path / "lake", memory_limit_mb=50))
    outcome = run_file(runtime, write_csv([row()]))
    assert outcome.status == "failed"
    assert "VITALFLOW_CHUNK_ROWS" in (outcome.error or "") and "glueetl" in (outcome.error or "")
    # no rows anywhere: the only Parquet is the failed batch's one-row summary (the digest counts failures)
    written = [p.relative_to(tmp_path / "lake").parts[0] for p in (tmp_path / "lake").rglob("*.parquet")]
    assert written == ["summaries"], written


def test_a_field_of_megabytes_is_one_rejected_row(runtime, write_csv):
    """A 4 MB user id must not make the rules allocate by the longest value (it once asked for TiB)."""
    rows = [row(), row(user_id="u" * 4_000_000), row(user_id="u-3", heart_rate="9" * 200), row(user_id="u-4")]
    outcome = run_file(runtime, write_csv(rows))
    assert outcome.status == "processed", outcome.error
    processed, rejected = outputs(runtime, outcome.batch_id)
    assert [r["source_line"] for r in processed] == [2, 5]
    reasons = reasons_by_line(rejected)
    assert "row:field_too_long" in reasons[3] and "row:field_too_long" in reasons[4]
    long_row = next(r for r in rejected if r["source_line"] == 3)
    assert len(long_row["user_id"]) == 4_000_000  # the raw value is kept whole
