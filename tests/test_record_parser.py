"""The record parser against Python's csv module: same records, same line numbers, nothing twice or lost.

Random messy files (naughty strings, csv-spectrum cases, quotes, CR, LF and CRLF at random, stray
quotes, wrong field counts, blank lines) are split by ``vitalflow.validate.records`` with small
blocks, so records also straddle block boundaries, and compared record by record with
``csv.reader``. Whether a record is well formed is decided here by an independent RFC 4180 state
machine, not by the parser's own grammar.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vitalflow.validate import records

WIDTH = 8
CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"
NAUGHTY_FILE = CORPORA / "naughty-strings" / "blns.json"
NAUGHTY = (
    [s for s in json.loads(NAUGHTY_FILE.read_text(encoding="utf-8")) if "\x00" not in s][:400]
    if NAUGHTY_FILE.exists()
    else ["<script>alert(1)</script>", "٧٢", "\u202e", "=cmd|' /C calc'!A0"]
)


def rfc_well_formed(body: str) -> bool:
    """RFC 4180 for one record's text (no terminator): quotes only around whole fields, "" inside."""
    state = "start"  # start of field, unquoted, quoted, quote seen inside quoted
    for ch in body:
        if state == "start":
            state = "quoted" if ch == '"' else ("start" if ch == "," else "unquoted")
        elif state == "unquoted":
            if ch == '"':
                return False
            if ch == ",":
                state = "start"
        elif state == "quoted":
            if ch == '"':
                state = "quote"
        elif state == "quote":
            if ch == '"':
                state = "quoted"
            elif ch == ",":
                state = "start"
            else:
                return False
    return state in ("start", "unquoted", "quote")


def reference(text: str) -> list[tuple[int, str, list[str] | None]]:
    """(first line, kind, fields) per record after the header; kind: row, malformed, blank."""
    lines = io.StringIO(text, newline="")
    taken: list[str] = []

    def tap():
        for line in lines:
            taken.append(line)
            yield line

    reader = csv.reader(tap())
    out = []
    line = 1
    first = True
    for record in reader:
        raw = "".join(taken)
        taken.clear()
        body = raw[:-2] if raw.endswith("\r\n") else raw[:-1] if raw.endswith(("\r", "\n")) else raw
        start = line
        line += max(
            1,
            raw.count("\n") + raw.count("\r") - raw.count("\r\n") + (0 if raw.endswith(("\n", "\r")) else 1),
        )
        if first:
            first = False
            continue
        if '"' not in body and not body.strip(" \t"):
            out.append((start, "blank", None))
        elif len(record) == WIDTH and rfc_well_formed(body):
            out.append((start, "row", record))
        else:
            out.append((start, "malformed", [body]))
    return out


def parsed(path: Path, block_bytes: int) -> list[tuple[int, str, list[str] | None]]:
    fields, size, header_lines, _ = records.read_header(path, has_bom=False)
    assert len(fields) == WIDTH
    out: list[tuple[int, str, list[str] | None]] = []
    blank = 0
    for block in records.iter_blocks(
        path,
        start=size,
        first_line=header_lines + 1,
        width=WIDTH,
        keep={f"f{i}": i for i in range(WIDTH)},
        block_bytes=block_bytes,
    ):
        rows = block.table.to_pylist()
        for line, row in zip(block.lines.tolist(), rows):
            out.append((line, "row", [v if v is not None else "" for v in row.values()]))
        for line, text in zip(block.malformed_lines.tolist(), block.malformed_text):
            out.append((line, "malformed", [text]))
        blank += block.blank
    out.sort(key=lambda r: r[0])
    return out, blank  # type: ignore[return-value]


def check(tmp_path: Path, text: str, block_bytes: int = 64) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(text.encode("utf-8"))
    expected = reference(text)
    got, blank = parsed(path, block_bytes)
    assert got == [r for r in expected if r[1] != "blank"]
    assert blank == sum(1 for r in expected if r[1] == "blank")
    lines = [r[0] for r in got]
    assert len(lines) == len(set(lines)), "a record was emitted twice"


