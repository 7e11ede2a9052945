"""Read a vitals CSV safely: scan the bytes once, then stream the rows in bounded chunks.

The scan hashes the file, proves it is UTF-8 text and counts the fields of every line (vectorised
with numpy), before any row is parsed. So a bad file fails as a whole with a message naming the
problem and its line, and every line that cannot become a row (wrong number of fields) is known
by number and byte offset. pyarrow then streams the well-formed rows; the two accounts must agree,
which is what guarantees that no row vanishes between the file and the outputs.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from vitalflow.contract import REQUIRED_COLUMNS
from vitalflow.exceptions import BadEncoding, EmptyFile, MissingColumns, NotCsv

_BLOCK = 8 << 20
_BOM = b"\xef\xbb\xbf"
_NL, _CR, _COMMA, _QUOTE = 10, 13, 44, 34
_MAGIC = {
    b"\x1f\x8b": "gzip-compressed; upload the uncompressed CSV",
    b"PK\x03\x04": "a ZIP archive (or an Excel workbook); export the sheet as CSV (UTF-8)",
    b"PAR1": "a Parquet file; vitalflow takes CSV uploads",
    b"%PDF": "a PDF document, not a CSV",
}


@dataclass(frozen=True)
class Header:
    columns: list[str]  # normalised names (trimmed, lower case), in file order
    extra: list[str]  # columns beyond the contract, ignored and reported


@dataclass(frozen=True)
class FileScan:
    """What one pass over the bytes established about the file."""

    sha256: str
    size: int
    has_bom: bool
    header: Header
    data_lines: int  # lines after the header that hold a row (well-formed or not)
    blank_lines: int  # empty or whitespace-only lines: no row, nothing to reject
    skipped: np.ndarray  # sorted line numbers that pyarrow yields no row for (blank + malformed)
    malformed: np.ndarray  # sorted line numbers whose field count differs from the header's
    malformed_offsets: np.ndarray  # byte offset of each malformed line
    malformed_lengths: np.ndarray

    @property
    def well_formed(self) -> int:
        return self.data_lines - len(self.malformed)


@dataclass
class RawChunk:
    """Rows as the file spelled them (strings, empty -> null), with their physical line numbers."""

    table: pa.Table
    lines: np.ndarray
    malformed_text: list[str] | None = None  # set for chunks of malformed lines (table is all null)


def scan_file(path: Path) -> FileScan:
    """Hash, check encoding, parse the header and count fields per line; raise BatchRejected if unusable."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    with path.open("rb") as fh:
        head = fh.read(4)
        fh.seek(0)
        _check_magic(head)
        has_bom = head.startswith(_BOM)
        header: Header | None = None
        counter: _LineCounter | None = None
        carry = b""
        offset = 0  # file offset of carry[0]
        line_no = 1  # line number of the first line in carry
        while True:
            block = fh.read(_BLOCK)
            if block:
                digest.update(block)
                if b"\x00" in block:
                    at = line_no + (carry + block[: block.index(b"\x00")]).count(b"\n")
                    raise NotCsv(f"the file contains binary data (a NUL byte on line {at}); it is not a CSV")
                try:
                    decoder.decode(block)
                except UnicodeDecodeError as exc:
                    at = line_no + (carry + block[: exc.start]).count(b"\n")
                    raise BadEncoding(
                        f"the file is not valid UTF-8 (byte 0x{block[exc.start]:02x} on line {at}); "
                        "re-export it as UTF-8 CSV"
                    ) from None
            buf = carry + block
            if not block:
                if not buf:
                    break
                if not buf.endswith(b"\n"):
                    buf += b"\n"
            cut = buf.rfind(b"\n") + 1
            complete, carry = buf[:cut], buf[cut:]
            if header is None and complete:
                first_end = complete.index(b"\n") + 1
                header = _parse_header(complete[:first_end])
                counter = _LineCounter(len(header.columns), path)
                start = first_end
            else:
                start = 0
            if counter is not None and len(complete) > start:
                counter.feed(complete, start, offset, line_no + (1 if start else 0))
            line_no += complete.count(b"\n")
            offset += len(complete)
            if not block:
                break
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise BadEncoding(
                "the file ends in the middle of a UTF-8 character; it may be truncated"
            ) from None
    if header is None or counter is None:
        raise EmptyFile("the file is empty (0 bytes)")
    _check_columns(header, counter)
    return counter.result(digest.hexdigest(), offset, has_bom, header)


