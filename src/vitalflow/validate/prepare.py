"""Turn raw text rows into the frame the suite checks, and split checked rows into outputs.

Parsing here is deliberately forgiving (anything unparseable becomes null); deciding what is
acceptable is the suite's job. The frame carries both the trimmed text (for format rules) and the
parsed values (``<col>__num``, ``event_time__ts``) for range and calendar rules.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from vitalflow.contract import (
    FLOAT_COLUMNS,
    INTEGER_COLUMNS,
    NUMERIC_COLUMNS,
    PROCESSED_SCHEMA,
    REJECTED_SCHEMA,
    REQUIRED_COLUMNS,
)
from vitalflow.validate.suite import INDEX_COLUMN

REPEAT_COLUMN = "__repeat"


def trimmed(table: pa.Table) -> pa.Table:
    """Trim whitespace; a blank field counts as empty."""
    columns = {}
    for name in REQUIRED_COLUMNS:
        col = pc.utf8_trim_whitespace(table.column(name))
        columns[name] = pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col)
    return pa.table(columns)


def check_frame(clean: pa.Table, lines: np.ndarray) -> pd.DataFrame:
    frame = clean.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get)
    for name in NUMERIC_COLUMNS:
        frame[f"{name}__num"] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
    frame["event_time__ts"] = pd.to_datetime(frame["event_time"], format="ISO8601", utc=True, errors="coerce")
    frame[INDEX_COLUMN] = lines
    frame[REPEAT_COLUMN] = False
    return frame


class RepeatTracker:
    """Remembers the (user_id, event_time) keys of accepted rows across the whole file.

    Keys are kept as 64-bit hashes in one sorted array (8 bytes a row), which keeps memory bounded
    for files far larger than a chunk; the chance of two different readings colliding in a
    10-million-row file is about 3 in a million.
    """

    def __init__(self) -> None:
        self._seen = np.empty(0, dtype=np.uint64)

    def mark(self, frame: pd.DataFrame, candidates: np.ndarray, key: list[str]) -> None:
        """Set ``__repeat`` on candidate rows whose key was already taken, and record the new keys."""
        if not candidates.any() or not key:
            return
        parts = []
        for name in key:
            column = frame.loc[candidates, name if name != "event_time" else "event_time__ts"]
            parts.append(column)
        hashes = pd.util.hash_pandas_object(pd.concat(parts, axis=1), index=False).to_numpy(np.uint64)
        repeat_in_chunk = pd.Series(hashes).duplicated(keep="first").to_numpy()
        position = np.searchsorted(self._seen, hashes)
        position[position >= len(self._seen)] = 0
        seen_before = (self._seen[position] == hashes) if len(self._seen) else np.zeros(len(hashes), bool)
        repeat = repeat_in_chunk | seen_before
        frame.loc[candidates, REPEAT_COLUMN] = repeat
        fresh = np.sort(hashes[~repeat])
        merged = np.concatenate([self._seen, fresh])
        merged.sort(kind="stable")  # two sorted runs: a linear merge
        self._seen = merged


def processed_table(
    frame: pd.DataFrame, keep: np.ndarray, batch_id: str, ingested_at: datetime
) -> tuple[pa.Table, np.ndarray]:
    """Typed rows for Parquet, and each row's event date (UTC) as datetime64[D], its dt partition."""
    rows = frame.loc[keep]
    n = len(rows)
    columns: dict[str, pa.Array] = {
        "event_time": pa.array(rows["event_time__ts"], type=pa.timestamp("us", tz="UTC")),
        "user_id": pa.array(rows["user_id"].astype(object), type=pa.string()),
    }
    for name in INTEGER_COLUMNS:
        columns[name] = pa.array(rows[f"{name}__num"].to_numpy().round().astype(np.int32))
    for name in FLOAT_COLUMNS:
        columns[name] = pa.array(rows[f"{name}__num"].to_numpy(np.float64))
    columns["batch_id"] = pa.array([batch_id] * n, type=pa.string())
    columns["source_line"] = pa.array(rows[INDEX_COLUMN].to_numpy(np.int64))
    columns["ingested_at"] = pa.array([ingested_at] * n, type=pa.timestamp("us", tz="UTC"))
    table = pa.table(columns, schema=PROCESSED_SCHEMA)
    days = rows["event_time__ts"].dt.tz_convert(None).to_numpy().astype("datetime64[D]")
    return table, days


def rejected_table(
    raw: pa.Table,
    lines: np.ndarray,
    reasons: list[list[str]],
    positions: np.ndarray,
    batch_id: str,
    ingested_at: datetime,
    raw_lines: list[str] | None = None,
) -> pa.Table:
    """Rejected rows keep the file's text for every field, the line number and every reason."""
    picked = raw.take(pa.array(positions, type=pa.int64()))
    n = len(positions)
    columns: dict[str, pa.Array] = {name: picked.column(name) for name in REQUIRED_COLUMNS}
    columns["raw_line"] = pa.array(raw_lines if raw_lines is not None else [None] * n, type=pa.string())
    columns["reasons"] = pa.array(reasons, type=pa.list_(pa.string()))
    columns["batch_id"] = pa.array([batch_id] * n, type=pa.string())
    columns["source_line"] = pa.array(lines[positions] if n else [], type=pa.int64())
    columns["ingested_at"] = pa.array([ingested_at] * n, type=pa.timestamp("us", tz="UTC"))
    return pa.table(columns, schema=REJECTED_SCHEMA)
