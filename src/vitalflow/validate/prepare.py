"""Turn raw text rows into the frame the suite checks, and checked rows into typed Parquet tables.

The frame carries the trimmed text of each field (for format rules) and what
``vitalflow.validate.values`` makes of it: ``<col>__is_number``, ``<col>__num``, ``<col>__is_whole``
(whole-number columns), ``<col>__is_exact`` (float columns: a whole number in any range the
contract allows is exact already), ``event_time__is_timestamp`` and ``event_time__ts``. The boolean
columns are null where the field is missing, so one failure gets one reason. The typed table is built from the
very arrays the rules checked, and checked once more against the contract before it is written.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from vitalflow.contract import (
    EARLIEST_EVENT,
    FLOAT_COLUMNS,
    INTEGER_COLUMNS,
    MAX_FIELD_CHARS,
    NUMERIC_COLUMNS,
    PROCESSED_SCHEMA,
    RANGES,
    REJECTED_SCHEMA,
    REQUIRED_COLUMNS,
)
from vitalflow.exceptions import ContractViolation
from vitalflow.validate import values
from vitalflow.validate.columns import FITS_COLUMN, INDEX_COLUMN


def trimmed(table: pa.Table) -> pa.Table:
    """Trim white space; a blank field counts as empty."""
    columns = {}
    for name in REQUIRED_COLUMNS:
        col = pc.utf8_trim_whitespace(table.column(name))
        columns[name] = pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col)
    return pa.table(columns)


def check_frame(raw: pa.Table, lines: np.ndarray) -> pd.DataFrame:
    """The frame the suite validates: trimmed text plus the parsed values of every field."""
    clean = trimmed(raw)
    fits = np.ones(clean.num_rows, dtype=bool)
    columns = {}
    for name in REQUIRED_COLUMNS:
        text = clean.column(name)
        long = values.mask(pc.greater(pc.utf8_length(text), MAX_FIELD_CHARS))
        if long.any():  # cut, so no rule's buffers are sized by a 16 MB value
            fits &= ~long
            text = pc.if_else(pa.array(long), pc.utf8_slice_codeunits(text, 0, MAX_FIELD_CHARS), text)
        columns[name] = text
    clean = pa.table(columns)
    frame = clean.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get)
    frame.index = pd.Index(lines)  # unnamed on purpose: GE reports failing rows by this index
    for name in NUMERIC_COLUMNS:
        text = clean.column(name)
        numbers = values.parse_numbers(text)
        frame[f"{name}__is_number"] = _tristate(numbers.is_number, _present(text))
        frame[f"{name}__num"] = numbers.value
        if name in INTEGER_COLUMNS:
            frame[f"{name}__is_whole"] = _tristate(numbers.is_whole, numbers.is_number)
        else:
            frame[f"{name}__is_exact"] = _tristate(numbers.is_exact, numbers.is_number)
    text = clean.column("event_time")
    stamps = values.parse_timestamps(text)
    frame["event_time__is_timestamp"] = _tristate(~np.isnat(stamps), _present(text))
    frame["event_time__ts"] = pd.Series(stamps, index=frame.index, copy=False).dt.tz_localize("UTC")
    frame[FITS_COLUMN] = fits
    frame[INDEX_COLUMN] = lines
    return frame


def _present(text: pa.ChunkedArray) -> np.ndarray:
    return np.asarray(pc.is_valid(text).to_numpy(zero_copy_only=False), dtype=bool)


def _tristate(ok: np.ndarray, applies: np.ndarray) -> pd.arrays.BooleanArray:
    """True/False where the rule applies, null (skipped by the rule) elsewhere."""
    return pd.arrays.BooleanArray(np.asarray(ok, dtype=bool), ~np.asarray(applies, dtype=bool))


# The frame columns ``processed_table`` reads.
PROCESSED_FROM = ("event_time__ts", "user_id", *(f"{name}__num" for name in NUMERIC_COLUMNS), INDEX_COLUMN)


def processed_table(
    frame: pd.DataFrame, keep: np.ndarray, batch_id: str, ingested_at: datetime, latest: datetime
) -> tuple[pa.Table, np.ndarray]:
    """Typed rows for Parquet and each row's event date (UTC, datetime64[D]), its ``dt`` partition.

    Built from the arrays the rules checked; any value outside the contract is a bug in the suite
    or here, so it raises ContractViolation (the batch fails and nothing is committed).
    """
    n = int(keep.sum())
    stamps = frame["event_time__ts"].dt.tz_convert(None).to_numpy().astype("datetime64[us]")[keep]
    _check_stamps(stamps, latest)
    user = pa.array(frame["user_id"].array, type=pa.string()).filter(pa.array(keep))
    if user.null_count:
        raise ContractViolation("internal error: a processed row has no user_id; nothing was committed")
    columns: dict[str, pa.Array] = {
        "event_time": pa.array(stamps, type=pa.timestamp("us", tz="UTC")),
        "user_id": user,
    }
    for name in INTEGER_COLUMNS:
        number = frame[f"{name}__num"].to_numpy(np.float64)[keep]
        _check_range(name, number)
        if not np.all(np.floor(number) == number):
            raise ContractViolation(
                f"internal error: {name} has a fraction in a processed row; nothing was committed"
            )
        columns[name] = pa.array(number.astype(np.int32))
    for name in FLOAT_COLUMNS:
        number = frame[f"{name}__num"].to_numpy(np.float64)[keep]
        _check_range(name, number)
        columns[name] = pa.array(number)
    columns["batch_id"] = pa.repeat(pa.scalar(batch_id, pa.string()), n)
    columns["source_line"] = pa.array(frame[INDEX_COLUMN].to_numpy(np.int64)[keep])
    columns["ingested_at"] = pa.array(
        np.full(n, np.datetime64(_naive(ingested_at), "us")), pa.timestamp("us", tz="UTC")
    )
    table = pa.table(columns, schema=PROCESSED_SCHEMA)
    return table, stamps.astype("datetime64[D]")


def _check_range(name: str, number: np.ndarray) -> None:
    low, high = RANGES[name]
    if len(number) and not (np.all(np.isfinite(number)) and number.min() >= low and number.max() <= high):
        raise ContractViolation(
            f"internal error: {name} values outside {low}-{high} (or missing) reached the processed "
            "output; check the suite's rules for this column. Nothing was committed."
        )


def _check_stamps(stamps: np.ndarray, latest: datetime) -> None:
    if not len(stamps):
        return
    earliest = np.datetime64(EARLIEST_EVENT[:19], "us")
    if (
        np.isnat(stamps).any()
        or stamps.min() < earliest
        or stamps.max() > np.datetime64(_naive(latest), "us")
    ):
        raise ContractViolation(
            "internal error: an event_time outside the accepted window (or missing) reached the processed "
            "output; check the suite's event_time rules. Nothing was committed."
        )


def _naive(moment: datetime) -> datetime:
    """UTC wall time without a zone, the form numpy's datetime64 takes without a warning."""
    offset = moment.utcoffset()
    return (moment - offset).replace(tzinfo=None) if offset is not None else moment


