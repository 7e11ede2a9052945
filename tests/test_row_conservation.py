"""Property: whatever the CSV looks like, processed + rejected == rows in, and every line lands once."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vitalflow.config import Settings
from vitalflow.contract import REQUIRED_COLUMNS
from vitalflow.pipeline import run_file
from vitalflow.runtime import local_runtime

GOOD = ["2026-11-20T08:00:00Z", "u1", "72", "98", "100", "36.6", "120", "80"]
field_text = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "72",
            "72.5",
            "-3",
            "999",
            "abc",
            "2026-11-20T08:00:00Z",
            "2026-02-30T00:00:00Z",
            "u1",
            "u 1",
            "NaN",
            "<script>",
            '=HYPERLINK("x")',
            "1e3",
            "36.6",
            "\u00e9t\u00e9",
        ]
    ),
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters='\x00\r\n"'), max_size=12
    ),
)


@st.composite
def messy_csv(draw) -> tuple[str, int]:
    """A CSV with random values, field counts, blank lines, quoting and line endings; and its row count."""
    lines = []
    rows = 0
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    for _ in range(draw(st.integers(1, 40))):
        kind = draw(
            st.sampled_from(["good", "mutated", "mutated", "short", "long", "blank", "quoted", "dup"])
        )
        if kind == "blank":
            lines.append("")
            continue
        rows += 1
        fields = list(GOOD)
        if kind in ("mutated", "quoted"):
            for i in draw(st.lists(st.integers(0, 7), max_size=4)):
                fields[i] = draw(field_text)
        if kind == "short":
            fields = fields[: draw(st.integers(1, 7))]
        if kind == "long":
            fields.append(draw(field_text))
        if kind == "dup" and lines:
            lines.append(lines[-1] if lines[-1] else ",".join(GOOD))
            continue
        if kind == "quoted" or any("," in f for f in fields):
            fields = ['"' + f.replace('"', '""') + '"' for f in fields]
        line = ",".join(fields)
        if not line.strip(" \t"):
            line = ",".join(GOOD)  # a whitespace-only line is blank, not a row
        lines.append(line)
    bom = draw(st.sampled_from(["", "\ufeff"]))
    return bom + ",".join(REQUIRED_COLUMNS) + eol + eol.join(lines) + eol, rows


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(messy_csv(), st.sampled_from([3, 1000]))  # the record parser's own property test goes further
def test_every_row_lands_exactly_once(data, chunk_rows):
    text, rows = data
    home = Path(tempfile.mkdtemp())
    try:
        runtime = local_runtime(Settings(home=home / "lake", chunk_rows=chunk_rows))
        source = home / "messy.csv"
        source.write_bytes(text.encode("utf-8"))  # as written: no newline translation (3.9 has no newline=)
        outcome = run_file(runtime, source)
        if rows == 0:  # a header and blank lines: a failed batch that says so, and writes nothing
            assert outcome.status == "failed" and "no data rows" in (outcome.error or "")
            assert not list((home / "lake" / "processed").rglob("*.parquet"))
            return
        assert outcome.status == "processed", outcome.error
        assert outcome.rows_in == rows
        assert outcome.rows_processed + outcome.rows_rejected == rows
        from conftest import outputs

        processed, rejected = outputs(runtime, outcome.batch_id)
        lines = [r["source_line"] for r in processed] + [r["source_line"] for r in rejected]
        assert len(lines) == rows and len(set(lines)) == rows
        physical = text.lstrip("\ufeff").replace("\r\n", "\n").split("\n")
        data_lines = [i + 1 for i, line in enumerate(physical) if i > 0 and line.strip(" \t")]
        assert sorted(lines) == data_lines
        assert all(r["reasons"] for r in rejected)
    finally:
        shutil.rmtree(home, ignore_errors=True)
