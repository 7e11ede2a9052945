"""The report queries on DuckDB against a hand-written lake, checked against plain-Python arithmetic."""

from __future__ import annotations

import os
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlglot

from lakefixture import reading, write_batch
from vitalflow.aggregate import build_report
from vitalflow.aggregate.queries import SQL_DIR, load_all
from vitalflow.exceptions import TranslationError
from vitalflow.local.object_store import LocalObjectStore
from vitalflow.local.query_engine import DuckDBEngine

T0 = datetime(2026, 11, 20, 22, 15, tzinfo=timezone.utc)
INGEST = datetime(2026, 11, 21, 6, 0, tzinfo=timezone.utc)


def rules_of(r: dict) -> set[str]:
    """The anomaly rules, restated in Python from the issue (not from the SQL)."""
    fired = set()
    if r["spo2"] < 92:
        fired.add("low_spo2")
    if r["heart_rate"] < 60 or r["heart_rate"] > 160:
        fired.add("abnormal_heart_rate")
    if r["temp_c"] > 38.0:
        fired.add("fever")
    if r["systolic_bp"] > 140 or r["diastolic_bp"] > 90:
        fired.add("high_blood_pressure")
    return fired


def batch_rows() -> list[dict]:
    minus2 = timezone(timedelta(hours=-2))
    return [
        reading("ann", T0, spo2=92),  # boundaries: not anomalies
        reading("ann", T0 + timedelta(minutes=5), hr=60, temp=38.0, sys=140, dia=90),
        reading("ann", T0 + timedelta(minutes=10), hr=160),
        reading("ann", T0 + timedelta(minutes=20), spo2=91),  # low spo2
        reading("bob", T0 + timedelta(minutes=30), hr=59, temp=38.1),  # two rules
        reading("bob", T0 + timedelta(minutes=50), hr=161),
        reading("bob", datetime(2026, 11, 20, 23, 30, tzinfo=minus2)),  # 01:30 UTC next day
        reading("cy", T0 + timedelta(hours=2), sys=141),
        reading("cy", T0 + timedelta(hours=2, minutes=1), dia=91),
        reading("dee", T0 + timedelta(hours=3)),
    ]


@pytest.fixture
def lake(tmp_path: Path):
    root = tmp_path / "lake"
    earlier = [reading("old", T0 - timedelta(days=2, hours=h), spo2=85 if h % 2 else 97) for h in range(4)]
    write_batch(root, "aaaa000000000001", earlier, ingested_at=INGEST - timedelta(days=2))
    rejected = [
        {"heart_rate": "999", "reasons": ["heart_rate:out_of_range"]},
        {"user_id": "x y", "spo2": "", "reasons": ["user_id:invalid_format", "spo2:missing"]},
        {"raw_line": "a,b", "reasons": ["row:malformed"]},
    ]
    manifest = write_batch(root, "bbbb000000000002", batch_rows(), rejected, ingested_at=INGEST)
    # a batch whose job died before its manifest: its files must stay invisible
    write_batch(
        root, "cccc000000000003", [reading("ghost", T0, spo2=70)] * 3, ingested_at=INGEST, commit=False
    )
    return root, manifest


def test_every_sql_file_parses_as_athena_and_reports_translate():
    files = sorted(SQL_DIR.rglob("*.sql"))
    assert len(files) >= 9
    for path in files:
        assert sqlglot.parse_one(path.read_text(), read="athena") is not None, path
    queries = load_all()
    for name in (
        "views/readings_flagged",
        "report/batch_summary",
        "report/anomaly_rules",
        "report/top_users",
        "report/hourly_trend",
        "report/reject_reasons",
        "report/batch_history",
    ):
        assert queries[name].duckdb, name
        assert "batch_id" in queries[name].params or name.startswith("views/")


