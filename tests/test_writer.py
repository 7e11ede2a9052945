"""The partitioned Parquet writer (``validate/writer.py``): a file per month (processed) or day
(rejected), every row with its own date, bounded open files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from vitalflow.validate import writer as writer_module
from vitalflow.validate.writer import PartitionedWriter

SCHEMA = pa.schema([("n", pa.int64())])


def table(start: int, count: int) -> pa.Table:
    return pa.table({"n": np.arange(start, start + count)}, schema=SCHEMA)


def test_processed_rows_go_to_their_months_file_with_their_own_dates(tmp_path: Path) -> None:
    out = PartitionedWriter(tmp_path, "processed", SCHEMA, "b1")
    out.write(
        table(0, 4), np.array(["2026-02-01", "2026-01-31", "2026-02-03", "2026-01-01"], "datetime64[D]")
    )
    out.write(table(4, 2), np.array(["2026-01-31", "2026-03-01"], "datetime64[D]"))
    files = out.close()
    assert [(f.key, f.dt, f.rows, f.dates) for f in files] == [
        ("processed/event_month=2026-01/b1.parquet", "2026-01", 3, ("2026-01-01", "2026-01-31")),
        ("processed/event_month=2026-02/b1.parquet", "2026-02", 2, ("2026-02-01", "2026-02-03")),
        ("processed/event_month=2026-03/b1.parquet", "2026-03", 1, ("2026-03-01",)),
    ]
    read = [pq.read_table(f.path, partitioning=None).to_pydict() for f in files]
    assert [(r["n"], r["dt"]) for r in read] == [
        ([1, 3, 4], ["2026-01-31", "2026-01-01", "2026-01-31"]),
        ([0, 2], ["2026-02-01", "2026-02-03"]),
        ([5], ["2026-03-01"]),
    ]


def test_rejected_rows_go_to_their_ingestion_days_file(tmp_path: Path) -> None:
    out = PartitionedWriter(tmp_path, "rejected", SCHEMA, "b1")
    out.write(table(0, 2), "2026-01-03")  # one date for every row
    out.write(table(2, 1), "2026-01-04")
    files = out.close()
    assert [(f.key, f.dt, f.rows, f.dates) for f in files] == [
        ("rejected/dt=2026-01-03/b1.parquet", "2026-01-03", 2, ("2026-01-03",)),
        ("rejected/dt=2026-01-04/b1.parquet", "2026-01-04", 1, ("2026-01-04",)),
    ]
    assert pq.read_table(files[0].path, partitioning=None).column("dt").to_pylist() == ["2026-01-03"] * 2


def test_spilled_months_keep_file_order_within_a_month(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer's spill merge: runs of several row groups, months interleaved, order kept per month."""
    monkeypatch.setattr(writer_module, "open_file_budget", lambda: 2)
    monkeypatch.setattr(writer_module._Spill, "ROWS", 3)
    out = PartitionedWriter(tmp_path, "processed", SCHEMA, "b")
    for chunk in range(4):
        days = np.array([f"2026-{1 + (i * 7 + chunk) % 9:02d}-{1 + i % 28:02d}" for i in range(20)])
        out.write(table(chunk * 20, 20), days)
    files = out.close()
    assert len({f.dt for f in files}) == 9 and len(files) == 9  # one file a month, open or spilled
    rows = [pq.read_table(f.path, partitioning=None).to_pydict() for f in files]
    assert sorted(v for r in rows for v in r["n"]) == list(range(80))
    assert all(r["n"] == sorted(r["n"]) for r in rows)
    for f, r in zip(files, rows):  # every row's own date, in its month's file
        assert {d[:7] for d in r["dt"]} == {f.dt} and sorted(set(r["dt"])) == list(f.dates)
    assert not list(tmp_path.glob(".spill-*"))


def test_abort_leaves_no_spill(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writer_module, "open_file_budget", lambda: 1)
    out = PartitionedWriter(tmp_path, "processed", SCHEMA, "b")
    out.write(table(0, 2), np.array(["2026-01-01", "2026-02-01"], "datetime64[D]"))
    assert list(tmp_path.glob(".spill-*"))
    out.abort()
    assert not list(tmp_path.glob(".spill-*"))


def test_open_files_stay_under_a_low_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    import resource

    monkeypatch.setattr(resource, "getrlimit", lambda _: (128, 128))
    assert writer_module.open_file_budget() == 16  # (128 - 64) / 4: room for the rest of the job
    monkeypatch.setattr(resource, "getrlimit", lambda _: (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    assert writer_module.open_file_budget() == writer_module.MAX_OPEN_WRITERS
