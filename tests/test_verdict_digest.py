"""Verdicts are pinned: speed work on the validation path must not change a single row's fate.

The digests were computed with the validation path before it was reworked for speed (narrow
frames, no fingerprinting): every rejected row's line and reasons in order, and every processed
value. A clean file and a dirty one (more than half the rows rejected), at two chunk sizes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from vitalflow import stages
from vitalflow.config import Settings
from vitalflow.generate import GeneratorOptions, generate
from vitalflow.pipeline import ingest
from vitalflow.runtime import local_runtime

PINNED = {
    "clean": ("32759d8fbecf9133", "289901f477750260"),
    "dirty": ("777c3f19e7b42403", "817b7aa1ad8a5375"),
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
    values = "".join(repr(row) for row in processed.to_pylist())
    return (
        hashlib.sha256(text.encode()).hexdigest()[:16],
        hashlib.sha256(values.encode()).hexdigest()[:16],
        manifest.rows_rejected,
    )


@pytest.mark.parametrize("name", sorted(FILES))
@pytest.mark.parametrize("chunk_rows", [3_000, 7_000])
def test_verdicts_and_values_are_pinned(tmp_path: Path, name: str, chunk_rows: int) -> None:
    source = generate(FILES[name], tmp_path / f"{name}.csv")
    rejected, processed, count = digests(tmp_path / "lake", source, chunk_rows)
    if name == "dirty":
        assert count > 10_000  # more than half the rows rejected
    assert (rejected, processed) == PINNED[name]
