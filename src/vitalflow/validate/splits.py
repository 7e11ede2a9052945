"""Cut a CSV file into byte ranges that start exactly on a record boundary, for parallel parsing.

A fixed-size byte range may start inside a quoted field, so where its first record begins depends
on everything before it. Re-reading from the start for every range would read the file once per
range; instead the file is scanned once, front to back, in the pass that hashes it
(``RangeScanner``): each range for what it does to the quote state, and a prefix over the ranges (a
few numbers per range) gives every range its incoming state, its first record boundary and that
record's physical line number.

The quote state follows Python's ``csv`` module (what ``records`` uses to split quoted stretches),
not quote parity: a quote opens a quoted field only at the start of a field; inside one, a quote
closes it or, doubled, is data; text after a closing quote, or a quote inside an unquoted field, is
data (``csv`` is not strict). Only the state after each quote matters, and it depends on the state
after the quote before and the one byte before this quote:

* ``IN``: inside a quoted field (line breaks are data);
* ``CLOSED``: just after a quote that closed a field (a quote right after it is an escaped quote);
* ``OUT``: anywhere else (a line break ends the record).

Each range's quotes compose into a map from its incoming to its outgoing state (three states, so
a map is three numbers, composed with numpy); the first boundary is found by walking the range's
first quotes for each possible incoming state. A range read in pieces (blocks of the stream) is
the pieces' scans joined the same way. Line numbers count physical line breaks (LF, CRLF,
a lone CR), quoted or not, as ``records`` does.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

IN, CLOSED, OUT = 0, 1, 2
# A map from the state before to the state after is one of the 27 functions of three states, numbered
# 9 * f(IN) + 3 * f(CLOSED) + f(OUT): composing two is a lookup in a 27 x 27 table (``_THEN``), so a
# range's quotes compose with numpy in a few passes over one byte per quote.
_FUNCTIONS = np.array([[n // 9, n // 3 % 3, n % 3] for n in range(27)], dtype=np.int8)  # number -> f


def _number(f: Sequence[int]) -> int:
    return 9 * int(f[IN]) + 3 * int(f[CLOSED]) + int(f[OUT])


_THEN = np.array(  # _THEN[a, b]: the number of "a, then b"
    [[_number(_FUNCTIONS[b][_FUNCTIONS[a]]) for b in range(27)] for a in range(27)], dtype=np.uint8
)
_IDENTITY = _number((IN, CLOSED, OUT))
# The state after a quote, by the state before it (IN, CLOSED, OUT) and the byte before it.
_AFTER_QUOTE = _number((CLOSED, IN, OUT))  # escaped quote ("" inside a field): IN <-> CLOSED, OUT stays
_AFTER_SEPARATOR = _number((CLOSED, IN, IN))  # at a field's start: a quote opens it
_AFTER_TEXT = _number((CLOSED, OUT, OUT))  # inside unquoted text: data
_QUOTE, _COMMA, _LF, _CR = 34, 44, 10, 13


@dataclass(frozen=True)
class RangeScan:
    """What one byte range ``[lo, hi)`` does, for each incoming state (indexed IN, CLOSED, OUT)."""

    lo: int
    hi: int
    out_state: tuple[int, int, int]  # the state after the range's last quote
    first: tuple[int | None, int | None, int | None]  # first record start in [lo, hi), if any
    breaks_before: tuple[int, int, int]  # line breaks in [lo, first)
    breaks: int  # line breaks in [lo, hi)


@dataclass(frozen=True)
class Split:
    """One task's records: those starting in ``[start, stop)``; the first starts on ``first_line``."""

    index: int
    start: int
    stop: int
    first_line: int