def rejected_table(
    raw: pa.Table,
    lines: np.ndarray,
    reasons: pa.Array,
    positions: np.ndarray,
    batch_id: str,
    ingested_at: datetime,
) -> pa.Table:
    """Rejected rows keep the file's text for every field, the line number and every reason."""
    picked = raw.take(pa.array(positions, type=pa.int64()))
    n = len(positions)
    columns: dict[str, pa.Array] = {name: picked.column(name) for name in REQUIRED_COLUMNS}
    columns["raw_line"] = pa.nulls(n, type=pa.string())
    columns["reasons"] = pa.array(reasons, type=pa.list_(pa.string()))
    return _with_lineage(columns, lines[positions], batch_id, ingested_at)


def malformed_table(
    lines: np.ndarray, texts: list[str], reason: str, batch_id: str, ingested_at: datetime
) -> pa.Table:
    """Records that are not rows: no fields, the raw text of the record and its first line."""
    n = len(lines)
    columns: dict[str, pa.Array] = {name: pa.nulls(n, type=pa.string()) for name in REQUIRED_COLUMNS}
    columns["raw_line"] = pa.array(texts, type=pa.string())
    columns["reasons"] = pa.array([[reason]] * n, type=pa.list_(pa.string()))
    return _with_lineage(columns, lines, batch_id, ingested_at)


def _with_lineage(
    columns: dict[str, pa.Array], lines: np.ndarray, batch_id: str, ingested_at: datetime
) -> pa.Table:
    n = len(lines)
    columns["batch_id"] = pa.repeat(pa.scalar(batch_id, pa.string()), n)
    columns["source_line"] = pa.array(np.asarray(lines, dtype=np.int64))
    columns["ingested_at"] = pa.array(
        np.full(n, np.datetime64(_naive(ingested_at), "us")), pa.timestamp("us", tz="UTC")
    )
    return pa.table(columns, schema=REJECTED_SCHEMA)
