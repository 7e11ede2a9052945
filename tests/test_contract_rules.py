"""The dataset contract, rule by rule: what is rejected (and why), and what must pass."""

from __future__ import annotations

from datetime import datetime, timezone

import pyarrow.parquet as pq
import pytest

from conftest import outputs, row
from vitalflow.pipeline import run_file

REJECTED = [
    # (field changes, expected reason)
    ({"heart_rate": ""}, "heart_rate:missing"),
    ({"user_id": "   "}, "user_id:missing"),
    ({"event_time": ""}, "event_time:missing"),
    ({"event_time": "20/11/2026 08:00"}, "event_time:invalid_timestamp"),
    ({"event_time": "yesterday"}, "event_time:invalid_timestamp"),
    ({"event_time": "2026-02-30T08:00:00Z"}, "event_time:invalid_timestamp"),
    ({"event_time": "2026-11-20T25:00:00Z"}, "event_time:invalid_timestamp"),
    ({"user_id": "user 17"}, "user_id:invalid_format"),
    ({"user_id": "x" * 65}, "user_id:invalid_format"),
    ({"user_id": "<script>"}, "user_id:invalid_format"),
    ({"heart_rate": "abc"}, "heart_rate:not_a_number"),
    ({"heart_rate": "72.5"}, "heart_rate:not_a_whole_number"),
    ({"heart_rate": "19"}, "heart_rate:out_of_range"),
    ({"heart_rate": "251"}, "heart_rate:out_of_range"),
    ({"spo2": "49"}, "spo2:out_of_range"),
    ({"spo2": "101"}, "spo2:out_of_range"),
    ({"steps": "-1"}, "steps:out_of_range"),
    ({"steps": "100001"}, "steps:out_of_range"),
    ({"steps": "1e3"}, "steps:not_a_number"),
    ({"temp_c": "29.9"}, "temp_c:out_of_range"),
    ({"temp_c": "45.1"}, "temp_c:out_of_range"),
    ({"temp_c": "n/a"}, "temp_c:not_a_number"),
    ({"systolic_bp": "49"}, "systolic_bp:out_of_range"),
    ({"systolic_bp": "261"}, "systolic_bp:out_of_range"),
    ({"diastolic_bp": "29"}, "diastolic_bp:out_of_range"),
    ({"diastolic_bp": "161"}, "diastolic_bp:out_of_range"),
    ({"diastolic_bp": "118"}, "diastolic_bp:not_below_systolic"),
    ({"systolic_bp": "80", "diastolic_bp": "90"}, "diastolic_bp:not_below_systolic"),
]

ACCEPTED = [
    {"spo2": "85"},  # clinically abnormal, physically possible: flagged later, never rejected
    {"heart_rate": "172"},
    {"temp_c": "39.4"},
    {"systolic_bp": "168", "diastolic_bp": "95"},
    {
        "heart_rate": "20",
        "spo2": "50",
        "steps": "0",
        "temp_c": "30.0",
        "systolic_bp": "50",
        "diastolic_bp": "30",
    },
    {
        "heart_rate": "250",
        "spo2": "100",
        "steps": "100000",
        "temp_c": "45",
        "systolic_bp": "260",
        "diastolic_bp": "160",
    },
    {"heart_rate": "72.0"},
    {"heart_rate": " 72 "},
    {"user_id": "A.b_c-9"},
    {"user_id": "x" * 64},
    {"event_time": "2026-11-20 08:00:00"},
    {"event_time": "2026-11-20T08:00"},
    {"event_time": "2026-11-20T09:30:00+01:30"},
    {"event_time": "2026-11-20T08:00:00.123456Z"},
]