def _check_magic(head: bytes) -> None:
    if not head:
        raise EmptyFile("the file is empty (0 bytes)")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise BadEncoding("the file is UTF-16 encoded; re-export it as UTF-8 CSV")
    for magic, what in _MAGIC.items():
        if head.startswith(magic):
            raise NotCsv(f"the file is {what}")


def _parse_header(line: bytes) -> Header:
    text = line.decode("utf-8-sig").rstrip("\r\n")
    if not text.strip():
        raise NotCsv("the first line is empty; a header line with the column names is required")
    names = [name.strip().lower() for name in next(csv.reader([text]))]
    seen: set[str] = set()
    for name in names:
        if name in seen and name in REQUIRED_COLUMNS:
            raise MissingColumns(f"column {name!r} appears twice in the header")
        seen.add(name)
    missing = [c for c in REQUIRED_COLUMNS if c not in seen]
    if missing:
        hint = ""
        if len(names) == 1 and any(sep in text for sep in (";", "\t", "|")):
            hint = " The header looks delimited by something other than commas; use comma-separated values."
        elif not seen & set(REQUIRED_COLUMNS):
            hint = " The first line must be the header: " + ",".join(REQUIRED_COLUMNS) + "."
        shown = ", ".join(n[:40] for n in names[:20]) or "none"
        raise MissingColumns(f"missing required column(s): {', '.join(missing)}; found: {shown}.{hint}")
    return Header(columns=names, extra=[n for n in names if n not in REQUIRED_COLUMNS])


def _check_columns(header: Header, counter: _LineCounter) -> None:
    if counter.lines - counter.blank == 0:
        raise EmptyFile("the file has a header but no data rows")


class _LineCounter:
    """Counts fields per line, a block at a time, to find blank and malformed lines by number."""

    def __init__(self, fields: int, path: Path) -> None:
        self.fields = fields
        self.path = path
        self.lines = 0
        self.blank = 0
        self._skipped: list[np.ndarray] = []
        self._malformed: list[np.ndarray] = []
        self._offsets: list[np.ndarray] = []
        self._lengths: list[np.ndarray] = []

    def feed(self, buf: bytes, start: int, base_offset: int, first_line: int) -> None:
        arr = np.frombuffer(buf, dtype=np.uint8)[start:]
        ends = np.flatnonzero(arr == _NL)
        starts = np.empty_like(ends)
        starts[0] = 0
        starts[1:] = ends[:-1] + 1
        content_end = ends.copy()
        has_cr = (ends > starts) & (arr[np.maximum(ends - 1, 0)] == _CR)
        content_end[has_cr] -= 1
        commas = np.flatnonzero(arr == _COMMA)
        quotes = arr == _QUOTE
        if quotes.any():
            # A comma inside a quoted field is not a separator: it sits after an odd number of
            # quotes counted from the start of its line ("" escapes keep the count even).
            quotes_before = np.cumsum(quotes, dtype=np.int64)
            line_base = quotes_before[starts] - quotes[starts]
            comma_line = np.searchsorted(ends, commas)
            inside = (quotes_before[commas] - line_base[comma_line]) % 2 == 1
            commas = commas[~inside]
        fields = np.searchsorted(commas, content_end) - np.searchsorted(commas, starts) + 1
        empty = content_end == starts
        odd = np.flatnonzero((fields != self.fields) & ~empty)
        whitespace = np.zeros(len(ends), dtype=bool)
        for i in odd:
            if fields[i] == 1 and not bytes(arr[starts[i] : content_end[i]]).strip():
                whitespace[i] = True
        blank = empty | whitespace
        bad = (fields != self.fields) & ~blank
        numbers = np.arange(first_line, first_line + len(ends), dtype=np.int64)
        self.lines += len(ends)
        self.blank += int(blank.sum())
        self._skipped.append(numbers[blank | bad])
        self._malformed.append(numbers[bad])
        self._offsets.append(starts[bad].astype(np.int64) + base_offset + start)
        self._lengths.append((content_end - starts)[bad].astype(np.int64))

    def result(self, sha256: str, size: int, has_bom: bool, header: Header) -> FileScan:
        def cat(parts: list[np.ndarray]) -> np.ndarray:
            return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)

        return FileScan(
            sha256=sha256,
            size=size,
            has_bom=has_bom,
            header=header,
            data_lines=self.lines - self.blank,
            blank_lines=self.blank,
            skipped=cat(self._skipped),
            malformed=cat(self._malformed),
            malformed_offsets=cat(self._offsets),
            malformed_lengths=cat(self._lengths),
        )


