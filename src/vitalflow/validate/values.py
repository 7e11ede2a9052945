"""What "a number" and "a timestamp" mean in a vitals file: one definition, used to check and to store.

The suite's rules read the columns this module derives (``<col>__num``, ``<col>__is_number``,
``event_time__ts``, ...), so the value a rule accepts is, by construction, the value written to
Parquet: there is no second parser that could read ``٧٢`` or ``1e2`` differently.

* A number is ASCII decimal notation: optional sign, digits with an optional fraction (``72``,
  ``+72``, ``72.``, ``.5``, ``007``). No exponent (``1e2``), no digits of other scripts (``٧٢``,
  ``７２``), no ``inf``/``nan``, no thousands separators. Rules judge the number the *text* says,
  never a rounded one: ``250.0000000000000001`` is not whole and above 250. It is stored as a
  float64 (an int32 once whole), which holds every number of up to 15 significant digits exactly
  (read back, ``36.7`` is ``36.7``); where the float cannot hold the text's value, the rules see
  that value as an exact ``Decimal`` and ``is_exact`` is False.
* A timestamp is ISO-8601 date and time: ``YYYY-MM-DD``, ``T``/``t`` or a space, ``HH:MM``,
  optional ``:SS`` and a fraction of any length (rounded to the microsecond), optional ``Z``/``z``
  or ``±HH``, ``±HHMM``, ``±HH:MM`` (no offset means UTC). It must exist in the calendar: no
  ``02-30``, no ``24:00``, no leap second ``23:59:60``, offsets within ±18:00.

Each distinct string is parsed once (dictionary encoding), which is what keeps this fast: a
column of heart rates has a few hundred distinct values however many rows it has.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

NUMBER = r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$"
WHOLE = r"^[+-]?(?:[0-9]+(?:\.0*)?|\.0+)$"  # a number whose fraction, if any, is all zeros
EXACT_DIGITS = 15  # significant digits a float64 always holds (DBL_DIG): such text reads back the same
TIMESTAMP = (
    r"^(?P<y>[0-9]{4})-(?P<mo>[0-9]{2})-(?P<d>[0-9]{2})[Tt ](?P<h>[0-9]{2}):(?P<mi>[0-9]{2})"
    r"(?::(?P<s>[0-9]{2})(?:\.(?P<f>[0-9]+))?)?"
    r"(?P<z>[Zz]|(?P<sign>[+-])(?P<oh>[0-9]{2})(?::?(?P<om>[0-9]{2}))?)?$"
)
MAX_OFFSET_MINUTES = 18 * 60
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


@dataclass
class Numbers:
    """What the text of each row says as a number (missing or not a number: NaN and False)."""

    value: np.ndarray  # float64, or objects where a float cannot hold some text exactly (a Decimal there)
    is_number: np.ndarray
    is_whole: np.ndarray  # judged on the text: ``72.000`` is whole, ``72.0000000000000000001`` is not
    is_exact: np.ndarray  # the stored float64 reads back as the text's value


def parse_numbers(column: pa.Array | pa.ChunkedArray) -> Numbers:
    """Each distinct text parsed once; rows take their text's answers."""
    encoded = pc.dictionary_encode(_combined(column))
    words = encoded.dictionary
    ok = pc.fill_null(pc.match_substring_regex(words, NUMBER), False)
    parsed = pc.cast(pc.if_else(ok, words, pa.scalar(None, pa.string())), pa.float64())
    floats = parsed.to_numpy(zero_copy_only=False)
    is_number = mask(ok)
    value, is_exact = _exact(words, floats, is_number)
    return Numbers(
        value=_expand(value, encoded.indices, np.nan),
        is_number=_expand(is_number, encoded.indices, False),
        is_whole=_expand(mask(pc.match_substring_regex(words, WHOLE)), encoded.indices, False),
        is_exact=_expand(is_exact, encoded.indices, False),
    )