def test_report_matches_python_arithmetic(lake):
    root, manifest = lake
    report = build_report(manifest, DuckDBEngine(LocalObjectStore(root)))
    rows = batch_rows()
    flagged = [rules_of(r) for r in rows]
    anomalies = sum(1 for f in flagged if f)

    ov = report.overview
    assert (ov.rows_processed, ov.rows_rejected, ov.users) == (10, 3, 4)
    assert ov.reject_rate == pytest.approx(3 / 13)
    assert ov.first_event == min(r["event_time"] for r in rows)
    assert (
        ov.last_event
        == max(r["event_time"] for r in rows)
        == datetime(2026, 11, 21, 1, 30, tzinfo=timezone.utc)
    )
    assert report.anomaly_readings == anomalies == 5
    assert report.anomaly_rate == pytest.approx(anomalies / 10)

    for stat in report.rules:
        hits = [r for r, f in zip(rows, flagged) if stat.rule in f]
        assert stat.readings == len(hits), stat
        assert stat.users == len({r["user_id"] for r in hits}), stat
        assert stat.rate == pytest.approx(len(hits) / 10)
    assert [s.rule for s in report.rules] == [
        "low_spo2",
        "abnormal_heart_rate",
        "fever",
        "high_blood_pressure",
    ]
    assert report.rules[0].label == "SpO2 below 92%"

    per_user = Counter(r["user_id"] for r, f in zip(rows, flagged) if f)
    assert [(u.user_id, u.anomalies) for u in report.top_users] == sorted(
        per_user.items(), key=lambda kv: (-kv[1], kv[0])
    )
    bob = next(u for u in report.top_users if u.user_id == "bob")
    assert bob.readings == 3 and bob.rules == {"abnormal_heart_rate": 2, "fever": 1}

    hours = Counter(r["event_time"].astimezone(timezone.utc).replace(minute=0, second=0) for r in rows)
    hour_anoms = Counter(
        r["event_time"].astimezone(timezone.utc).replace(minute=0, second=0)
        for r, f in zip(rows, flagged)
        if f
    )
    assert [(h.hour, h.readings, h.anomalies) for h in report.hourly] == [
        (h, hours[h], hour_anoms[h]) for h in sorted(hours)
    ]
    assert datetime(2026, 11, 21, 1, 0, tzinfo=timezone.utc) in {h.hour for h in report.hourly}

    assert {(r.reason, r.rows) for r in report.reject_reasons} == {
        ("heart_rate:out_of_range", 1),
        ("user_id:invalid_format", 1),
        ("spo2:missing", 1),
        ("row:malformed", 1),
    }

    (old,) = report.history
    assert old.batch_id == "aaaa000000000001" and old.readings == 4
    assert old.anomaly_rate == pytest.approx(0.5)
    assert "ghost" not in {u.user_id for u in report.top_users}


def test_uncommitted_files_are_invisible(lake):
    root, _ = lake
    engine = DuckDBEngine(LocalObjectStore(root))
    assert engine.query("SELECT count(*) AS n FROM processed WHERE user_id = 'ghost'").to_pylist() == [
        {"n": 0}
    ]
    assert engine.query("SELECT count(DISTINCT batch_id) AS n FROM processed").to_pylist() == [{"n": 2}]


def test_session_time_zone_does_not_leak(lake, monkeypatch):
    root, manifest = lake
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        report = build_report(manifest, DuckDBEngine(LocalObjectStore(root)))
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert report.hourly[0].hour == datetime(2026, 11, 20, 22, 0, tzinfo=timezone.utc)
    assert report.overview.first_event == T0


def test_nulls_and_an_empty_lake(tmp_path):
    engine = DuckDBEngine(LocalObjectStore(tmp_path / "empty"))
    assert engine.query("SELECT count(*) AS n, max(spo2) AS m FROM processed").to_pylist() == [
        {"n": 0, "m": None}
    ]
    assert engine.query("SELECT count(*) AS n FROM rejected").to_pylist() == [{"n": 0}]
    params = {
        "batch_id": "x",
        "dt_from": "2026-01-01",
        "dt_to": "2026-01-02",
        "rejected_dt": "2026-01-01",
        "ingested_at": datetime(2026, 1, 2, tzinfo=timezone.utc),
    }
    (row,) = engine.run("report/batch_summary", params).to_pylist()
    assert row["readings"] == 0 and row["reject_rate"] is None and row["first_event"] is None


def test_untranslatable_sql_fails_at_load_time(tmp_path):
    bad = tmp_path / "sql" / "report"
    bad.mkdir(parents=True)
    (bad / "bad.sql").write_text("SELECT reduce(ARRAY[1, 2], 0, (s, x) -> s + x, s -> s * 2) AS total")
    with pytest.raises(TranslationError, match=r"bad\.sql"):
        DuckDBEngine(LocalObjectStore(tmp_path / "lake"), sql_root=tmp_path / "sql")


def test_report_queries_prune_to_the_batch_partitions(lake):
    root, manifest = lake
    engine = DuckDBEngine(LocalObjectStore(root))
    plan = engine.con.sql(
        "EXPLAIN ANALYZE SELECT count(*) FROM processed WHERE dt BETWEEN '2026-11-20' AND '2026-11-21'"
    ).fetchall()[0][1]
    # the earlier batch's rows (other dates of the same month) are skipped by their file's dt statistics
    assert "Row Groups Scanned: 1 / 2" in plan, plan
    assert os.path.exists(root / manifest.processed_files[0])
