"""The duplicate rule's data (``validate/duplicates.py``) and the frame it works on (``prepare``).

A row claims its (user_id, event_time) key only once it passed every row rule, so the first valid
reading wins, across chunks; event times compare as instants.
"""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pyarrow as pa
import pytest

from conftest import GOOD_ROW
from vitalflow.contract import REQUIRED_COLUMNS
from vitalflow.exceptions import ContractViolation
from vitalflow.validate import prepare
from vitalflow.validate.columns import REPEAT_COLUMN
from vitalflow.validate.duplicates import Repeats

KEY = ["user_id", "event_time"]


def frame(*rows: dict[str, str], first_line: int = 2):
    columns = {name: [r.get(name, GOOD_ROW[name]) for r in rows] for name in REQUIRED_COLUMNS}
    lines = np.arange(first_line, first_line + len(rows), dtype=np.int64)
    return prepare.check_frame(pa.table(columns), lines)


def marks(repeats: Repeats, chunk, candidates: list[bool] | None = None) -> list[bool]:
    repeats.mark(chunk, np.array(candidates if candidates is not None else [True] * len(chunk)))
    return chunk[REPEAT_COLUMN].tolist()


def test_the_first_of_a_key_is_kept_within_and_across_chunks() -> None:
    repeats = Repeats(KEY)
    first = frame({"user_id": "a"}, {"user_id": "b"}, {"user_id": "a"})
    assert marks(repeats, first) == [False, False, True]
    later = frame({"user_id": "b"}, {"user_id": "c"}, first_line=5)
    assert marks(repeats, later) == [True, False]


def test_event_times_are_instants() -> None:
    rows = [{"event_time": "2026-11-20T08:00:00Z"}, {"event_time": "2026-11-20T09:00:00+01:00"}]
    assert marks(Repeats(KEY), frame(*rows)) == [False, True]


def test_a_row_that_failed_a_rule_claims_nothing() -> None:
    repeats = Repeats(KEY)
    assert marks(repeats, frame({}, {}), candidates=[False, True]) == [False, False]
    assert marks(repeats, frame({})) == [True]  # the valid one claimed it


def test_no_key_marks_nothing() -> None:
    assert marks(Repeats([]), frame({}, {})) == [False, False]


def test_many_chunks_keep_every_key() -> None:
    """The sorted runs merge as they grow; every earlier key is still found."""
    repeats = Repeats(KEY)
    for start in range(0, 400, 40):
        chunk = frame(*({"user_id": f"u{i}"} for i in range(start, start + 40)))
        assert not any(marks(repeats, chunk))
    again = frame(*({"user_id": f"u{i}"} for i in range(0, 400, 37)))
    assert all(marks(repeats, again))


def test_derived_columns_are_null_where_the_field_is_missing() -> None:
    """One failure, one reason: an empty field fails "missing", not also "not a number"."""
    f = frame({"heart_rate": "", "temp_c": "abc"})
    assert f["heart_rate__is_number"].isna().all() and f["heart_rate__is_whole"].isna().all()
    assert f["temp_c__is_number"].tolist() == [False] and f["temp_c__is_exact"].isna().all()


def test_processed_rows_are_checked_against_the_contract_once_more() -> None:
    latest = datetime(2030, 1, 1, tzinfo=timezone.utc)
    f = frame({}, {"heart_rate": "300"})
    good, days = prepare.processed_table(f, np.array([True, False]), "b", latest, latest)
    assert good.column("heart_rate").to_pylist() == [72] and days.tolist() == [np.datetime64("2026-11-20")]
    with pytest.raises(ContractViolation, match="heart_rate values outside 20-250"):
        prepare.processed_table(f, np.array([True, True]), "b", latest, latest)