def iter_chunks(path: Path, scan: FileScan, chunk_rows: int) -> Iterator[RawChunk]:
    """Stream the well-formed rows in chunks of about ``chunk_rows``, each with its line numbers."""
    unique_names = _unique(scan.header.columns)
    invalid = 0

    def on_invalid(row: pacsv.InvalidRow) -> str:
        nonlocal invalid
        invalid += 1
        return "skip"  # the scan has the line's number and bytes; it becomes a rejected row there

    read = pacsv.ReadOptions(column_names=unique_names, skip_rows=1, block_size=4 << 20, use_threads=True)
    parse = pacsv.ParseOptions(invalid_row_handler=on_invalid, ignore_empty_lines=True)
    convert = pacsv.ConvertOptions(
        column_types={name: pa.string() for name in unique_names},
        include_columns=list(REQUIRED_COLUMNS),
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
        null_values=[""],
    )
    ordinal = 0
    pending: list[pa.RecordBatch] = []
    pending_rows = 0
    with pa.OSFile(str(path), "rb") as stream:
        if scan.has_bom:
            stream.read(len(_BOM))
        try:
            reader = pacsv.open_csv(stream, read_options=read, parse_options=parse, convert_options=convert)
            for batch in reader:
                pending.append(batch)
                pending_rows += batch.num_rows
                if pending_rows >= chunk_rows:
                    yield RawChunk(pa.Table.from_batches(pending), line_numbers(ordinal, pending_rows, scan))
                    ordinal += pending_rows
                    pending, pending_rows = [], 0
        except pa.ArrowInvalid as exc:
            raise NotCsv(f"the file cannot be parsed as CSV: {_first_line(exc)}") from None
    if pending:
        yield RawChunk(pa.Table.from_batches(pending), line_numbers(ordinal, pending_rows, scan))
        ordinal += pending_rows
    if ordinal != scan.well_formed:
        raise NotCsv(
            f"the file's rows could not be counted consistently ({scan.well_formed} well-formed lines, "
            f"{ordinal} parsed rows); check for unbalanced quotes or line breaks inside quoted values"
        )


def iter_malformed(path: Path, scan: FileScan, chunk_rows: int) -> Iterator[RawChunk]:
    """Lines that do not split into the header's fields, as all-null rows carrying their raw text."""
    with path.open("rb") as fh:
        for begin in range(0, len(scan.malformed), chunk_rows):
            end = begin + chunk_rows
            texts = []
            for offset, length in zip(
                scan.malformed_offsets[begin:end], scan.malformed_lengths[begin:end]
            ):
                fh.seek(int(offset))
                texts.append(fh.read(int(length)).decode("utf-8").lstrip("\ufeff"))
            n = len(texts)
            table = pa.table({c: pa.nulls(n, type=pa.string()) for c in REQUIRED_COLUMNS})
            yield RawChunk(table=table, lines=scan.malformed[begin:end].copy(), malformed_text=texts)


def line_numbers(first_ordinal: int, rows: int, scan: FileScan) -> np.ndarray:
    """Physical line of each parsed row: rows fill lines 2, 3, ... except the lines that yield none.

    The k-th row sits at k + 2 plus the number of skipped lines before it.
    """
    ordinals = np.arange(first_ordinal, first_ordinal + rows, dtype=np.int64)
    if not len(scan.skipped):
        return ordinals + 2
    rows_before_gap = scan.skipped - 2 - np.arange(len(scan.skipped), dtype=np.int64)
    return ordinals + 2 + np.searchsorted(rows_before_gap, ordinals, side="right")


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        count = seen.get(name, 0)
        seen[name] = count + 1
        out.append(name if count == 0 else f"{name}__dup{count}")
    return out


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
