"""Great Expectations sees each distinct row of a rule group once per batch, not once per row.

A group's expectations read the columns derived from one or two fields, and every derived column
is a function of its field's text alone (``prepare.check_frame``). So for a rule that asks a
question of each row by itself (a *row-wise* rule: ``expect_column_values_to_be_between``, not
``..._to_be_unique``), every row holding the same text gets the same answer: a column of heart
rates has a few hundred distinct values in a file of millions of rows. Each chunk, the group's
distinct keys are looked up in what this batch already knows; GE validates only a frame of the
keys it has not seen, and the chunk's result is built from the answers per key, weighted by how
many rows hold each key: the same failing lines, counts and samples (the values of the first
``SAMPLE`` failing rows) GE gives for the full frame.

A group falls back to GE on the chunk's full frame (as without this module) when a rule is not
row-wise, when its keys are nearly all distinct (event times: memory would grow with the file),
or when GE's own counts on the distinct frame disagree with how the weights are computed here.
``tests/test_distinct_rows.py`` compares both ways expectation by expectation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from great_expectations.core.expectation_validation_result import (
    ExpectationSuiteValidationResult,
    ExpectationValidationResult,
)

from vitalflow.validate.results import SAMPLE, suite_result

# Rules whose answer for a row depends on that row's values only (GE 1.8.1's map expectations,
# minus those comparing rows with each other, e.g. uniqueness or increasing values).
ROW_WISE = frozenset(
    {
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_null",
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_not_be_in_set",
        "expect_column_values_to_be_between",
        "expect_column_values_to_match_regex",
        "expect_column_values_to_not_match_regex",
        "expect_column_values_to_match_regex_list",
        "expect_column_values_to_not_match_regex_list",
        "expect_column_values_to_match_like_pattern",
        "expect_column_values_to_not_match_like_pattern",
        "expect_column_values_to_match_like_pattern_list",
        "expect_column_values_to_not_match_like_pattern_list",
        "expect_column_values_to_match_strftime_format",
        "expect_column_values_to_be_dateutil_parseable",
        "expect_column_values_to_be_json_parseable",
        "expect_column_values_to_match_json_schema",
        "expect_column_value_lengths_to_be_between",
        "expect_column_value_lengths_to_equal",
        "expect_column_pair_values_a_to_be_greater_than_b",
        "expect_column_pair_values_to_be_equal",
        "expect_column_pair_values_to_be_in_set",
        "expect_select_column_values_to_be_unique_within_record",
        "expect_multicolumn_sum_to_equal",
    }
)
MAX_KEYS = 50_000  # distinct keys a group remembers; beyond, GE checks its full frames
MAX_KEY_COLUMNS = 3  # combined key codes must fit in 64 bits


def row_wise(types: list[str]) -> bool:
    return all(kind in ROW_WISE for kind in types)


@dataclass
class GroupMemo:
    """One rule group's answers for one batch (its suite and parameters), one row per distinct key."""

    key_columns: list[str]
    direct: bool = False  # GE checks this group's full frames from now on
    index: dict[Any, int] = field(default_factory=dict)  # key -> its row in the arrays below
    failed: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=bool))  # key x result
    missing: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=bool))
    values: list[dict[int, Any]] = field(default_factory=list)  # per result: key row -> GE's value
    template: ExpectationSuiteValidationResult | None = None

    @classmethod
    def for_columns(cls, key_columns: list[str]) -> GroupMemo:
        return cls(key_columns=key_columns, direct=not key_columns or len(key_columns) > MAX_KEY_COLUMNS)

    def stop_remembering(self) -> None:
        """From now on GE checks this group's full frames; what it remembered is let go."""
        self.direct, self.index, self.values, self.template = True, {}, [], None
        self.failed = self.missing = np.zeros((0, 0), dtype=bool)


Validate = Callable[[pd.DataFrame], ExpectationSuiteValidationResult]


