"""What "a number" and "a timestamp" mean in a vitals file: one definition, used to check and to store.

The suite's rules read the columns this module derives (``<col>__num``, ``<col>__is_number``,
``event_time__ts``, ...), so the value a rule accepts is, by construction, the value written to
Parquet: there is no second parser that could read ``٧٢`` or ``1e2`` differently.

* A number is ASCII decimal notation: optional sign, digits with an optional fraction (``72``,
  ``+72``, ``72.``, ``.5``, ``007``). No exponent (``1e2``), no digits of other scripts (``٧٢``,
  ``７２``), no ``inf``/``nan``, no thousands separators.
* A timestamp is ISO-8601 date and time: ``YYYY-MM-DD``, ``T``/``t`` or a space, ``HH:MM``,
  optional ``:SS`` and a fraction of any length (rounded to the microsecond), optional ``Z``/``z``
  or ``±HH``, ``±HHMM``, ``±HH:MM`` (no offset means UTC). It must exist in the calendar: no
  ``02-30``, no ``24:00``, no leap second ``23:59:60``, offsets within ±18:00.

Each distinct string is parsed once (dictionary encoding), which is what keeps this fast: a
column of heart rates has a few hundred distinct values however many rows it has.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

NUMBER = r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$"
TIMESTAMP = (
    r"^(?P<y>[0-9]{4})-(?P<mo>[0-9]{2})-(?P<d>[0-9]{2})[Tt ](?P<h>[0-9]{2}):(?P<mi>[0-9]{2})"
    r"(?::(?P<s>[0-9]{2})(?:\.(?P<f>[0-9]+))?)?"
    r"(?P<z>[Zz]|(?P<sign>[+-])(?P<oh>[0-9]{2})(?::?(?P<om>[0-9]{2}))?)?$"
)
MAX_OFFSET_MINUTES = 18 * 60
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def parse_numbers(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Float64 values of a string column; NaN where the text is missing or not a number."""
    encoded = pc.dictionary_encode(_combined(column))
    words = encoded.dictionary
    ok = pc.fill_null(pc.match_substring_regex(words, NUMBER), False)
    parsed = pc.cast(pc.if_else(ok, words, pa.scalar(None, pa.string())), pa.float64())
    values = parsed.to_numpy(zero_copy_only=False)
    return _expand(values, encoded.indices, np.nan)


def whole(values: np.ndarray) -> np.ndarray:
    """True where a parsed number has no fraction (``72.0`` is whole); False for NaN."""
    with np.errstate(invalid="ignore"):
        return np.isfinite(values) & (np.floor(values) == values)


def parse_timestamps(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """UTC instants as datetime64[us]; NaT where the text is missing or not a real ISO-8601 time."""
    text = _combined(column)
    parts = pc.extract_regex(text, TIMESTAMP)  # null where the pattern does not match
    n = len(text)
    if n == 0:
        return np.empty(0, dtype="datetime64[us]")
    valid = ~np.asarray(pc.is_null(parts).to_numpy(zero_copy_only=False), dtype=bool)

    def field(name: str, default: int = 0) -> np.ndarray:
        raw = pc.struct_field(parts, name)
        raw = pc.if_else(pc.equal(raw, ""), pa.scalar(None, pa.string()), raw)
        return pc.cast(raw, pa.int64()).to_numpy(zero_copy_only=False).astype(np.float64)

    year, month, day = field("y"), field("mo"), field("d")
    hour, minute, second = field("h"), field("mi"), field("s")
    second = np.where(np.isnan(second), 0, second)
    frac = pc.struct_field(parts, "f")
    micros = _fraction_micros(frac)
    sign = pc.struct_field(parts, "sign").to_numpy(zero_copy_only=False)
    off_h, off_m = field("oh"), field("om")
    off_h = np.where(np.isnan(off_h), 0, off_h)
    off_m = np.where(np.isnan(off_m), 0, off_m)
    with np.errstate(invalid="ignore"):
        valid &= (month >= 1) & (month <= 12)
        m = np.where(valid, month, 1).astype(np.int64)
        y = np.where(valid, year, 2000).astype(np.int64)
        leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
        days_in = _DAYS_IN_MONTH[m] + ((m == 2) & leap)
        valid &= (day >= 1) & (day <= days_in) & (year >= 1)
        valid &= (hour <= 23) & (minute <= 59) & (second <= 59) & (off_m <= 59)
        offset = off_h * 60 + off_m
        valid &= offset <= MAX_OFFSET_MINUTES
    offset = np.where(sign == "-", -offset, offset)
    y = np.where(valid, year, 1970).astype(np.int64)
    m = np.where(valid, month, 1).astype(np.int64)
    d = np.where(valid, day, 1).astype(np.int64)
    dates = (
        (y - 1970).astype("datetime64[Y]").astype("datetime64[M]") + (m - 1).astype("timedelta64[M]")
    ).astype("datetime64[D]") + (d - 1).astype("timedelta64[D]")
    clock = (
        np.where(valid, hour, 0).astype(np.int64) * 3_600_000_000
        + np.where(valid, minute, 0).astype(np.int64) * 60_000_000
        + np.where(valid, second, 0).astype(np.int64) * 1_000_000
        + np.where(valid, micros, 0)
        - np.where(valid, offset, 0).astype(np.int64) * 60_000_000
    )
    out = dates.astype("datetime64[us]") + clock.astype("timedelta64[us]")
    out[~valid] = np.datetime64("NaT")
    return out


def _fraction_micros(frac: pa.Array) -> np.ndarray:
    """Fractions of any length, rounded half-up to whole microseconds (may reach 1_000_000)."""
    filled = pc.fill_null(frac, "")
    padded = pc.utf8_rpad(pc.utf8_slice_codeunits(filled, 0, 7), 7, "0")
    seventh = pc.cast(padded, pa.int64()).to_numpy(zero_copy_only=False)  # first 7 digits
    return (seventh + 5) // 10


def _combined(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(column, pa.ChunkedArray):
        return column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    return column


def _expand(values: np.ndarray, indices: pa.Array, missing: float) -> np.ndarray:
    idx = indices.to_numpy(zero_copy_only=False)
    if indices.null_count:
        mask = np.asarray(pc.is_null(indices).to_numpy(zero_copy_only=False), dtype=bool)
        idx = np.where(mask, 0, idx).astype(np.int64)
        out = values[idx] if len(values) else np.full(len(idx), missing)
        out[mask] = missing
        return out
    return values[idx.astype(np.int64)] if len(values) else np.full(len(idx), missing)
