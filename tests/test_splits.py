"""The split planner: every byte range's first record, found in one pass over the file read in
blocks, is exactly where the single-process parser puts a record, with its line number, so the
records of all splits put together are the whole file's records (rows, malformed text, blank
counts, lines), nothing twice.

Files: the record parser's property-test generator, the csv-spectrum and naughty-strings corpora,
explicit straddling cases, a BOM, a header-only file; split sizes from 1 KiB down to a few bytes,
read in blocks from 8 MiB down to one byte (a range is then scanned in pieces, joined).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_record_parser import HEADER, NAUGHTY, SPECTRUM, WIDTH, messy_file
from vitalflow.validate import records, splits
from vitalflow.validate.reader import data_start, file_opener, iter_chunks, scan_file, scan_stream

SIZES = [1024, 257, 64, 17, 5, 3, 1]
BLOCKS = [8 << 20, 3, 1]  # the stream's block sizes
KEEP = {f"f{i}": i for i in range(WIDTH)}


def records_of(path: Path, start: int, first_line: int, stop: int | None) -> list[tuple]:
    """(line, kind, content) of every record the parser gives between ``start`` and ``stop``."""
    out: list[tuple] = []
    for block in records.iter_blocks(
        path, start=start, first_line=first_line, width=WIDTH, keep=KEEP, block_bytes=16, stop=stop
    ):
        rows = zip(block.lines.tolist(), block.table.to_pylist())
        out.extend((line, "row", tuple(row.values())) for line, row in rows)
        bad = zip(block.malformed_lines.tolist(), block.malformed_text)
        out.extend(("m", line, text) for line, text in bad)
        out.extend([("blank",)] * block.blank)
    return out


def record_starts(path: Path) -> list[int]:
    """Byte offsets where Python's csv module starts a record (header excluded), and the file size."""
    lines = io.StringIO(path.read_bytes().decode("utf-8"), newline="")
    taken: list[int] = []

    def tap():
        for line in lines:
            taken.append(len(line.encode("utf-8")))
            yield line

    offsets, at = [], 0
    for _ in csv.reader(tap()):
        offsets.append(at)
        at += sum(taken)
        taken.clear()
    return [*offsets[1:], at]


def assert_splits_equal_whole(path: Path, sizes: list[int] = SIZES, blocks: list[int] = BLOCKS) -> None:
    _, header_size, header_lines, _ = records.read_header(path, has_bom=False)
    whole = records_of(path, header_size, header_lines + 1, None)
    starts = record_starts(path)
    for size, block in ((size, block) for size in sizes for block in blocks):
        plan = splits.plan_file(path, header_size, header_lines + 1, size, block)
        assert len(plan) == len(range(header_size, path.stat().st_size, size))
        for split, lo in zip(plan, range(header_size, path.stat().st_size, size)):
            where = f"split {split.index} of {size} B, blocks of {block} B"
            assert split.start == min(s for s in starts if s >= lo), where
        assert [s.index for s in plan] == list(range(len(plan)))
        assert all(a.stop == b.start for a, b in zip(plan, plan[1:])), "splits must tile the data"
        if plan:
            assert plan[0].start == header_size and plan[-1].stop == path.stat().st_size
        pieces = [r for s in plan for r in records_of(path, s.start, s.first_line, s.stop)]
        # (a block lists rows, then malformed records, then blanks: compare as multisets)
        assert sorted(pieces, key=repr) == sorted(whole, key=repr), where


def write(tmp_path: Path, text: str, name: str = "f.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=messy_file(), size=st.sampled_from([1024, 64, 13, 4, 1]), block=st.sampled_from([8 << 20, 5, 2, 1])
)
def test_random_messy_files_split_anywhere_give_the_whole_files_records(tmp_path, text, size, block):
    assert_splits_equal_whole(write(tmp_path, text), [size], [block])


@pytest.mark.skipif(not SPECTRUM.exists(), reason="csv-spectrum corpus not present")
def test_csv_spectrum_cases_split_anywhere(tmp_path):
    for case in sorted(SPECTRUM.glob("*.csv")):
        body = case.read_text(encoding="utf-8")
        out = io.StringIO(newline="")
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(HEADER.split(","))
        for row in csv.reader(io.StringIO(body, newline="")):
            writer.writerow((row + [""] * WIDTH)[:WIDTH])
        assert_splits_equal_whole(write(tmp_path, out.getvalue() + body, case.name))


def test_naughty_strings_split_anywhere(tmp_path):
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER.split(","))
    for i, value in enumerate(NAUGHTY):
        writer.writerow(["2026-11-20T08:00:00Z", value, "72", "98", "10", "36.6", "120", str(i)])
        out.write(f'{value},"{value}",x{value}"\n')  # raw too: rows, stray quotes, malformed
    assert_splits_equal_whole(write(tmp_path, out.getvalue()), [1024, 61, 7])


ROW = "2026-11-20T08:00:00Z,u-1,72,98,10,36.6,120,80"