class RangeScanner:
    """The range scans of a file read once, front to back, in blocks of any size.

    The Spark engine's driver hashes the upload as a stream (``reader.scan_stream``); planning its
    splits in the same pass spares a pass over the file (a Spark job that read every range again).
    Each block is scanned in pieces cut at the ranges' edges (``data_start`` plus a multiple of
    ``split_bytes``) and a range's pieces are joined (``join``), so the scanner holds a block or
    two, never a range. A block is scanned once the next one (its next byte) has arrived.
    """

    def __init__(self, split_bytes: int) -> None:
        self.split_bytes = split_bytes
        self.data_start: int | None = None  # the first byte after the header, once known
        self.size = 0  # bytes fed so far
        self._blocks: list[bytes] = []  # fed, not scanned yet
        self._at = 0  # the file offset of the first of them
        self._before: int | None = None  # the byte before it
        self._range: RangeScan | None = None  # the scan of the current range's bytes so far
        self._scans: list[RangeScan] = []

    def begin(self, data_start: int) -> None:
        """Where the data starts: the scanner holds blocks until it knows (the header is parsed)."""
        self.data_start = data_start
        self._scan(final=False)

    def feed(self, block: bytes) -> None:
        if block:
            self._blocks.append(block)
            self.size += len(block)
            self._scan(final=False)

    def plan(self, first_line: int) -> list[Split]:
        """The splits of the whole file (every block fed, ``begin`` called)."""
        self._scan(final=True)
        if self._range is not None:
            self._scans.append(self._range)
            self._range = None
        return plan(self._scans, self.size, first_line)

    def _scan(self, final: bool) -> None:
        if self.data_start is None:
            return
        while len(self._blocks) > 1 or (final and self._blocks):
            block = self._blocks.pop(0)
            after = self._blocks[0][0] if self._blocks else None
            self._scan_block(block, after)
            self._at += len(block)
            self._before = block[-1]

    def _scan_block(self, block: bytes, after: int | None) -> None:
        assert self.data_start is not None
        at, end, first = self._at, self._at + len(block), self.data_start
        lo = max(at, first)
        while lo < end:
            range_lo = first + (lo - first) // self.split_bytes * self.split_bytes
            hi = min(range_lo + self.split_bytes, end)
            before = block[lo - at - 1] if lo > at else self._before
            byte_after = block[hi - at] if hi < end else after
            piece = scan_piece(block, lo - at, hi - at, before, byte_after, lo=lo, record_start=lo == first)
            self._range = piece if self._range is None else join(self._range, piece)  # a range's first piece
            if hi == range_lo + self.split_bytes:
                self._scans.append(self._range)
                self._range = None
            lo = hi


def scan_piece(
    block: bytes, start: int, stop: int, before: int | None, after: int | None, *, lo: int, record_start: bool
) -> RangeScan:
    """The scan of ``block[start:stop]``, the file's bytes from offset ``lo``.

    ``before``/``after``: the bytes either side (None at the file's edges): the byte before a quote
    decides what it does, a CR before an LF is no line end of its own. ``record_start``: the header
    ends right before (a record starts at ``lo`` whatever the byte before). Bytes methods (memchr)
    find the rare quotes and CRs; numpy counts line breaks.
    """
    data = np.frombuffer(block, dtype=np.uint8)
    quotes = _NONE
    if block.find(b'"', start, stop) >= 0:
        quotes = np.flatnonzero(data[start:stop] == _QUOTE) + start
    prev = data[np.maximum(quotes - 1, 0)]
    prev[quotes == start] = _LF if before is None else before  # the header's line break before the data
    maps = _quote_maps(prev)
    ends = _LineEnds(block, start, stop, after)
    line_start = record_start or before == _LF or (before == _CR and block[start] != _LF)
    first = [_first_start(state, quotes, maps, line_start, ends) for state in (IN, CLOSED, OUT)]
    return RangeScan(
        lo=lo,
        hi=lo + stop - start,
        out_state=tuple(int(s) for s in _compose(maps)),  # type: ignore[arg-type]
        first=tuple(None if f is None else lo + f - start for f in first),  # type: ignore[arg-type]
        breaks_before=tuple(0 if f is None else ends.count(start, f) for f in first),  # type: ignore[arg-type]
        breaks=ends.count(start, stop),
    )


_NONE = np.empty(0, dtype=np.intp)


class _LineEnds:
    """Line-ending bytes of ``block[start:stop]``: an LF, or a CR not followed by an LF."""

    def __init__(self, block: bytes, start: int, stop: int, after: int | None) -> None:
        self.block, self.start, self.stop, self.after = block, start, stop, after
        self.has_cr = block.find(b"\r", start, stop) >= 0

    def next_byte(self, i: int) -> int | None:
        return self.block[i] if i < self.stop else self.after

    def count(self, lo: int, hi: int) -> int:
        """Line ends in ``[lo, hi)``: numpy over a piece, bytes methods over the few bytes before its
        first record."""
        block = self.block
        straddles = hi > lo and block[hi - 1] == _CR and self.next_byte(hi) == _LF  # a CRLF's CR at the end
        if hi - lo <= 4096:
            if not self.has_cr:
                return block.count(b"\n", lo, hi)
            crs = block.count(b"\r", lo, hi)
            return block.count(b"\n", lo, hi) + crs - block.count(b"\r\n", lo, hi) - straddles
        data = np.frombuffer(block, dtype=np.uint8, count=hi - lo, offset=lo)
        lf = data == _LF
        if not self.has_cr:
            return int(np.count_nonzero(lf))
        cr = data == _CR
        pairs = int(np.count_nonzero(cr[:-1] & lf[1:]))
        return int(np.count_nonzero(lf)) + int(np.count_nonzero(cr)) - pairs - straddles

    def next(self, at: int) -> int:
        """The first line end at or after ``at``, or -1."""
        lf = self.block.find(b"\n", at, self.stop)
        cr = self.block.find(b"\r", at, self.stop if lf < 0 else lf) if self.has_cr else -1
        if cr < 0:
            return lf
        if self.next_byte(cr + 1) == _LF:  # CRLF: the LF ends the line (in the next piece: none here)
            return cr + 1 if cr + 1 < self.stop else -1
        return cr


