"""Split a CSV file into records: the one place that decides where a row begins and ends.

Semantics are RFC 4180 as Python's ``csv`` module reads it (the reference the tests compare with):
a record ends at LF, CRLF or a lone CR outside quotes; a quote opens a quoted field only at the
start of a field; inside one, ``""`` is a quote and commas and line breaks are data. Every record
gets the number of the physical line it starts on (LF, CRLF and CR each end one line).

A record is *well formed* when it has the header's number of fields and every quote in it is where
RFC 4180 allows one. Anything else (a stray quote in an unquoted field, ``"ab"cd``, a quote never
closed, a wrong field count) is *malformed*: it becomes one rejected row carrying its raw text and
first line number, never a whole-file failure, never a duplicate, never a loss. Blank records
(nothing but spaces and tabs) hold no reading and are only counted.

Two code paths, one decision. Bytes with no quote character cannot disagree about boundaries, so
they are split with numpy and their fields by pyarrow with quoting off (fast). Any stretch that
holds a quote is read by Python's ``csv`` module record by record, and each record's raw text is
checked against the RFC 4180 grammar. Both paths hand pyarrow-free, already-decided records on.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from vitalflow.exceptions import NotCsv, RowTooLong

BLOCK_BYTES = 2 << 20
MAX_RECORD_BYTES = 16 << 20  # a longer record fails the file, naming its line and this limit
_LF, _CR, _COMMA, _QUOTE, _SPACE, _TAB = 10, 13, 44, 34, 32, 9
_FIELD = r'(?:"(?:[^"]|"")*"|[^",]*)'
_RFC_RECORD = re.compile(rf"{_FIELD}(?:,{_FIELD})*", re.S)
_BOM = b"\xef\xbb\xbf"

csv.field_size_limit(MAX_RECORD_BYTES + 1)


@dataclass
class Records:
    """Decided records of one stretch of the file, in file order, and what a row must look like."""

    width: int  # fields in a row: the header's
    keep: list[int]  # the field positions wanted
    tables: list[pa.Table] = field(default_factory=list)  # rows, in file order
    lines: list[np.ndarray] = field(default_factory=list)  # parallel to ``tables``
    pending: list[list[str]] = field(default_factory=list)  # rows ``csv`` read, not yet in a table
    pending_lines: list[int] = field(default_factory=list)
    malformed_lines: list[int] = field(default_factory=list)
    malformed_text: list[str] = field(default_factory=list)
    blank: int = 0

    def add_table(self, table: pa.Table, lines: np.ndarray) -> None:
        self.flush()
        self.tables.append(table)
        self.lines.append(lines)

    def flush(self) -> None:
        """The rows ``csv`` read since the last table, as one table (empty text is null)."""
        if self.pending:
            columns = zip(*self.pending)
            self.tables.append(
                pa.table(
                    {
                        f"f{i}": pa.array([v or None for v in c], pa.string())
                        for i, c in zip(self.keep, columns)
                    }
                )
            )
            self.lines.append(np.array(self.pending_lines, dtype=np.int64))
            self.pending, self.pending_lines = [], []


@dataclass
class RawChunk:
    """Rows as the file spelled them (strings, empty -> null), with their physical line numbers.

    ``malformed_*`` are the records of the same stretch of the file that are not rows (their raw
    text and first line); ``blank`` counts records with nothing but white space.
    """

    table: pa.Table  # one string column per wanted field
    lines: np.ndarray  # first physical line of each row
    malformed_lines: np.ndarray
    malformed_text: list[str]
    blank: int = 0
    end: int = 0  # file offset up to which records are decided (progress)


def read_header(path: Path, has_bom: bool) -> tuple[list[str], int, int, bool]:
    """The first record's fields, byte length (after any BOM), lines it spans, and if RFC 4180 reads it."""
    with path.open("rb") as fh:
        return header_of(fh.read(len(_BOM) + MAX_RECORD_BYTES + 1), has_bom)


def header_of(start: bytes, has_bom: bool) -> tuple[list[str], int, int, bool]:
    """``read_header`` of a file that begins with ``start`` (at least its first record and a byte,
    or the whole file): for a file read as a stream, once."""
    head = start[len(_BOM) :] if has_bom else start
    head = head[: MAX_RECORD_BYTES + 1]
    text = _decode_prefix(head)
    lines = _LineTap(io.StringIO(text, newline=""))
    reader = csv.reader(lines)
    try:
        record = next(reader, None)
    except csv.Error:
        record = None
    raw = lines.take()
    if record is None or not raw:
        raise NotCsv("the file has no header line")
    if not raw.endswith(("\n", "\r")) and len(head) > MAX_RECORD_BYTES:
        raise RowTooLong(f"the header (line 1) is longer than {MAX_RECORD_BYTES >> 20} MiB")
    body = _strip_terminator(raw)
    if not body.strip(" \t"):
        raise NotCsv("the first line is empty; a header line with the column names is required")
    return record, len(raw.encode("utf-8")), _count_lines(raw), bool(_RFC_RECORD.fullmatch(body))


