"""The duplicate rule's data: which rows repeat the key of an earlier valid reading in the batch.

The suite names the rule and its key (the ``after_row_checks`` expectation on ``__repeat``, with
``meta.key``, e.g. user_id and event_time); this module is everything else about it. A row claims
its key only once it passed every row rule, so the first *valid* reading wins: rows are marked here
between the suite's two phases, in file order, and the suite's final rule rejects the marked ones.
Event times are compared as instants (``08:00Z`` and ``09:00+01:00`` are the same).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from vitalflow.validate.columns import INDEX_COLUMN, REPEAT_COLUMN


class Repeats:
    """The keys of accepted rows across the whole file, kept as 64-bit hashes (8 bytes a row).

    That keeps memory bounded for files far larger than a chunk; the chance of two different
    readings colliding in a 10-million-row file is about 3 in a million. The hashes live in sorted
    runs that merge like a binary counter (a run merges with the one before it once it is at
    least half its size), so the work per row stays logarithmic instead of re-sorting everything
    seen for every chunk; probes are sorted so each lookup walks memory in order.
    """

    def __init__(self, key: list[str]) -> None:
        self.key = key
        self._runs: list[np.ndarray] = []

    def mark(self, frame: pd.DataFrame, candidates: np.ndarray) -> None:
        """Set ``__repeat`` on the candidate rows (those that passed the row rules) whose key was taken."""
        frame[REPEAT_COLUMN] = False
        if not candidates.any() or not self.key:
            return
        hashes = key_hashes(frame, candidates, self.key)
        repeat = pd.Series(hashes).duplicated(keep="first").to_numpy()
        if self._runs:
            order = np.argsort(hashes, kind="stable")
            probes = hashes[order]
            found = np.zeros(len(hashes), dtype=bool)
            for run in self._runs:
                position = np.minimum(np.searchsorted(run, probes), len(run) - 1)
                found |= run[position] == probes
            seen = np.empty(len(hashes), dtype=bool)
            seen[order] = found
            repeat |= seen
        frame.loc[candidates, REPEAT_COLUMN] = repeat
        fresh = np.sort(hashes[~repeat])
        if len(fresh):
            self._runs.append(fresh)
        while len(self._runs) > 1 and len(self._runs[-1]) * 2 >= len(self._runs[-2]):
            newer = self._runs.pop()
            older = self._runs.pop()
            merged = np.concatenate([older, newer])
            merged.sort(kind="stable")  # two sorted runs: a linear merge
            self._runs.append(merged)


class KnownRepeats:
    """Repeats decided for the whole file before the chunk is judged (the Spark engine's shuffle).

    ``lines``: the lines of valid readings whose key a valid reading on an earlier line holds,
    found from the same 64-bit hashes ``Repeats`` keeps, so both engines agree even on a collision.
    """

    def __init__(self, lines: np.ndarray) -> None:
        self.lines = np.sort(np.asarray(lines, dtype=np.int64))

    def mark(self, frame: pd.DataFrame, candidates: np.ndarray) -> None:
        frame[REPEAT_COLUMN] = False
        if candidates.any() and len(self.lines):
            lines = frame[INDEX_COLUMN].to_numpy(np.int64)[candidates]
            # a binary search in the sorted repeats (``np.isin`` sorts both arrays every chunk)
            at = np.minimum(np.searchsorted(self.lines, lines), len(self.lines) - 1)
            frame.loc[candidates, REPEAT_COLUMN] = self.lines[at] == lines


def key_hashes(frame: pd.DataFrame, rows: np.ndarray, key: list[str]) -> np.ndarray:
    """A 64-bit hash of each row's key: event times by value, text hashed once per distinct value."""
    combined = np.zeros(int(rows.sum()), dtype=np.uint64)
    for name in key:
        if name == "event_time":
            stamps = frame["event_time__ts"].dt.tz_convert(None).to_numpy()[rows]
            part = stamps.astype("datetime64[us]").view(np.int64).astype(np.uint64)
        else:
            encoded = pc.dictionary_encode(pa.array(frame[name]).filter(pa.array(rows)))
            if isinstance(encoded, pa.ChunkedArray):
                encoded = encoded.combine_chunks()
            uniques = np.asarray(encoded.dictionary.to_pylist(), dtype=object)
            codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
            hashed = np.append(pd.util.hash_array(uniques).astype(np.uint64), np.uint64(0))  # -1: missing
            part = hashed[codes]
        combined = _mix(combined ^ _mix(part))
    return combined


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: spreads every input bit over the whole word."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))
