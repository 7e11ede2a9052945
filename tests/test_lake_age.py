"""A report costs the same on the lake's first day and after a year of batches (issue 10, item 1).

The report reads its own batch and the one-row summaries that earlier reports stored, never the
earlier batches' readings; the history looks back a day first and further only on a quiet lake.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
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
    # A report reads its batch's files and the summaries, never the Iceberg tables: hundreds of
    # snapshots there would only slow the test down
    reasons = [{"reasons": ["spo2:missing"]}]
    return write_batch(root, f"{n:016x}", rows, reasons, ingested_at=at, in_tables=False)


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


def test_the_athena_scan_cutoff_leaves_headroom_for_the_largest_batch(tmp_path):
    """The workgroup cancels (and bills) any query past its cutoff: the report's largest query for
    the largest batch the Python shell job takes (~20M rows, README) must stay far below it."""
    import re

    from conftest import REPO
    from vitalflow.config import Settings
    from vitalflow.generate import GeneratorOptions, generate
    from vitalflow.pipeline import run_file
    from vitalflow.runtime import local_runtime

    rows = 20_000
    source = generate(GeneratorOptions(rows=rows, seed=4), tmp_path / "batch.csv")
    home = tmp_path / "lake"
    outcome = run_file(local_runtime(Settings(home=home)), source)
    assert outcome.status == "processed", outcome.error
    (manifest,) = [Manifest.model_validate_json(p.read_bytes()) for p in (home / "manifests").glob("*.json")]
    engine = DuckDBEngine(LocalObjectStore(home))
    build_report(manifest, engine)  # warm-up
    scoped = engine.for_report(manifest, manifest.started_at.date() - timedelta(days=HISTORY_DAYS))
    original, per_query = scoped.query, []

    def measured(sql, params=None):
        before = bytes_read()
        try:
            return original(sql, params)
        finally:
            per_query.append(bytes_read() - before)

    scoped.query = measured  # type: ignore[method-assign]
    engine.for_report = lambda *_: scoped  # type: ignore[method-assign]
    build_report(manifest, engine)
    per_row = max(per_query) / rows  # footers included: generous for a batch this small
    variables = (REPO / "terraform" / "variables.tf").read_text()
    block = variables.split('variable "athena_bytes_scanned_cutoff"', 1)[1].split("}", 1)[0]
    cutoff = int(re.search(r"default\s*=\s*(\d+)", block).group(1))
    largest = 20_000_000 * per_row
    assert cutoff >= 10 * largest, (
        f"{per_row:.1f} bytes a row: {largest / 2**30:.2f} GiB vs {cutoff / 2**30} GiB"
    )


def test_nulls_as_athena_returns_them_through_pandas_are_stored_as_nulls(tmp_path):
    """Athena's results arrive as a pandas frame: NULL counts and times are NaN, NaT or NA there."""
    import pandas as pd
    import pyarrow as pa

    from vitalflow.aggregate import summarize

    manifest = batch(tmp_path, 5, START, readings=3)

    class AthenaLike:
        def for_report(self, manifest, since):
            return self

        def query(self, sql, params=None):
            frame = pd.DataFrame(
                {
                    "batch_id": [manifest.batch_id],
                    "ingested_at": [pd.Timestamp(START).tz_localize(None)],
                    "readings": [0],
                    "users": pd.array([pd.NA], dtype="Int64"),
                    "first_event": [pd.NaT],
                    "last_event": [pd.NaT],
                    "anomaly_readings": [0],
                    "rejected": [4],
                    "reject_rate": [float("nan")],
                }
            )
            return pa.Table.from_pandas(frame, preserve_index=False)

    store = LocalObjectStore(tmp_path)
    summarize(manifest, AthenaLike(), store)
    (row,) = pq.read_table(
        tmp_path / lake.summary_key(START.date().isoformat(), manifest.batch_id)
    ).to_pylist()
    assert row["first_event"] is None and row["reject_rate"] is None and row["users"] == 0
    assert row["ingested_at"] == START and row["rejected"] == 4


def test_summaries_from_before_a_column_was_added_still_load(tmp_path):
    """A summary written before ``source`` and the digest's columns existed (no version in its name) is
    read by column name beside the current ones, its missing columns NULL."""
    current = batch(tmp_path, 1, START)
    old_key = lake.summary_key(START.date().isoformat(), "00000000000000aa", version="")
    (tmp_path / old_key).parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"batch_id": ["00000000000000aa"], "readings": [7]}), tmp_path / old_key)
    rows = (
        DuckDBEngine(LocalObjectStore(tmp_path))
        .query("SELECT batch_id, readings, source FROM batch_summaries ORDER BY batch_id")
        .to_pylist()
    )
    assert rows == [
        {"batch_id": current.batch_id, "readings": 40, "source": current.source.name},
        {"batch_id": "00000000000000aa", "readings": 7, "source": None},
    ]