def iter_blocks(
    path: Path,
    *,
    start: int,
    first_line: int,
    width: int,
    keep: dict[str, int],
    block_bytes: int = BLOCK_BYTES,
    stop: int | None = None,
) -> Iterator[RawChunk]:
    """Records after the header, a block of bytes at a time; ``keep``: the wanted fields' positions.

    ``stop``: a record boundary (validate/splits.py) where reading ends as at the end of the file,
    so a split of the file gives exactly the records, lines and text the whole file gives there.
    """
    line = first_line
    with path.open("rb") as fh:
        fh.seek(start)
        carry = b""
        while True:
            want = block_bytes if stop is None else min(block_bytes, stop - fh.tell())
            data = fh.read(want) if want > 0 else b""
            final = not data
            buf = carry + data
            if not buf:
                break
            records = Records(width, list(keep.values()))
            cut, line = _split(buf, final, line, records)
            carry = buf[cut:]
            if len(carry) > MAX_RECORD_BYTES:
                raise RowTooLong(
                    f"the record starting on line {line} is longer than {MAX_RECORD_BYTES >> 20} MiB "
                    "(an unclosed quote, or a line without line breaks); nothing was committed"
                )
            block = _assemble(records, list(keep))
            block.end = fh.tell() - len(carry)
            yield block
            if final:
                break


def _split(buf: bytes, final: bool, line: int, out: Records) -> tuple[int, int]:
    """Decide the records of ``buf`` that are complete; return where undecided bytes start, next line."""
    arr = np.frombuffer(buf, dtype=np.uint8)
    quotes = np.flatnonzero(arr == _QUOTE)
    if not len(quotes):
        return _fast(buf, arr, 0, len(buf), final, line, out)
    # Quote-free lines before the first quote's line take the fast path too.
    first_q = int(quotes[0])
    head_end = _line_start(arr, first_q)
    pos = 0
    if head_end > 0:
        pos, line = _fast(buf, arr, 0, head_end, True, line, out)
    pos, line, complete = _slow(buf, pos, int(quotes[-1]), final, line, out)
    if not complete:
        return pos, line
    return _fast(buf, arr, pos, len(buf), final, line, out)


def _line_start(arr: np.ndarray, at: int) -> int:
    before = arr[:at]
    ends = np.flatnonzero((before == _LF) | (before == _CR))
    return int(ends[-1]) + 1 if len(ends) else 0


def _fast(
    buf: bytes,
    arr: np.ndarray,
    begin: int,
    end: int,
    final: bool,
    line: int,
    out: Records,
) -> tuple[int, int]:
    """Quote-free bytes: lines are records, commas are separators. Returns (cut, next line)."""
    width = out.width
    part = arr[begin:end]
    n = len(part)
    if n == 0:
        return begin, line
    lf = np.flatnonzero(part == _LF)
    cr = np.flatnonzero(part == _CR)
    nxt = np.minimum(cr + 1, n - 1)
    crlf = (cr + 1 < n) & (part[nxt] == _LF)
    lone_cr = cr[~crlf & ((cr + 1 < n) | final)]  # a CR at the very end may still be a CRLF
    stops = np.sort(np.concatenate([lf, lone_cr]))
    term_end = stops + 1  # bytes after each terminator
    content_end = stops.copy()
    if len(lf):
        is_lf = part[stops] == _LF
        has_cr = is_lf & (stops > 0) & (part[np.maximum(stops - 1, 0)] == _CR)
        content_end = np.where(has_cr, stops - 1, stops)
    cut = int(term_end[-1]) if len(stops) else 0
    if final and cut < n:  # a last line without a line break
        stops = np.append(stops, n)
        content_end = np.append(content_end, n)
        cut = n
    if not len(stops):
        return begin, line
    starts = np.empty_like(content_end)
    starts[0] = 0
    starts[1:] = stops[:-1] + 1
    starts = np.minimum(starts, content_end)
    commas = np.flatnonzero(part == _COMMA)
    fields = np.searchsorted(commas, content_end) - np.searchsorted(commas, starts) + 1
    blank = np.zeros(len(stops), dtype=bool)
    for i in np.flatnonzero(fields == 1):  # only a line without commas can be blank
        blank[i] = not bytes(part[starts[i] : content_end[i]]).strip(b" \t")
    good = (fields == width) & ~blank
    bad = ~good & ~blank
    numbers = np.arange(line, line + len(stops), dtype=np.int64)
    out.blank += int(blank.sum())
    for i in np.flatnonzero(bad):
        out.malformed_lines.append(int(numbers[i]))
        out.malformed_text.append(buf[begin + starts[i] : begin + content_end[i]].decode("utf-8"))
    if good.any():
        out.add_table(_parse_plain(part[:cut], starts, content_end, good, width, out.keep), numbers[good])
    return begin + cut, line + len(stops)