def check_group(
    memo: GroupMemo, frame: pd.DataFrame, lines: np.ndarray, validate: Validate
) -> tuple[ExpectationSuiteValidationResult, list[np.ndarray] | None]:
    """The group's result for this chunk, and its failing lines per result (None: read them from it).

    ``frame`` holds the group's columns, indexed by line number; ``validate`` runs GE on a frame.
    """
    if memo.direct or not len(frame):
        return validate(frame), None
    keys, rows = _keys(memo.key_columns, frame)
    ids = np.array([memo.index.get(key, -1) for key in keys] if keys is not None else [], dtype=np.int64)
    new = ids < 0
    if keys is None or len(memo.index) + int(new.sum()) > MAX_KEYS:
        memo.stop_remembering()
        return validate(frame), None
    if new.any():
        _, first = np.unique(rows, return_index=True)  # each key's first row (every key has one)
        picked = frame.iloc[first[new]]
        picked.index = pd.RangeIndex(len(picked))
        learned = _learn(memo, validate(picked), picked, [k for k, n in zip(keys, new) if n])
        if learned is None:  # GE's counts on the distinct rows are not the ones weights would give
            memo.stop_remembering()
            return validate(frame), None
        ids[new] = learned
    weighted = _weighted(memo, ids[rows], lines)
    return weighted if weighted is not None else (validate(frame), None)


def _keys(columns: list[str], frame: pd.DataFrame) -> tuple[list[Any] | None, np.ndarray]:
    """The chunk's distinct keys (a value, or a tuple of values; None for missing) and each row's.

    None when a key column is not in the frame or the keys are nearly all distinct.
    """
    codes = np.zeros(len(frame), dtype=np.int64)
    uniques: list[list[Any]] = []
    for name in columns:
        if name not in frame.columns:
            return None, codes
        part, found = pd.factorize(frame[name], use_na_sentinel=False)
        if len(found) > MAX_KEYS:
            return None, codes
        codes = codes * len(found) + part
        uniques.append([None if pd.isna(v) else v for v in found])
    rows, combined = pd.factorize(codes)
    if len(combined) > MAX_KEYS:
        return None, codes
    if len(uniques) == 1:
        return [uniques[0][c] for c in combined], rows
    keys = []
    for code in combined.tolist():
        key = []
        for values in reversed(uniques):
            code, at = divmod(code, len(values))
            key.append(values[at])
        keys.append(tuple(reversed(key)))
    return keys, rows


def _learn(
    memo: GroupMemo, result: ExpectationSuiteValidationResult, picked: pd.DataFrame, keys: list[Any]
) -> range | None:
    """Record GE's answers for the new keys (the rows of ``picked``, in order); return their rows.

    None, recording nothing, where GE's result is not what weighting would give: its rules changed
    order, or its counts of failing or left-out rows are not those of the rows it named.
    """
    evrs = result.results
    if memo.template is not None and _order(memo.template) != _order(result):
        return None
    failed = np.zeros((len(keys), len(evrs)), dtype=bool)
    missing = np.zeros((len(keys), len(evrs)), dtype=bool)
    found: list[np.ndarray] = []
    for i, evr in enumerate(evrs):
        details = evr.result or {}
        found.append(np.array([int(n) for n in details.get("unexpected_index_list") or []], dtype=np.int64))
        failed[found[i], i] = True
        left_out = _missing(evr, picked)
        if left_out is None or int(details.get("unexpected_count") or 0) != len(found[i]):
            return None
        if "missing_count" in details and int(details.get("missing_count") or 0) != int(left_out.sum()):
            return None
        missing[:, i] = left_out
    start = len(memo.index)
    memo.values = memo.values or [{} for _ in evrs]
    for i, evr in enumerate(evrs):  # GE lists the values of its first 200 failing rows
        listed = (evr.result or {}).get("unexpected_list") or []
        memo.values[i].update((start + row, value) for row, value in zip(found[i].tolist(), listed))
    memo.failed = np.concatenate([memo.failed.reshape(-1, len(evrs)), failed])
    memo.missing = np.concatenate([memo.missing.reshape(-1, len(evrs)), missing])
    memo.index.update((key, start + n) for n, key in enumerate(keys))
    memo.template = result
    return range(start, start + len(keys))


def _order(result: ExpectationSuiteValidationResult) -> list[Any]:
    return [
        (e.expectation_config.type, e.expectation_config.kwargs)
        for e in result.results
        if e.expectation_config
    ]