def test_rejected_with_reason(runtime, write_csv):
    """Every case in one batch (a rejected row claims no key, so cases cannot interfere)."""
    rows = [row(user_id="ok-1")]
    rows += [row(**{"user_id": f"u-{i}", **changes}) for i, (changes, _) in enumerate(REJECTED)]
    outcome = run_file(runtime, write_csv(rows))
    assert outcome.status == "processed"
    assert (outcome.rows_in, outcome.rows_processed, outcome.rows_rejected) == (len(rows), 1, len(REJECTED))
    processed, rejected = outputs(runtime, outcome.batch_id)
    assert [r["source_line"] for r in processed] == [2]
    by_line = {r["source_line"]: r for r in rejected}
    wrong = []
    for line, (changes, reason) in enumerate(REJECTED, start=3):
        bad = by_line[line]
        kept = all(bad[name] == (value if value != "" else None) for name, value in changes.items())
        if reason not in bad["reasons"] or not kept:  # the raw text kept exactly as the file had it
            wrong.append((changes, reason, bad["reasons"]))
    assert not wrong, wrong
    assert sum(outcome.rejected_by_reason.values()) >= len(REJECTED)


def test_abnormal_but_possible_is_processed(runtime, write_csv):
    """Every case in one batch, each its own user: none may be rejected."""
    rows = [row(**{"user_id": f"u-{i}", **changes}) for i, changes in enumerate(ACCEPTED)]
    outcome = run_file(runtime, write_csv(rows))
    assert (outcome.rows_processed, outcome.rows_rejected) == (len(ACCEPTED), 0), outcome.rejected_by_reason


def test_all_reasons_listed_for_one_row(runtime, write_csv):
    outcome = run_file(runtime, write_csv([row(heart_rate="", spo2="300", user_id="bad id")]))
    _, (bad,) = outputs(runtime, outcome.batch_id)
    assert set(bad["reasons"]) == {"heart_rate:missing", "spo2:out_of_range", "user_id:invalid_format"}


def test_typed_values_and_partitions(runtime, write_csv):
    rows = [
        row(event_time="2026-11-20T23:30:00-02:00", heart_rate="72.0", temp_c="37.25"),
        row(event_time="2026-11-19T10:00:00", user_id="u-2"),
    ]
    outcome = run_file(runtime, write_csv(rows))
    processed, _ = outputs(runtime, outcome.batch_id)
    by_line = {r["source_line"]: r for r in processed}
    assert by_line[2]["event_time"] == datetime(2026, 11, 21, 1, 30, tzinfo=timezone.utc)  # offset applied
    assert by_line[3]["event_time"] == datetime(
        2026, 11, 19, 10, 0, tzinfo=timezone.utc
    )  # no offset means UTC
    assert by_line[2]["heart_rate"] == 72 and isinstance(by_line[2]["heart_rate"], int)
    assert by_line[2]["temp_c"] == pytest.approx(37.25)
    assert runtime.home is not None
    (stored,) = (runtime.home / "processed").rglob("*.parquet")  # one file: the event month
    assert stored.parent.name == "event_month=2026-11"
    dts = pq.read_table(stored, partitioning=None).column("dt").to_pylist()
    assert sorted(dts) == ["2026-11-19", "2026-11-21"]  # each row's own event date (UTC)


def test_duplicates_keep_the_first_valid_reading(runtime, write_csv):
    rows = [
        row(heart_rate="300"),  # invalid: does not claim the key
        row(heart_rate="70"),  # first valid reading: kept
        row(heart_rate="71", event_time="2026-11-20T08:00:00+00:00"),  # same instant, other spelling
        row(heart_rate="72", user_id="u-other"),  # other user: kept
    ]
    outcome = run_file(runtime, write_csv(rows))
    processed, rejected = outputs(runtime, outcome.batch_id)
    assert sorted(r["heart_rate"] for r in processed) == [70, 72]
    reasons = {r["source_line"]: r["reasons"] for r in rejected}
    assert reasons == {2: ["heart_rate:out_of_range"], 4: ["row:duplicate"]}


def test_duplicates_across_chunks(runtime, write_csv):
    # chunk_rows is 1000 in the fixture; the repeat sits in a later chunk than the original
    rows = [row(user_id=f"u{i}") for i in range(1500)] + [row(user_id="u3")]
    outcome = run_file(runtime, write_csv(rows))
    assert outcome.rejected_by_reason == {"row:duplicate": 1}
    _, (dup,) = outputs(runtime, outcome.batch_id)
    assert dup["source_line"] == 1502


