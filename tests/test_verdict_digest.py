"""Verdicts are pinned: work on the validation path must not change a single row's fate.

The digests were computed with the validation path before it was reworked for speed (narrow
frames, no fingerprinting): every rejected row's line and reasons in order, and every processed
value. A clean file and a dirty one (more than half the rows rejected), at two chunk sizes.

A digest says *that* something changed; ``golden/verdicts.txt`` says *what*: each file's rows of
its first GOLDEN_LINES lines (line -> reasons, or line -> stored values) and its count of rows per
reason, so a failure lists the rows that changed. Regenerate it only together with a change of the
pins it explains (``python tests/test_verdict_digest.py``).
"""

from __future__ import annotations

import difflib
import hashlib
import sys
import tempfile
from collections import Counter
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
GOLDEN = Path(__file__).parent / "golden" / "verdicts.txt"
GOLDEN_LINES = 200


def outputs(home: Path, source: Path, chunk_rows: int) -> tuple[pa.Table, pa.Table]:
    """The batch's rejected and processed rows, by source line."""
    runtime = local_runtime(Settings(home=home, chunk_rows=chunk_rows))
    manifest = stages.validate(runtime, ingest(runtime, source)).manifest
    assert manifest.status == "processed", manifest.error
    # dt is a column of the files (Iceberg reads none from paths), the same as the folders say
    rejected = pq.read_table([home / k for k in manifest.rejected_files], partitioning=None)
    rejected = rejected.sort_by("source_line")
    processed = pq.read_table([home / k for k in manifest.processed_files], partitioning=None)
    processed = processed.drop(["ingested_at"])
    return rejected, _plain_times(processed.sort_by("source_line"))


def digests(rejected: pa.Table, processed: pa.Table) -> tuple[str, str]:
    lines, reasons = rejected.column("source_line").to_pylist(), rejected.column("reasons").to_pylist()
    text = "".join(f"{line}:{'|'.join(r)}\n" for line, r in zip(lines, reasons))
    values = "".join(
        name + ":" + ",".join(str(v) for v in processed.column(name).to_pylist())
        for name in processed.column_names
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16], hashlib.sha256(values.encode()).hexdigest()[:16]


def _plain_times(table: pa.Table) -> pa.Table:
    """Timestamps as microseconds: the same text on every Python and pyarrow version (no reprs)."""
    for i, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type):
            table = table.set_column(
                i, field.name, pc.cast(pc.cast(table.column(i), pa.timestamp("us")), pa.int64())
            )
    return table


def golden(name: str, rejected: pa.Table, processed: pa.Table) -> list[str]:
    """The file's golden lines: rows per reason, then every row of its first GOLDEN_LINES lines."""
    counts = Counter(r for reasons in rejected.column("reasons").to_pylist() for r in reasons)
    out = [f"{name} reason {reason}: {n}" for reason, n in sorted(counts.items())]
    rows = {r["source_line"]: "rejected " + "|".join(r["reasons"]) for r in rejected.to_pylist()}
    for row in processed.to_pylist():
        rows[row.pop("source_line")] = "processed " + ",".join(str(v) for v in row.values())
    out += [f"{name} line {line}: {rows[line]}" for line in sorted(rows) if line <= GOLDEN_LINES]
    return out


def golden_file(name: str) -> list[str]:
    return [line for line in GOLDEN.read_text().splitlines() if line.startswith(f"{name} ")]


@pytest.mark.parametrize("name", sorted(FILES))
@pytest.mark.parametrize("chunk_rows", [3_000, 7_000])
def test_verdicts_and_values_are_pinned(tmp_path: Path, name: str, chunk_rows: int) -> None:
    source = generate(FILES[name], tmp_path / f"{name}.csv")
    rejected, processed = outputs(tmp_path / "lake", source, chunk_rows)
    if name == "dirty":
        assert rejected.num_rows > 10_000  # more than half the rows rejected
    expected, found = golden_file(name), golden(name, rejected, processed)
    changed = list(difflib.unified_diff(expected, found, "golden", "now", n=0, lineterm=""))
    assert not changed, "rows that changed:\n" + "\n".join(changed[:60])
    assert digests(rejected, processed) == PINNED[name]


def test_a_changed_row_is_named(tmp_path: Path) -> None:
    """The golden comparison itself: one reason changed on one early line shows that line."""
    rejected = pa.table({"source_line": [5, 9], "reasons": [["a:x"], ["b:y"]]})
    processed = pa.table({"source_line": [2], "heart_rate": [72]})
    before = golden("f", rejected, processed)
    after = golden("f", rejected.set_column(1, "reasons", pa.array([["a:x"], ["b:z"]])), processed)
    changed = [d for d in difflib.unified_diff(before, after, n=0, lineterm="") if d[:1] in "+-"]
    assert "-f line 9: rejected b:y" in changed and "+f line 9: rejected b:z" in changed


if __name__ == "__main__":  # regenerate the golden file (only with a change of the pins it explains)
    lines = []
    with tempfile.TemporaryDirectory() as folder:
        for name in sorted(FILES):
            source = generate(FILES[name], Path(folder) / f"{name}.csv")
            rejected, processed = outputs(Path(folder) / name, source, 7_000)
            print(name, digests(rejected, processed), "pinned", PINNED[name], file=sys.stderr)
            lines += golden(name, rejected, processed)
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text("\n".join(lines) + "\n")