def _missing(evr: ExpectationValidationResult, frame: pd.DataFrame) -> np.ndarray | None:
    """Rows GE leaves out of a rule (its ``missing_count``): nulls, or rows ``ignore_row_if`` names.

    None for a rule whose columns are not known here."""
    config = evr.expectation_config
    kwargs = config.kwargs if config else {}
    if kwargs.get("column"):
        if config is not None and config.type in (
            "expect_column_values_to_not_be_null",
            "expect_column_values_to_be_null",
        ):
            return np.zeros(len(frame), dtype=bool)
        return np.asarray(frame[kwargs["column"]].isna(), dtype=bool)
    if kwargs.get("column_A"):
        a = np.asarray(frame[kwargs["column_A"]].isna(), dtype=bool)
        b = np.asarray(frame[kwargs["column_B"]].isna(), dtype=bool)
        how = kwargs.get("ignore_row_if") or "both_values_are_missing"
        if how == "both_values_are_missing":
            return a & b
        if how == "either_value_is_missing":
            return a | b
        return np.zeros(len(frame), dtype=bool)
    names = list(kwargs.get("column_list") or [])
    if not names:
        return None
    nulls = np.column_stack([np.asarray(frame[n].isna(), dtype=bool) for n in names])
    how = kwargs.get("ignore_row_if") or "all_values_are_missing"
    if how == "all_values_are_missing":
        return np.asarray(nulls.all(axis=1), dtype=bool)
    if how == "any_value_is_missing":
        return np.asarray(nulls.any(axis=1), dtype=bool)
    return np.zeros(len(frame), dtype=bool)


def _weighted(
    memo: GroupMemo, ids: np.ndarray, lines: np.ndarray
) -> tuple[ExpectationSuiteValidationResult, list[np.ndarray]] | None:
    """The chunk's result from the answers per key (``ids``: each row's key); None when a sampled
    failing row's value was never listed by GE (it lists 200 values at a time): GE checks the chunk."""
    template = memo.template
    assert template is not None  # a key is only known once GE answered for it
    results: list[ExpectationValidationResult] = []
    failing_lines: list[np.ndarray] = []
    for i, model in enumerate(template.results):
        where = memo.failed[ids, i]
        absent = int(memo.missing[ids, i].sum())
        failing = lines[where]
        sample = ids[np.flatnonzero(where)[:SAMPLE]].tolist()
        if "unexpected_list" in (model.result or {}) and not all(k in memo.values[i] for k in sample):
            return None
        details = _details(model, len(ids), absent, failing, [memo.values[i].get(k) for k in sample])
        results.append(
            ExpectationValidationResult(
                success=_success(model, len(ids) - absent, len(failing)),
                expectation_config=model.expectation_config,
                result=details,
                exception_info=model.exception_info,
                meta=model.meta,
            )
        )
        failing_lines.append(failing)
    return suite_result(results, template.suite_name, dict(template.meta)), failing_lines


def _details(
    model: ExpectationValidationResult, total: int, absent: int, failing: np.ndarray, listed: list[Any]
) -> dict[str, Any]:
    """GE's result fields for the whole chunk, as GE gives them for the full frame (samples only)."""
    shape = model.result or {}
    considered, unexpected = total - absent, len(failing)
    details: dict[str, Any] = {
        "element_count": total,
        "unexpected_count": unexpected,
        "unexpected_percent": 100.0 * unexpected / considered if considered else None,
    }
    if "missing_count" in shape:
        details["missing_count"] = absent
        details["missing_percent"] = 100.0 * absent / total if total else None
        details["unexpected_percent_total"] = 100.0 * unexpected / total if total else None
        details["unexpected_percent_nonmissing"] = details["unexpected_percent"]
    index = [int(n) for n in failing[:SAMPLE]]
    details["partial_unexpected_index_list"] = index
    details["unexpected_index_list"] = index
    if "unexpected_list" in shape:
        details["unexpected_list"] = listed
        details["partial_unexpected_list"] = listed
    return details


def _success(model: ExpectationValidationResult, considered: int, unexpected: int) -> bool:
    """GE's rule: vacuously true with nothing to check, else the share of passing rows reaches ``mostly``."""
    if considered == 0 or unexpected == 0:
        return True
    config = model.expectation_config
    mostly = float((config.kwargs if config else {}).get("mostly") or 1.0)
    return (considered - unexpected) / considered >= mostly