HEADER = "event_time,user_id,heart_rate,spo2,steps,temp_c,systolic_bp,diastolic_bp"
plain = st.sampled_from(["72", "98", "", " ", "36.6", "2026-11-20T08:00:00Z", "u-1", "a b", "x\ty"])
naughty = st.sampled_from(NAUGHTY)
noise = st.text(alphabet=st.sampled_from(list('ab,"\r\n \t')), max_size=6)


@st.composite
def field(draw: st.DrawFn) -> str:
    value = draw(st.one_of(plain, naughty, noise))
    style = draw(st.sampled_from(["plain", "quoted", "quoted", "stray"]))
    if style == "quoted":
        return '"' + value.replace('"', '""') + '"'
    if style == "stray" and value:
        at = draw(st.integers(0, len(value)))
        return value[:at] + '"' + value[at:]
    return value


@st.composite
def messy_file(draw: st.DrawFn) -> str:
    out = [HEADER + draw(st.sampled_from(["\n", "\r\n", "\r"]))]
    for _ in range(draw(st.integers(0, 25))):
        kind = draw(st.sampled_from(["row", "row", "row", "short", "long", "blank"]))
        if kind == "blank":
            record = draw(st.sampled_from(["", " ", "\t "]))
        else:
            width = {"row": WIDTH, "short": WIDTH - 2, "long": WIDTH + 1}[kind]
            record = ",".join(draw(field()) for _ in range(width))
        out.append(record + draw(st.sampled_from(["\n", "\r\n", "\r"])))
    text = "".join(out)
    if draw(st.booleans()):
        text = text.rstrip("\r\n")  # no line break at the end
    return text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=messy_file(), block=st.sampled_from([16, 64, 1 << 20]))
def test_random_messy_files_split_like_python_csv(tmp_path: Path, text: str, block: int) -> None:
    check(tmp_path, text, block)


SPECTRUM = CORPORA / "csv-spectrum" / "csvs"


@pytest.mark.skipif(not SPECTRUM.exists(), reason="csv-spectrum corpus not present")
@pytest.mark.parametrize("name", sorted(p.name for p in SPECTRUM.glob("*.csv")) if SPECTRUM.exists() else [])
def test_csv_spectrum_cases_embedded_in_a_vitals_file(tmp_path: Path, name: str) -> None:
    """Each csv-spectrum file's records become fields of vitals rows; the split must match csv."""
    body = (SPECTRUM / name).read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(body, newline="")))
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER.split(","))
    for row in rows:
        writer.writerow((row + [""] * WIDTH)[:WIDTH])
    check(tmp_path, out.getvalue() + body)  # the raw case appended as-is too: malformed or rows


@pytest.mark.parametrize(
    "text",
    [
        HEADER + '\n1,2,3,4,5,6,7,8\n1,2,3,4,"5\n6",6,7,8\n1,2,3,4,5,6,7,8\n',  # quoted newline
        HEADER + "\r1,2,3,4,5,6,7,8\r1,2,3,4,5,6,7,8\r",  # CR only
        HEADER + '\n1,2,3,4,5 "6",6,7,8\n1,2,3,4,5,6,7,8\n',  # stray quote in an unquoted field
        HEADER + '\n1,2,3,4,"5"x,6,7,8\n1,2,3,4,5,6,7,8\n',  # text after a closing quote
        HEADER + '\n1,2,3,4,"5,6,7,8\n1,2,3,4,5,6,7,8\n',  # a quote never closed: one record to the end
        '"event_time","user_id","heart\nrate",spo2,steps,temp_c,systolic_bp,diastolic_bp\n1,2,3,4,5,6,7,8\n',
    ],
)
def test_known_disagreements_between_the_old_scanner_and_pyarrow(tmp_path: Path, text: str) -> None:
    for block in (8, 1 << 20):
        check(tmp_path, text, block)


def test_a_record_over_the_limit_fails_naming_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vitalflow.exceptions import RowTooLong

    monkeypatch.setattr(records, "MAX_RECORD_BYTES", 1000)
    path = tmp_path / "long.csv"
    path.write_text(HEADER + "\n1,2,3,4,5,6,7,8\n" + "9" * 5000 + ",2,3,4,5,6,7,8\n", encoding="utf-8")
    with pytest.raises(RowTooLong, match="line 3"):
        parsed(path, 256)
