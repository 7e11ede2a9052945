"""A report costs the same on the lake's first day and after a year of batches (issue 10, item 1).

The report reads its own batch and the one-row summaries that earlier reports stored, never the
earlier batches' readings; the history looks back a day first and further only on a quiet lake.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from lakefixture import reading, write_batch
from vitalflow import lake
from vitalflow.aggregate import HISTORY_DAYS, build_report
from vitalflow.local.object_store import LocalObjectStore
from vitalflow.local.query_engine import DuckDBEngine
from vitalflow.models import Manifest

START = datetime(2025, 11, 1, 8, tzinfo=timezone.utc)


def bytes_read() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise AssertionError("no rchar in /proc/self/io")


def batch(root: Path, n: int, at: datetime, readings: int = 40) -> Manifest:
    rows = [
        reading(f"u{j}", at + timedelta(minutes=j), spo2=88 if j % 4 == 0 else 97) for j in range(readings)
    ]
    return write_batch(root, f"{n:016x}", rows, [{"reasons": ["spo2:missing"]}], ingested_at=at)


def report_cost(root: Path, manifest: Manifest) -> tuple[int, list[str]]:
    """Bytes a report run reads (after a warm-up run), and the history's batch ids, oldest first."""
    build_report(manifest, DuckDBEngine(LocalObjectStore(root)))
    before = bytes_read()
    report = build_report(manifest, DuckDBEngine(LocalObjectStore(root)))
    return bytes_read() - before, [h.batch_id for h in report.history]


@pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="needs /proc/self/io to count bytes read")
def test_a_report_after_a_year_of_batches_reads_about_what_the_first_one_did(tmp_path):
    first = batch(tmp_path, 1, START)
    first_bytes, first_history = report_cost(tmp_path, first)
    assert first_history == []
    for day in range(2, 366, 2):  # a batch every other day for a year
        batch(tmp_path, day, START + timedelta(days=day))
    last = batch(tmp_path, 10_000, START + timedelta(days=366))
    last_bytes, history = report_cost(tmp_path, last)
    assert history == [f"{d:016x}" for d in range(346, 366, 2)]  # the ten newest, oldest first
    # The history reads summaries (a few dozen tiny objects), never the earlier readings: ~1.6x here.
    assert last_bytes <= 2.5 * first_bytes, (first_bytes, last_bytes)


def test_a_busy_day_reads_that_day_of_summaries_only(tmp_path):
    for n in range(40):  # 40 batches today, and older ones that must not be read
        batch(tmp_path, n, START + timedelta(days=30, minutes=10 * n))
    for n in range(40, 60):
        batch(tmp_path, n, START + timedelta(days=n - 39))
    last = batch(tmp_path, 99, START + timedelta(days=30, hours=12))
    engine = DuckDBEngine(LocalObjectStore(tmp_path))
    seen: list[str] = []
    scoped = engine.for_report(last, last.started_at.date() - timedelta(days=HISTORY_DAYS))
    original = scoped.query

    def spy(sql, params=None):
        seen.append(str((params or {}).get("history_from")))
        return original(sql, params)

    scoped.query = spy  # type: ignore[method-assign]
    engine.for_report = lambda *_: scoped  # type: ignore[method-assign]
    report = build_report(last, engine)
    assert [h.batch_id for h in report.history] == [f"{n:016x}" for n in range(30, 40)]
    history_windows = [s for s in seen if s != "None"]
    assert history_windows == [(START + timedelta(days=29)).date().isoformat()]  # one query, one day


def test_a_quiet_lake_looks_back_up_to_the_history_limit(tmp_path):
    at = START + timedelta(days=200)
    for n, days_before in enumerate((3, 50, 89, 91, 150), start=1):
        batch(tmp_path, n, at - timedelta(days=days_before))
    last = batch(tmp_path, 9, at)
    report = build_report(last, DuckDBEngine(LocalObjectStore(tmp_path)))
    assert [h.batch_id for h in report.history] == [f"{n:016x}" for n in (3, 2, 1)]  # within 90 days


def test_the_summary_is_stored_once_per_batch_and_replays_rewrite_it(tmp_path):
    manifest = batch(tmp_path, 7, START, readings=12)
    store = LocalObjectStore(tmp_path)
    key = lake.summary_key(START.date().isoformat(), manifest.batch_id)
    first = pq.read_table(tmp_path / key).to_pylist()
    build_report(manifest, DuckDBEngine(store), summaries=store)
    build_report(manifest, DuckDBEngine(store), summaries=store)
    assert list((tmp_path / "summaries").rglob("*.parquet")) == [tmp_path / key]
    assert pq.read_table(tmp_path / key).to_pylist() == first
    (row,) = first
    assert (row["readings"], row["rejected"], row["anomaly_readings"], row["users"]) == (12, 1, 3, 12)
    assert row["batch_id"] == manifest.batch_id and row["ingested_at"] == START