@pytest.mark.parametrize(
    "text",
    [
        # a quoted field with line breaks (LF, CRLF, CR) and commas, straddling every small split
        HEADER + "\n" + ROW + '\n2026-11-20T08:01:00Z,"u\n-\r\n2,\r,x",72,98,10,36.6,120,80\n' + ROW + "\n",
        # CRLF endings: some split falls between CR and LF
        HEADER + "\r\n" + (ROW + "\r\n") * 5,
        # lone CRs, a CR at the very end
        HEADER + "\r" + (ROW + "\r") * 4,
        # a quote never closed: one malformed record to the end, wherever the splits fall
        HEADER + "\n" + ROW + '\n2026,"u-1,72\n' + (ROW + "\n") * 3,
        # escaped quotes and text after a closing quote straddling splits
        HEADER + "\n" + '2026,"a""b""\n""c",72,98,10,36.6,120,80\n' + '"x"y,"z\n' + ROW + "\n",
        # stray quotes inside unquoted fields are data: they open nothing (quote parity would be wrong)
        HEADER + "\n" + '2026,u "1,72,98,10,36.6,120,80\n' + (ROW + "\n") * 2 + 'a"b,"c\n' + ROW + "\n",
        # blank records and no final line break
        HEADER + "\n\n \n" + ROW + "\n\t\n" + ROW,
        # a header with a quoted line break
        '"event_time","user_id","heart\nrate",spo2,steps,temp_c,systolic_bp,diastolic_bp\n' + ROW + "\n",
    ],
    ids=["quoted-breaks", "crlf", "lone-cr", "unclosed", "escaped", "stray", "blank", "quoted-header"],
)
def test_explicit_straddling_cases(tmp_path, text):
    assert_splits_equal_whole(write(tmp_path, text), [*range(1, 40), 1024], [8 << 20, 2, 1])


def test_a_header_only_file_has_no_splits(tmp_path):
    for text in (HEADER, HEADER + "\n", HEADER + "\r\n"):
        path = write(tmp_path, text)
        _, header_size, header_lines, _ = records.read_header(path, has_bom=False)
        assert splits.plan_file(path, header_size, header_lines + 1, 4) == []


def test_a_bom_file_through_the_reader_gives_the_same_chunks(tmp_path):
    """The reader's own chunks (what the engines validate) for a BOM file with CRLF and quotes."""
    text = HEADER + "\r\n" + ROW + '\r\n2026-11-20T08:01:00Z,"u\r\n2",72,98,10,36.6,120,80\r\n' + ROW + "\r\n"
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    scan = scan_file(path)
    whole = [(c.table.to_pylist(), c.lines.tolist()) for c in iter_chunks(path, scan, 2)]
    for size in (1, 3, 9, 50, 1024):
        plan = splits.plan_file(path, data_start(scan), scan.header.lines + 1, size)
        rows, lines = [], []
        for split in plan:
            for chunk in iter_chunks(path, scan, 2, split):
                rows += chunk.table.to_pylist()
                lines += chunk.lines.tolist()
        assert (rows, lines) == ([r for c in whole for r in c[0]], [n for c in whole for n in c[1]])
        assert lines == [2, 3, 5]


def test_the_planner_reads_the_file_once(tmp_path, monkeypatch):
    """One pass, front to back, in blocks: never a range twice, never the file twice."""
    path = write(tmp_path, HEADER + "\n" + (ROW + "\n") * 200)
    reads: list[int] = []
    real_open = Path.open

    def counting_open(self, *args, **kwargs):
        handle = real_open(self, *args, **kwargs)
        real_read = handle.read

        def read(n=-1):
            data = real_read(n)
            reads.append(len(data))
            return data

        handle.read = read
        return handle

    monkeypatch.setattr(Path, "open", counting_open)
    _, header_size, header_lines, _ = records.read_header(path, has_bom=False)
    reads.clear()
    plan = splits.plan_file(path, header_size, header_lines + 1, 1000, block_bytes=512)
    assert len(plan) == -(-(path.stat().st_size - header_size) // 1000)
    assert sum(reads) == path.stat().st_size and max(reads) <= 512


def test_the_hash_pass_cuts_the_same_splits(tmp_path):
    """``scan_stream`` with a split size: the planner's splits, from the pass that hashes the file
    (a BOM, a quoted header, CRLF and quoted line breaks)."""
    text = HEADER + ',"an extra\r\ncolumn"\r\n'
    text += (ROW + ',x\r\n2026-11-20T08:01:00Z,"u\r\n,2",72,98,10,36.6,120,80,"y"\r\n') * 40
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    for size in (1, 7, 64, 1000, 1 << 20):
        scan = scan_stream(file_opener(path), size)
        assert scan.splits == tuple(splits.plan_file(path, data_start(scan), scan.header.lines + 1, size))
        assert scan.splits[0].first_line == 3 and scan.splits[-1].stop == path.stat().st_size
    assert scan_file(path).splits == ()