def _parse_plain(
    part: np.ndarray, starts: np.ndarray, ends: np.ndarray, good: np.ndarray, width: int, keep: list[int]
) -> pa.Table:
    """pyarrow splits the kept lines on commas only (quoting off): it cannot see a record differently.

    The bytes it gets are exactly the good lines, each ending in one LF: dropped lines are cut out
    and CR or CRLF endings become LF (a copy only when something must change).
    """
    n = len(part)
    term = ends[good]
    inside = term < n
    term = term[inside]
    is_cr = part[term] == _CR
    dropped = np.flatnonzero(~good)
    if not is_cr.any() and not len(dropped) and inside.all():
        text = part.tobytes()  # the common case: every line kept, LF endings
    else:
        keep_mask = np.ones(n, dtype=bool)
        data = part
        if is_cr.any():
            data = part.copy()
            crs = term[is_cr]
            crlf = crs[(crs + 1 < n) & (part[np.minimum(crs + 1, n - 1)] == _LF)]
            data[crs] = _LF
            keep_mask[crlf + 1] = False
        for i in dropped:  # rare: malformed and blank lines
            keep_mask[starts[i] : starts[i + 1] if i + 1 < len(starts) else n] = False
        text = data[keep_mask].tobytes()
        if not inside.all():
            text += b"\n"
    starts, ends = starts[good], ends[good]
    longest = int((ends - starts).max()) + 2
    table = pacsv.read_csv(
        pa.py_buffer(text),
        read_options=pacsv.ReadOptions(
            column_names=[f"f{i}" for i in range(width)],
            block_size=max(1 << 20, longest),
            use_threads=True,
        ),
        parse_options=pacsv.ParseOptions(
            quote_char=False, double_quote=False, escape_char=False, ignore_empty_lines=False
        ),
        convert_options=pacsv.ConvertOptions(
            column_types={f"f{i}": pa.string() for i in range(width)},
            include_columns=[f"f{i}" for i in keep],
            strings_can_be_null=True,
            null_values=[""],
        ),
    )
    if table.num_rows != len(starts):
        raise AssertionError(f"internal error: {len(starts)} lines split into {table.num_rows} rows")
    return table


def _slow(
    buf: bytes, begin: int, last_quote: int, final: bool, line: int, out: Records
) -> tuple[int, int, bool]:
    """Records with quotes, read by ``csv``; stops after the record holding ``last_quote``.

    Returns (cut, next line, complete): complete is False when the bytes ran out inside a record
    that may continue in the next block (it is then left undecided).
    """
    text = _decode_prefix(buf[begin:])
    limit = begin + len(text.encode("utf-8"))  # a character cut by the block size waits for the next
    tap = _LineTap(io.StringIO(text, newline=""))
    reader = csv.reader(tap)
    pos = begin
    while pos <= last_quote:
        try:
            record = next(reader, None)
        except csv.Error as exc:  # only the field size limit can raise here
            raise RowTooLong(
                f"the record starting on line {line} is longer than {MAX_RECORD_BYTES >> 20} MiB: {exc}"
            ) from None
        raw = tap.take()
        if record is None or not raw:
            break
        size = len(raw.encode("utf-8"))
        if not final and pos + size >= limit:
            return pos, line, False  # reached the end of what was read: the record may go on
        _decide(record, raw, line, out)
        line += _count_lines(raw)
        pos += size
    return pos, line, True


def _decide(record: list[str], raw: str, line: int, out: Records) -> None:
    body = _strip_terminator(raw)
    if '"' not in body and not body.strip(" \t"):
        out.blank += 1
    elif len(record) == out.width and _RFC_RECORD.fullmatch(body):
        out.pending.append([record[i] for i in out.keep])
        out.pending_lines.append(line)
    else:
        out.malformed_lines.append(line)
        out.malformed_text.append(body)


def _assemble(records: Records, names: list[str]) -> RawChunk:
    """One table in file order from fast-path tables and slow-path rows, its columns named ``names``."""
    records.flush()
    tables = [table.rename_columns(names) for table in records.tables]
    return RawChunk(
        table=pa.concat_tables(tables)
        if tables
        else pa.schema([(n, pa.string()) for n in names]).empty_table(),
        lines=np.concatenate(records.lines) if records.lines else np.empty(0, dtype=np.int64),
        malformed_lines=np.array(records.malformed_lines, dtype=np.int64),
        malformed_text=records.malformed_text,
        blank=records.blank,
    )


class _LineTap:
    """A line iterator for ``csv.reader`` that remembers the raw lines each record consumed."""

    def __init__(self, lines: io.StringIO) -> None:
        self._lines = lines
        self._taken: list[str] = []

    def __iter__(self) -> _LineTap:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self._taken.append(line)
        return line

    def take(self) -> str:
        raw = "".join(self._taken)
        self._taken = []
        return raw


def _strip_terminator(raw: str) -> str:
    if raw.endswith("\r\n"):
        return raw[:-2]
    if raw.endswith(("\n", "\r")):
        return raw[:-1]
    return raw


def _count_lines(raw: str) -> int:
    """Physical lines a record spans (at least one)."""
    breaks = raw.count("\n") + raw.count("\r") - raw.count("\r\n")
    return max(1, breaks if raw.endswith(("\n", "\r")) else breaks + 1)


def _decode_prefix(head: bytes) -> str:
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as exc:  # a multi-byte character cut by the read size
        return head[: exc.start].decode("utf-8")