def _exact(words: pa.Array, floats: np.ndarray, is_number: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Values for the rules, and whether each float64 holds its text exactly.

    Text of up to EXACT_DIGITS significant digits always does; longer text is checked against the
    shortest form of its float (``repr``), and where that is another number the rules get the
    text's own value as a Decimal. Python runs only for that rare text.
    """
    digits = pc.replace_substring_regex(pc.replace_substring_regex(words, r"[+.-]", ""), r"^0+", "")
    short = mask(pc.less_equal(pc.utf8_length(digits), EXACT_DIGITS))
    is_exact = is_number & short
    inexact: dict[int, Decimal] = {}
    for i in np.flatnonzero(is_number & ~short).tolist():
        text, stored = Decimal(words[i].as_py()), float(floats[i])
        if math.isfinite(stored) and Decimal(repr(stored)) == text:
            is_exact[i] = True
        else:
            inexact[i] = text
    if not inexact:
        return floats, is_exact
    value = floats.astype(object)
    for i, text in inexact.items():
        value[i] = text
    return value, is_exact


# The shape nearly every device writes: fixed positions, no offset. Parsed by slicing, which is
# several times faster than the general pattern; both give the same fields for these strings.
_PLAIN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?[Zz]?$"
_FIELDS = ("y", "mo", "d", "h", "mi", "s")
_SLICES = {"y": (0, 4), "mo": (5, 7), "d": (8, 10), "h": (11, 13), "mi": (14, 16), "s": (17, 19)}


def parse_timestamps(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """UTC instants as datetime64[us]; NaT where the text is missing or not a real ISO-8601 time."""
    text = _combined(column)
    n = len(text)
    if n == 0:
        return np.empty(0, dtype="datetime64[us]")
    plain = mask(pc.match_substring_regex(text, _PLAIN))
    parts: dict[str, np.ndarray] = {name: np.zeros(n) for name in (*_FIELDS, "offset")}
    micros = np.zeros(n, dtype=np.int64)
    valid = plain.copy()
    if plain.any():
        idx = np.flatnonzero(plain)
        _plain_fields(text, idx, parts, micros)
    rest = np.flatnonzero(~plain & mask(pc.is_valid(text)))
    if len(rest):
        sub = text.take(pa.array(rest))
        found = pc.extract_regex(sub, TIMESTAMP)  # null where the pattern does not match
        hit = ~mask(pc.is_null(found))
        for name in _FIELDS:
            parts[name][rest] = _ints(pc.struct_field(found, name), default=0)
        micros[rest] = _fraction_micros(pc.struct_field(found, "f"))
        hours = _ints(pc.struct_field(found, "oh"), default=0)
        minutes = _ints(pc.struct_field(found, "om"), default=0)
        sign = pc.struct_field(found, "sign").to_numpy(zero_copy_only=False)
        valid_offset = (minutes <= 59) & (hours * 60 + minutes <= MAX_OFFSET_MINUTES)
        parts["offset"][rest] = np.where(sign == "-", -1, 1) * (hours * 60 + minutes)
        valid[rest] = hit & valid_offset
    return _instants(parts, micros, valid)


def _plain_fields(text: pa.Array, idx: np.ndarray, parts: dict[str, np.ndarray], micros: np.ndarray) -> None:
    """Fields of strings known to match ``_PLAIN``, read as digits at fixed byte offsets.

    The pattern guarantees ASCII digits at each position used here, so the bytes can be read
    straight from the Arrow buffers (no per-field string kernels).
    """
    offset_type = np.int64 if pa.types.is_large_string(text.type) else np.int32
    buffers = text.buffers()
    offsets = np.frombuffer(buffers[1], dtype=offset_type)[text.offset : text.offset + len(text) + 1]
    data = np.frombuffer(buffers[2], dtype=np.uint8)
    start = offsets[idx].astype(np.int64)
    length = offsets[idx + 1].astype(np.int64) - start

    def digits(at: int, count: int) -> np.ndarray:
        value = np.zeros(len(idx), dtype=np.int64)
        for k in range(at, at + count):
            value = value * 10 + (data[start + k].astype(np.int64) - 48)
        return value

    for name, (first, stop) in _SLICES.items():
        parts[name][idx] = digits(first, stop - first)
    # After "SS" come an optional ".fraction" and an optional zone letter.
    zone = np.zeros(len(idx), dtype=bool)
    has_tail = length > 19
    last = data[np.where(has_tail, start + length - 1, start)]
    zone = has_tail & ((last == ord("Z")) | (last == ord("z")))
    frac_len = np.where(length > 20, length - 20 - zone, 0)
    seventh = np.zeros(len(idx), dtype=np.int64)
    for k in range(7):  # the first seven digits, padded with zeros
        present = frac_len > k
        digit = np.where(present, data[np.where(present, start + 20 + k, start)].astype(np.int64) - 48, 0)
        seventh = seventh * 10 + digit
    micros[idx] = (seventh + 5) // 10


def _instants(parts: dict[str, np.ndarray], micros: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Check the calendar and clock, then build UTC instants from the fields."""
    year, month, day = parts["y"], parts["mo"], parts["d"]
    hour, minute, second = parts["h"], parts["mi"], parts["s"]
    valid = valid & (month >= 1) & (month <= 12) & (year >= 1)
    m = np.where(valid, month, 1).astype(np.int64)
    y = np.where(valid, year, 1970).astype(np.int64)
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    days_in = _DAYS_IN_MONTH[m] + ((m == 2) & leap)
    valid &= (day >= 1) & (day <= days_in) & (hour <= 23) & (minute <= 59) & (second <= 59)
    d = np.where(valid, day, 1).astype(np.int64)
    dates = (
        (y - 1970).astype("datetime64[Y]").astype("datetime64[M]") + (m - 1).astype("timedelta64[M]")
    ).astype("datetime64[D]") + (d - 1).astype("timedelta64[D]")
    clock = (
        np.where(valid, hour, 0).astype(np.int64) * 3_600_000_000
        + np.where(valid, minute, 0).astype(np.int64) * 60_000_000
        + np.where(valid, second, 0).astype(np.int64) * 1_000_000
        + np.where(valid, micros, 0)
        - np.where(valid, parts["offset"], 0).astype(np.int64) * 60_000_000
    )
    out = dates.astype("datetime64[us]") + clock.astype("timedelta64[us]")
    out[~valid] = np.datetime64("NaT")
    return out


def _ints(text: pa.Array, default: int = 0) -> np.ndarray:
    """Digit strings as numbers; missing (or empty) as ``default``."""
    cleaned = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
    values = pc.fill_null(pc.cast(cleaned, pa.int64()), default)
    return values.to_numpy(zero_copy_only=False).astype(np.float64)


def mask(flags: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A boolean Arrow column as a numpy mask; null counts as False."""
    return np.asarray(pc.fill_null(flags, False).to_numpy(zero_copy_only=False), dtype=bool)


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


def _expand(values: np.ndarray, indices: pa.Array, missing: float | bool) -> np.ndarray:
    """Per-row values from per-word ones; ``missing`` where the row has no text."""
    idx = indices.to_numpy(zero_copy_only=False)
    if indices.null_count:
        mask = np.asarray(pc.is_null(indices).to_numpy(zero_copy_only=False), dtype=bool)
        idx = np.where(mask, 0, idx).astype(np.int64)
        out = values[idx] if len(values) else np.full(len(idx), missing)
        out[mask] = missing
        return out
    return values[idx.astype(np.int64)] if len(values) else np.full(len(idx), missing)
