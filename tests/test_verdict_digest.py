"""Verdicts are pinned: speed work on the validation path must not change a single row's fate.

The digests were computed with the validation path before it was reworked for speed (narrow
frames, no fingerprinting): every rejected row's line and reasons in order, and every processed
value. A clean file and a dirty one (more than half the rows rejected), at two chunk sizes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from vitalflow import stages
from vitalflow.config import Settings
from vitalflow.generate import GeneratorOptions, generate
from vitalflow.pipeline import ingest
from vitalflow.runtime import local_runtime

PINNED = {
    "clean": ("32759d8fbecf9133", "12fdcc7e0e08db59"),
    "dirty": ("777c3f19e7b42403", "51cc960049ae7b14"),
}
FILES = {
    "clean": GeneratorOptions(rows=20_000, seed=3),
    "dirty": GeneratorOptions(rows=20_000, seed=4, invalid_rate=0.6),
}


def digests(home: Path, source: Path, chunk_rows: int) -> tuple[str, str, int]:
    runtime = local_runtime(Settings(home=home, chunk_rows=chunk_rows))
    manifest = stages.validate(runtime, ingest(runtime, source)).manifest
    assert manifest.status == "processed", manifest.error
    rejected = pq.read_table([home / k for k in manifest.rejected_files]).sort_by("source_line")
    lines = rejected.column("source_line").to_pylist()
    reasons = rejected.column("reasons").to_pylist()
    text = "".join(f"{line}:{'|'.join(r)}\n" for line, r in zip(lines, reasons))
    processed = pq.read_table([home / k for k in manifest.processed_files]).drop(["ingested_at"])
    processed = processed.sort_by("source_line")
    values = "".join(_canonical(processed))
    return (
        hashlib.sha256(text.encode()).hexdigest()[:16],
        hashlib.sha256(values.encode()).hexdigest()[:16],
        manifest.rows_rejected,
    )


def _canonical(table: pa.Table) -> list[str]:
    """Every value as text the same way on every Python and pyarrow version (no reprs)."""
    out = []
    for name in table.column_names:
        column = table.column(name)
        if pa.types.is_timestamp(column.type):
            column = pc.cast(pc.cast(column, pa.timestamp("us")), pa.int64())
        out.append(name + ":" + ",".join(str(v) for v in column.to_pylist()))
    return out


@pytest.mark.parametrize("name", sorted(FILES))
@pytest.mark.parametrize("chunk_rows", [3_000, 7_000])
def test_verdicts_and_values_are_pinned(tmp_path: Path, name: str, chunk_rows: int) -> None:
    source = generate(FILES[name], tmp_path / f"{name}.csv")
    rejected, processed, count = digests(tmp_path / "lake", source, chunk_rows)
    if name == "dirty":
        assert count > 10_000  # more than half the rows rejected
    assert (rejected, processed) == PINNED[name]