def test_malformed_lines_are_kept_verbatim(runtime, write_csv):
    text = (
        "event_time,user_id,heart_rate,spo2,steps,temp_c,systolic_bp,diastolic_bp\n"
        "2026-11-20T08:00:00Z,u1,70,98,10,36.6,120,80\n"
        "\n"
        "2026-11-20T08:05:00Z,u1,70,98\n"
        "2026-11-20T08:10:00Z,u1,70,98,10,36.6,120,80,surplus\n"
        '"2026-11-20T08:15:00Z","u,2",70,98,10,36.6,120,80\n'
    )
    outcome = run_file(runtime, write_csv(text))
    assert (outcome.rows_in, outcome.rows_processed, outcome.rows_rejected) == (4, 1, 3)
    _, rejected = outputs(runtime, outcome.batch_id)
    by_line = {r["source_line"]: r for r in rejected}
    assert by_line[4]["reasons"] == ["row:malformed"]
    assert by_line[4]["raw_line"] == "2026-11-20T08:05:00Z,u1,70,98"
    assert by_line[5]["raw_line"].endswith(",surplus")
    assert by_line[6]["user_id"] == "u,2" and "user_id:invalid_format" in by_line[6]["reasons"]


def test_extra_columns_ignored_and_reported_any_order(runtime, write_csv):
    text = (
        "Device, DIASTOLIC_BP,systolic_bp,temp_c,steps,spo2,heart_rate,user_id,event_time\n"
        "watch-1,80,120,36.6,10,98,70,u1,2026-11-20T08:00:00Z\n"
    )
    outcome = run_file(runtime, write_csv(text))
    assert (outcome.rows_processed, outcome.rows_rejected) == (1, 0)
    from vitalflow.manifests import read_manifest

    manifest = read_manifest(runtime.store, outcome.batch_id)
    assert manifest is not None and manifest.extra_columns == ["device"]


NUMBER_TEXT = [
    # (field changes, reasons): the rules judge the digits, never what a float rounds them to
    ({"heart_rate": "250.0000000000000001"}, ["heart_rate:not_a_whole_number", "heart_rate:out_of_range"]),
    ({"heart_rate": "19.999999999999999999"}, ["heart_rate:not_a_whole_number", "heart_rate:out_of_range"]),
    ({"heart_rate": "72.00000000000000000001"}, ["heart_rate:not_a_whole_number"]),
    ({"heart_rate": "9" * 40}, ["heart_rate:out_of_range"]),
    ({"spo2": "100.0000000000000000000001"}, ["spo2:not_a_whole_number", "spo2:out_of_range"]),
    ({"steps": "0.000000000000000000000000000001"}, ["steps:not_a_whole_number"]),
    ({"temp_c": "45.00000000000000001"}, ["temp_c:too_precise", "temp_c:out_of_range"]),
    ({"temp_c": "29.99999999999999999999"}, ["temp_c:too_precise", "temp_c:out_of_range"]),
    ({"temp_c": "36.70000000000000001"}, ["temp_c:too_precise"]),
    # exact comparisons between two fields too: 120.00000000000000000001 is above 120
    ({"systolic_bp": "120.00000000000000000001", "diastolic_bp": "120"}, ["systolic_bp:not_a_whole_number"]),
    ({"heart_rate": "0072", "steps": "-0", "temp_c": "36.6000000000000000"}, []),  # the same numbers
    ({"spo2": "100.000000000000000000", "temp_c": "45.0000000000000000000"}, []),  # bounds, zeros after
]


def test_number_text_is_judged_as_written(runtime, write_csv):
    """One batch, one row per case: each row's reasons, and what the accepted rows store."""
    rows = [row(user_id=f"u-{i}", **changes) for i, (changes, _) in enumerate(NUMBER_TEXT)]
    outcome = run_file(runtime, write_csv(rows))
    processed, rejected = outputs(runtime, outcome.batch_id)
    reasons = {r["source_line"]: r["reasons"] for r in rejected}
    assert {line: reasons.get(line, []) for line in range(2, len(rows) + 2)} == {
        line: expected for line, (_, expected) in enumerate(NUMBER_TEXT, start=2)
    }
    stored = {r["source_line"]: r for r in processed}
    assert (stored[12]["heart_rate"], stored[12]["steps"], stored[12]["temp_c"]) == (72, 0, 36.6)
    assert (stored[13]["spo2"], stored[13]["temp_c"]) == (100, 45.0)
