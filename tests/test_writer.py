"""The partitioned Parquet writer (``validate/writer.py``): one file per date, bounded open files."""

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


def test_rows_go_to_their_dates_file_named_by_batch(tmp_path: Path) -> None:
    out = PartitionedWriter(tmp_path, "processed", SCHEMA, "b1")
    out.write(
        table(0, 4), np.array(["2026-01-02", "2026-01-01", "2026-01-02", "2026-01-01"], "datetime64[D]")
    )
    out.write(table(4, 2), "2026-01-03")  # one label for every row
    files = out.close()
    assert [(f.key, f.dt, f.rows) for f in files] == [
        ("processed/dt=2026-01-01/b1.parquet", "2026-01-01", 2),
        ("processed/dt=2026-01-02/b1.parquet", "2026-01-02", 2),
        ("processed/dt=2026-01-03/b1.parquet", "2026-01-03", 2),
    ]
    assert [pq.read_table(f.path, partitioning=None).column("n").to_pylist() for f in files] == [
        [1, 3],
        [0, 2],
        [4, 5],
    ]


def test_spilled_dates_keep_file_order_within_a_date(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The writer's spill merge: runs of several row groups, dates interleaved, order kept per date."""
    monkeypatch.setattr(writer_module, "open_file_budget", lambda: 2)
    monkeypatch.setattr(writer_module._Spill, "ROWS", 3)
    out = PartitionedWriter(tmp_path, "processed", SCHEMA, "b")
    for chunk in range(4):
        days = np.array([f"2026-01-{1 + (i * 7 + chunk) % 9:02d}" for i in range(20)])
        out.write(table(chunk * 20, 20), days)
    files = out.close()
    assert len({f.dt for f in files}) == 9 and len(files) == 9  # one file a date, open or spilled
    rows = [pq.read_table(f.path, partitioning=None).column("n").to_pylist() for f in files]
    assert sorted(v for r in rows for v in r) == list(range(80))
    assert all(r == sorted(r) for r in rows)
    assert not list(tmp_path.glob(".spill-*"))


def test_abort_leaves_no_spill(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writer_module, "open_file_budget", lambda: 1)
    out = PartitionedWriter(tmp_path, "processed", SCHEMA, "b")
    out.write(table(0, 2), np.array(["2026-01-01", "2026-01-02"], "datetime64[D]"))
    assert list(tmp_path.glob(".spill-*"))
    out.abort()
    assert not list(tmp_path.glob(".spill-*"))


def test_open_files_stay_under_a_low_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    import resource

    monkeypatch.setattr(resource, "getrlimit", lambda _: (128, 128))
    assert writer_module.open_file_budget() == 16  # (128 - 64) / 4: room for the rest of the job
    monkeypatch.setattr(resource, "getrlimit", lambda _: (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    assert writer_module.open_file_budget() == writer_module.MAX_OPEN_WRITERS