def join(a: RangeScan, b: RangeScan) -> RangeScan:
    """The scan of ``a``'s bytes followed by ``b``'s: b starts in the state a leaves."""
    first: list[int | None] = []
    before: list[int] = []
    for state in (IN, CLOSED, OUT):
        if a.first[state] is not None:
            first.append(a.first[state])
            before.append(a.breaks_before[state])
        else:
            middle = a.out_state[state]
            first.append(b.first[middle])
            before.append(0 if b.first[middle] is None else a.breaks + b.breaks_before[middle])
    return RangeScan(
        lo=a.lo,
        hi=b.hi,
        out_state=tuple(b.out_state[a.out_state[s]] for s in (IN, CLOSED, OUT)),  # type: ignore[arg-type]
        first=tuple(first),  # type: ignore[arg-type]
        breaks_before=tuple(before),  # type: ignore[arg-type]
        breaks=a.breaks + b.breaks,
    )


def _quote_maps(prev: np.ndarray) -> np.ndarray:
    """Per quote, from the byte before it, the number of its map from the state before to the state after."""
    separator = (prev == _COMMA) | (prev == _LF) | (prev == _CR)
    maps = np.where(separator, np.uint8(_AFTER_SEPARATOR), np.uint8(_AFTER_TEXT))
    return np.where(prev == _QUOTE, np.uint8(_AFTER_QUOTE), maps)


def _compose(maps: np.ndarray) -> np.ndarray:
    """The map of all quotes in order (first applied first), halving the list at each step."""
    while len(maps) > 1:
        if len(maps) % 2:
            maps = np.append(maps, np.uint8(_IDENTITY))
        maps = _THEN[maps[0::2], maps[1::2]]
    return _FUNCTIONS[maps[0] if len(maps) else _IDENTITY]


def _first_start(
    state: int, quotes: np.ndarray, maps: np.ndarray, line_start: bool, ends: _LineEnds
) -> int | None:
    """The first line start whose preceding line break is outside quotes, from incoming ``state``.

    Walks quote by quote only until that start: usually the piece's first line.
    """
    begin, found_from, found = ends.start, -1, -1  # the last search for a line end, and its answer
    for k in range(len(quotes) + 1):
        end = int(quotes[k]) if k < len(quotes) else None  # a start at a quote is decided before it
        if state != IN:
            if begin == ends.start and line_start:
                return begin
            at = max(begin - 1, ends.start)
            if found_from < 0 or found < at:
                found_from, found = at, ends.next(at)
            if found < 0 or found + 1 >= ends.stop:
                return None  # no line starts after ``begin`` in the piece
            if end is None or found + 1 <= end:
                return found + 1
        if end is None:
            return None
        state = int(_FUNCTIONS[maps[k], state])
        begin = end + 1
    return None


def plan(scans: Iterable[RangeScan], size: int, first_line: int) -> list[Split]:
    """Every range's split from the scans in file order: a prefix of states and line counts.

    A range with no record starting in it gets an empty split (start == stop), so task numbers stay
    the range numbers and a retried task always covers the same bytes.
    """
    state, lines = OUT, first_line
    found: list[tuple[int | None, int]] = []
    for scan in scans:
        start = scan.first[state]
        found.append((start, lines + scan.breaks_before[state]))
        lines += scan.breaks
        state = scan.out_state[state]
    splits: list[Split] = []
    stop, stop_line = size, lines
    for index in range(len(found) - 1, -1, -1):
        start, line = found[index]
        if start is None:
            start, line = stop, stop_line
        splits.append(Split(index=index, start=start, stop=stop, first_line=line))
        stop, stop_line = start, line
    return splits[::-1]


def plan_file(
    path: Path, data_start: int, first_line: int, split_bytes: int, block_bytes: int = 8 << 20
) -> list[Split]:
    """The splits of a local file, read once in blocks of ``block_bytes`` (tests, small files)."""
    scanner = RangeScanner(split_bytes)
    scanner.begin(data_start)
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(block_bytes), b""):
            scanner.feed(block)
    return scanner.plan(first_line)
