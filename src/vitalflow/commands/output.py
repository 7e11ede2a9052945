"""Query results as JSON lines, CSV or a terminal table, each value rendered after its SQL type.

JSON keeps types a program can rely on: integers and decimals are numbers (decimals with their
exact digits, not through a float), booleans are booleans, timestamps and dates are ISO-8601
strings, intervals ISO-8601 durations, arrays and rows nested JSON. NaN and infinities have no JSON
form and become null. CSV is text by nature; values are rendered the same way, and text that a
spreadsheet would run as a formula is guarded as in the email report. The terminal table shows
data as plain text: no Rich markup and no control characters from the data reach the terminal.
"""

from __future__ import annotations

import base64
import csv
import json
import math
import re
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TextIO

import pyarrow as pa
from rich.console import Console
from rich.table import Table
from rich.text import Text

from vitalflow.spreadsheet import inert

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def write_json_lines(result: pa.Table, out: TextIO) -> None:
    """One JSON object per row, keys in column order."""
    names = [json.dumps(name) for name in result.column_names]
    types = [field.type for field in result.schema]
    for row in _rows(result):
        cells = (f"{name}: {_json(value, kind)}" for name, value, kind in zip(names, row, types))
        out.write("{" + ", ".join(cells) + "}\n")


def write_csv(result: pa.Table, out: TextIO) -> None:
    """RFC 4180: a header and one CRLF-ended record per row; text guarded against spreadsheet formulas.

    CRLF, not LF, because only then does Python's csv module quote a value holding a lone carriage
    return on every supported version; unquoted, it would split the record in two.
    """
    types = [field.type for field in result.schema]
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([inert(name) for name in result.column_names])
    for row in _rows(result):
        writer.writerow([_csv_cell(value, kind) for value, kind in zip(row, types)])


def print_table(result: pa.Table, console: Console) -> None:
    types = [field.type for field in result.schema]
    table = Table()
    for name in result.column_names:
        table.add_column(Text(_visible(name)))
    for row in _rows(result):
        table.add_row(*(Text(_visible(_text(value, kind))) for value, kind in zip(row, types)))
    console.print(table)
    console.print(f"{result.num_rows} row(s)")


def _rows(result: pa.Table) -> Iterator[tuple[Any, ...]]:
    """Rows as tuples (not dicts, which would merge two columns of the same name)."""
    for batch in result.to_batches(max_chunksize=10_000):
        yield from zip(*(column.to_pylist() for column in batch.columns))


def _json(value: Any, kind: pa.DataType) -> str:
    if value is None:
        return "null"
    if pa.types.is_boolean(kind):
        return "true" if value else "false"
    if pa.types.is_integer(kind):
        return str(int(value))
    if pa.types.is_decimal(kind):
        return _decimal(value)
    if pa.types.is_floating(kind):
        return repr(float(value)) if math.isfinite(value) else "null"
    if pa.types.is_map(kind):
        pairs = (f"{json.dumps(_text(k, kind.key_type))}: {_json(v, kind.item_type)}" for k, v in value)
        return "{" + ", ".join(pairs) + "}"
    if _is_list(kind):
        return "[" + ", ".join(_json(item, kind.value_type) for item in value) + "]"
    if pa.types.is_struct(kind):
        fields = (f"{json.dumps(f.name)}: {_json(value.get(f.name), f.type)}" for f in kind)
        return "{" + ", ".join(fields) + "}"
    return json.dumps(_text(value, kind))


def _csv_cell(value: Any, kind: pa.DataType) -> str:
    text = _text(value, kind)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or _is_nested(kind):
        return inert(text)  # only text can hold a formula; -5 stays a number
    return text


def _text(value: Any, kind: pa.DataType) -> str:
    """One value as text, for CSV, the table, and the string forms in JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return _decimal(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        return repr(value) if math.isfinite(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return _duration(0, value.days, (value.seconds * 1_000_000 + value.microseconds) * 1000)
    if isinstance(value, pa.MonthDayNano):
        return _duration(value.months, value.days, value.nanoseconds)
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    if _is_nested(kind):
        return _json(value, kind)
    return str(value)


def _decimal(value: Decimal) -> str:
    """Exact digits as a JSON number: no exponent, no float rounding."""
    if not value.is_finite():
        return "null"
    return format(value, "f")


def _duration(months: int, days: int, nanoseconds: int) -> str:
    """ISO-8601 duration, e.g. P1Y2M3DT4H5M6.5S; a negative component carries a minus sign."""
    month_sign = "-" if months < 0 else ""
    years, months = divmod(abs(months), 12)
    time_sign = "-" if nanoseconds < 0 else ""
    seconds, nanos = divmod(abs(nanoseconds), 1_000_000_000)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    second_text = f"{seconds}.{nanos:09d}".rstrip("0") if nanos else str(seconds)
    date_part = (
        (f"{month_sign}{years}Y" if years else "")
        + (f"{month_sign}{months}M" if months else "")
        + (f"{days}D" if days else "")
    )
    time_part = (
        (f"{time_sign}{hours}H" if hours else "")
        + (f"{time_sign}{minutes}M" if minutes else "")
        + (f"{time_sign}{second_text}S" if seconds or nanos else "")
    )
    if not date_part and not time_part:
        return "PT0S"
    return "P" + date_part + ("T" + time_part if time_part else "")


def _is_list(kind: pa.DataType) -> bool:
    return pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind)


def _is_nested(kind: pa.DataType) -> bool:
    return _is_list(kind) or pa.types.is_struct(kind) or pa.types.is_map(kind)


def _visible(text: str) -> str:
    """Control characters (e.g. terminal escape sequences from raw rows) shown as escapes."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
