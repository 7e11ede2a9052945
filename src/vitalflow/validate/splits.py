"""Cut a CSV file into byte ranges that start exactly on a record boundary, for parallel parsing.

A fixed-size byte range may start inside a quoted field, so where its first record begins depends
on everything before it. Re-reading from the start for every range would read the file once per
range; instead each range is scanned once, on its own (in parallel on Spark), for what it does to
the quote state, and a prefix over the ranges (on the driver, a few numbers per range) gives every
range its incoming state, its first record boundary and that record's physical line number.

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
first quotes for each possible incoming state. Line numbers count physical line breaks (LF, CRLF,
a lone CR), quoted or not, as ``records`` does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

IN, CLOSED, OUT = 0, 1, 2
_IDENTITY = np.array([IN, CLOSED, OUT], dtype=np.int8)
# The state after a quote, by the state before it (columns IN, CLOSED, OUT) and the byte before it.
_AFTER_QUOTE = np.array(  # escaped quote ("" inside a field): IN <-> CLOSED, OUT stays
    [CLOSED, IN, OUT], dtype=np.int8
)
_AFTER_SEPARATOR = np.array([CLOSED, IN, IN], dtype=np.int8)  # at a field's start: a quote opens it
_AFTER_TEXT = np.array([CLOSED, OUT, OUT], dtype=np.int8)  # inside unquoted text: data
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


def ranges(data_start: int, size: int, split_bytes: int) -> list[tuple[int, int]]:
    """Fixed-size byte ranges covering the data after the header (none for a header-only file)."""
    return [(lo, min(lo + split_bytes, size)) for lo in range(data_start, size, split_bytes)]


def scan_range(path: Path, lo: int, hi: int, data_start: int) -> RangeScan:
    """One read of ``[lo, hi)`` plus a byte either side: its quote-state map and first boundaries."""
    before = lo - 1 if lo > 0 else lo
    with path.open("rb") as fh:
        fh.seek(before)
        buf = fh.read(hi + 1 - before)
    arr = np.frombuffer(buf, dtype=np.uint8)
    shift = lo - before  # arr[shift] is byte lo
    body = arr[shift : shift + hi - lo]
    nxt = arr[shift + 1 : shift + hi - lo + 1]
    is_lf = body == _LF
    lone_cr = (body == _CR) & ~np.pad(nxt == _LF, (0, len(body) - len(nxt)))
    ends = np.flatnonzero(is_lf | lone_cr)  # positions (relative to lo) of line-ending bytes
    starts = ends + 1  # line starts after them, relative to lo (hi itself belongs to the next range)
    starts = starts[starts < hi - lo]
    if lo == data_start or (shift and _ends_line(arr, shift)):
        starts = np.concatenate([[0], starts])
    quotes = np.flatnonzero(body == _QUOTE)
    maps = _quote_maps(arr, quotes + shift)
    first = [_first_start(state, quotes, maps, starts) for state in (IN, CLOSED, OUT)]
    return RangeScan(
        lo=lo,
        hi=hi,
        out_state=tuple(int(s) for s in _compose(maps)),  # type: ignore[arg-type]
        first=tuple(None if f is None else lo + f for f in first),  # type: ignore[arg-type]
        breaks_before=tuple(0 if f is None else int(np.searchsorted(ends, f)) for f in first),  # type: ignore[arg-type]
        breaks=len(ends),
    )


def _ends_line(arr: np.ndarray, at: int) -> bool:
    """Whether ``arr[at]`` starts a line: the byte before is LF, or a CR not followed by LF."""
    prev = arr[at - 1]
    return bool(prev == _LF or (prev == _CR and (at >= len(arr) or arr[at] != _LF)))


def _quote_maps(arr: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Per quote (positions ``at`` in ``arr``), its map from the state before to the state after.

    The byte before the data is the header's line break: a separator, as at any record's start.
    """
    prev = arr[np.maximum(at - 1, 0)]
    separator = (prev == _COMMA) | (prev == _LF) | (prev == _CR)
    maps = np.where(separator[:, None], _AFTER_SEPARATOR, _AFTER_TEXT)
    return np.where((prev == _QUOTE)[:, None] & (at > 0)[:, None], _AFTER_QUOTE, maps).astype(np.int8)


def _compose(maps: np.ndarray) -> np.ndarray:
    """The map of all quotes in order (first applied first), halving the list at each step."""
    while len(maps) > 1:
        if len(maps) % 2:
            maps = np.concatenate([maps, _IDENTITY[None, :]])
        earlier, later = maps[0::2], maps[1::2]
        maps = np.take_along_axis(later, earlier.astype(np.intp), axis=1)
    return maps[0] if len(maps) else _IDENTITY


def _first_start(state: int, quotes: np.ndarray, maps: np.ndarray, starts: np.ndarray) -> int | None:
    """The first line start whose preceding line break is outside quotes, from incoming ``state``.

    Walks quote by quote only until that start: usually the range's first line.
    """
    begin = 0
    for k in range(len(quotes) + 1):
        end = int(quotes[k]) if k < len(quotes) else None  # a start at a quote is decided before it
        if state != IN:
            i = int(np.searchsorted(starts, begin))
            if i < len(starts) and (end is None or starts[i] <= end):
                return int(starts[i])
        if end is None:
            return None
        state = int(maps[k][state])
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


def plan_file(path: Path, data_start: int, first_line: int, split_bytes: int) -> list[Split]:
    """The splits of a local file, scanning its ranges one after the other (tests, small files)."""
    size = path.stat().st_size
    scans = (scan_range(path, lo, hi, data_start) for lo, hi in ranges(data_start, size, split_bytes))
    return plan(scans, size, first_line)
