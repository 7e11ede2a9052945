"""The one parser of numbers and timestamps (``validate/values.py``), value by value.

Numbers are judged on their text: whole or not, and in range or not, is what the digits say, never
what a float rounded them to; ``value`` is a float64 where one holds the text exactly, else the
exact Decimal (so the range rule compares that), and ``is_exact`` says which.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pytest

from vitalflow.validate import values


def parse(*texts: str | None) -> values.Numbers:
    return values.parse_numbers(pa.array(list(texts), pa.string()))


@pytest.mark.parametrize(
    ("text", "value", "whole", "exact"),
    [
        ("72", 72.0, True, True),
        ("+72", 72.0, True, True),
        ("72.", 72.0, True, True),
        ("72.000", 72.0, True, True),
        ("0072", 72.0, True, True),  # leading zeros
        ("-0", 0.0, True, True),
        (".5", 0.5, False, True),
        ("36.7", 36.7, False, True),  # not a binary fraction, but it reads back as 36.7
        ("36.6000000000000000000", 36.6, False, True),  # trailing zeros are no precision
        ("36.699999999999996", 36.699999999999996, False, True),  # 17 digits a float holds
        ("0.000000000000000000000000000001", 1e-30, False, True),
        ("72.00000000000000000001", Decimal("72.00000000000000000001"), False, False),
        ("250.0000000000000001", Decimal("250.0000000000000001"), False, False),
        ("19.999999999999999999", Decimal("19.999999999999999999"), False, False),
        ("100.0000000000000000000001", Decimal("100.0000000000000000000001"), False, False),
        ("45.00000000000000001", Decimal("45.00000000000000001"), False, False),
        ("9" * 40, Decimal("9" * 40), True, False),  # a huge whole number: out of any range, exactly
        ("72.000000000000000000000000000001", Decimal("72.000000000000000000000000000001"), False, False),
    ],
)
def test_a_number_is_what_its_text_says(text: str, value: object, whole: bool, exact: bool) -> None:
    numbers = parse(text)
    assert numbers.is_number.tolist() == [True]
    got = numbers.value[0]
    assert got == value and isinstance(got, Decimal) == isinstance(value, Decimal), got
    assert numbers.is_whole.tolist() == [whole]
    assert numbers.is_exact.tolist() == [exact]


@pytest.mark.parametrize("text", ["1e2", "٧٢", "７２", "inf", "nan", "0x48", "1,000", ".", "+", "- 1", "72a"])
def test_not_numbers(text: str) -> None:
    numbers = parse(text)
    assert numbers.is_number.tolist() == [False]
    assert np.isnan(numbers.value[0])
    assert numbers.is_whole.tolist() == numbers.is_exact.tolist() == [False]


def test_range_comparisons_of_inexact_text_are_exact() -> None:
    """What the range rule relies on: the value it compares sits where the digits put it."""
    low, high = parse("19.999999999999999999", "250.0000000000000001").value
    assert low < 20 and high > 250
    assert float(low) == 20.0 and float(high) == 250.0  # what a float would have said


def test_each_distinct_text_is_parsed_once_and_rows_keep_their_order() -> None:
    numbers = parse("72", None, "abc", "72", "250.0000000000000001", "72")
    assert numbers.value.dtype == object  # one inexact text: the column holds Decimals there
    assert numbers.value[[0, 3, 5]].tolist() == [72.0, 72.0, 72.0]
    assert numbers.is_number.tolist() == [True, False, False, True, True, True]
    assert parse("72", "36.7").value.dtype == np.float64  # the usual case: plain floats


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("2026-11-20T08:00:00Z", "2026-11-20T08:00:00"),
        ("2026-11-20 09:30+0130", "2026-11-20T08:00:00"),
        ("2026-11-20T08:00:00.9999996Z", "2026-11-20T08:00:01"),
        ("2024-02-29T08:00:00-05", "2024-02-29T13:00:00"),
        ("2026-11-20t08:00", "2026-11-20T08:00:00"),
    ],
)
def test_timestamps(text: str, stored: str) -> None:
    (got,) = values.parse_timestamps(pa.array([text]))
    assert got == np.datetime64(datetime.fromisoformat(stored), "us")


@pytest.mark.parametrize(
    "text",
    ["2026-02-30T08:00:00Z", "2026-11-20T24:00:00Z", "2016-12-31T23:59:60Z", "2026-11-20T08:00+19:00", ""],
)
def test_not_timestamps(text: str) -> None:
    (got,) = values.parse_timestamps(pa.array([text]))
    assert np.isnat(got)
