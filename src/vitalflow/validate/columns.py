"""Names of the columns the validation frame adds to a file's fields: the one place that spells them.

``prepare.check_frame`` derives ``<field>__<what>`` columns from each field's text (``heart_rate__num``,
``event_time__ts``); the suite's rules read them, and Data Docs shows every one of them as the field
it comes from. Columns that start with ``__`` belong to the row as a whole.
"""

from __future__ import annotations

INDEX_COLUMN = "__line"  # the source line number: how GE names a failing row
REPEAT_COLUMN = "__repeat"  # True where the row repeats an earlier valid reading's key (``duplicates``)
FITS_COLUMN = "__fields_fit"  # False where a field is longer than any valid value


def source_field(column: str | None) -> str | None:
    """The file's field a frame column stands for (``heart_rate__num`` -> ``heart_rate``); None for a
    column of the whole row (``__repeat``) or no column."""
    if not column or column.startswith("__"):
        return None
    return column.split("__", 1)[0]


COLUMN_KEYS = ("column", "column_A", "column_B")  # an expectation's arguments that name one column
PRIVATE_FIELDS = frozenset({"user_id"})  # their values never leave the rejected table (not even masked)


def reads_private(kwargs: dict[str, object]) -> bool:
    """Whether an expectation's columns stand for a private field."""
    names = [kwargs.get(k) for k in COLUMN_KEYS]
    return any(source_field(n) in PRIVATE_FIELDS for n in names if isinstance(n, str))
