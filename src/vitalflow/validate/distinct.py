"""Great Expectations sees each distinct row of a rule group once per batch, not once per row.

A group's expectations read the columns derived from one or two fields, and every derived column
is a function of its field's text alone (``prepare.check_frame``). So for a rule that asks a
question of each row by itself (a *row-wise* rule: ``expect_column_values_to_be_between``, not
``..._to_be_unique``), every row holding the same text gets the same answer: a column of heart
rates has a few hundred distinct values in a file of millions of rows. Each chunk, the group's
distinct keys are looked up in what this batch already knows; GE validates only a frame of the
keys it has not seen, and the chunk's result is built from the answers per key, weighted by how
many rows hold each key: the same failing lines, counts and samples GE gives for the full frame.

A group falls back to GE on the chunk's full frame (as without this module) when a rule is not
row-wise, when its keys are nearly all distinct (event times: memory would grow with the file),
or when GE's own counts on the distinct frame disagree with how the weights are computed here.
``tests/test_distinct_rows.py`` compares both ways expectation by expectation.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
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
MAX_KEY_COLUMNS = 3  # combined key ids must fit in 64 bits (MAX_KEYS ** 3 does)
_MAX_LISTED = 200  # GE's MAX_RESULT_RECORDS: the failing values a result lists
_MAX_REFILLS = 25


class _Disagreement(Exception):
    """GE's counts on the distinct frame are not the ones this module would weight: fall back."""


def row_wise(types: list[str]) -> bool:
    return all(kind in ROW_WISE for kind in types)


@dataclass
class _Vocabulary:
    """Stable ids, across chunks, for the values of one key column."""

    values: pa.Array | None = None

    def ids(self, column: pa.Array) -> tuple[np.ndarray, np.ndarray]:
        """(id of each distinct value, index of each row's value among them)."""
        encoded = pc.dictionary_encode(column, null_encoding="encode")
        dictionary = encoded.dictionary
        rows = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        if self.values is None or len(self.values) == 0:
            known = np.full(len(dictionary), -1, dtype=np.int64)
        else:
            found = pc.index_in(dictionary, value_set=self.values, skip_nulls=False)
            known = pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.int64)
        new = known < 0
        if new.any():
            start = 0 if self.values is None else len(self.values)
            known[new] = start + np.arange(int(new.sum()))
            fresh = dictionary.filter(pa.array(new))
            self.values = fresh if self.values is None else pa.concat_arrays([self.values, fresh])
        return known, rows


@dataclass
class _Answers:
    """What GE answered for each known key of a group, one column per result (in GE's order)."""

    keys: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))  # sorted
    failed: np.ndarray = field(default_factory=lambda: np.empty((0, 0), dtype=bool))
    missing: np.ndarray = field(default_factory=lambda: np.empty((0, 0), dtype=bool))
    values: list[dict[int, Any]] = field(default_factory=list)  # per result: key -> GE's unexpected value
    template: ExpectationSuiteValidationResult | None = None

    def add(self, keys: np.ndarray, failed: np.ndarray, missing: np.ndarray) -> None:
        merged = np.concatenate([self.keys, keys])
        order = np.argsort(merged, kind="stable")
        self.keys = merged[order]
        width = failed.shape[1]
        old_failed = self.failed if self.failed.size else np.zeros((0, width), dtype=bool)
        old_missing = self.missing if self.missing.size else np.zeros((0, width), dtype=bool)
        self.failed = np.concatenate([old_failed, failed])[order]
        self.missing = np.concatenate([old_missing, missing])[order]


@dataclass
class GroupMemo:
    """One rule group's answers for one batch (its suite and parameters)."""

    key_columns: list[str]
    vocabularies: list[_Vocabulary]
    answers: _Answers = field(default_factory=_Answers)
    direct: bool = False  # GE checks this group's full frames from now on

    def stop_remembering(self) -> None:
        """From now on GE checks this group's full frames; what it remembered is let go."""
        self.direct = True
        self.answers = _Answers()
        self.vocabularies = [_Vocabulary() for _ in self.key_columns]

    @classmethod
    def for_columns(cls, key_columns: list[str]) -> GroupMemo:
        return cls(
            key_columns=key_columns,
            vocabularies=[_Vocabulary() for _ in key_columns],
            direct=not key_columns or len(key_columns) > MAX_KEY_COLUMNS,
        )


Validate = Callable[[pd.DataFrame], ExpectationSuiteValidationResult]


def check_group(
    memo: GroupMemo, frame: pd.DataFrame, lines: np.ndarray, validate: Validate
) -> tuple[ExpectationSuiteValidationResult, list[np.ndarray] | None]:
    """The group's result for this chunk, and its failing lines per result (None: read them from it).

    ``frame`` holds the group's columns, indexed by line number; ``validate`` runs GE on a frame.
    """
    if memo.direct or not len(frame):
        return validate(frame), None
    keys, rows = _keys(memo, frame)
    if keys is None:
        memo.stop_remembering()
        return validate(frame), None
    answers = memo.answers
    position = np.minimum(np.searchsorted(answers.keys, keys), max(len(answers.keys) - 1, 0))
    new = np.ones(len(keys), dtype=bool) if not len(answers.keys) else answers.keys[position] != keys
    if new.any():
        if len(answers.keys) + int(new.sum()) > MAX_KEYS:
            memo.stop_remembering()
            return validate(frame), None
        _, first = np.unique(rows, return_index=True)  # each key's first row (every key has one)
        picked = frame.iloc[first[new]]
        picked.index = pd.RangeIndex(len(picked))
        result = validate(picked)
        try:
            _learn(answers, result, picked, keys[new], validate)
        except _Disagreement:
            memo.stop_remembering()
            return validate(frame), None
        position = np.searchsorted(answers.keys, keys)
    return _weighted(answers, keys, position, rows, lines)


def _keys(memo: GroupMemo, frame: pd.DataFrame) -> tuple[np.ndarray | None, np.ndarray]:
    """Each distinct key of the chunk (ids, combined over the key columns) and each row's index among them."""
    parts: list[tuple[np.ndarray, np.ndarray]] = []
    for name, vocabulary in zip(memo.key_columns, memo.vocabularies):
        if name not in frame.columns:
            return None, np.empty(0, dtype=np.int64)
        parts.append(vocabulary.ids(_arrow(frame[name])))
        if vocabulary.values is not None and len(vocabulary.values) > MAX_KEYS:
            return None, np.empty(0, dtype=np.int64)
    if len(parts) == 1:  # the dictionary's entries are the distinct keys already
        return parts[0]
    combined = np.zeros(len(frame), dtype=np.int64)
    for ids, rows in parts:
        combined = combined * MAX_KEYS + ids[rows]
    rows, keys = pd.factorize(combined)
    return np.asarray(keys, dtype=np.int64), np.asarray(rows, dtype=np.int64)


def _arrow(series: pd.Series) -> pa.Array:
    array = pa.array(series.array) if isinstance(series.dtype, pd.StringDtype) else pa.array(series)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return array


def _learn(
    answers: _Answers,
    result: ExpectationSuiteValidationResult,
    picked: pd.DataFrame,
    keys: np.ndarray,
    validate: Validate,
) -> None:
    """Record GE's answers for the new keys (the rows of ``picked``, in order)."""
    evrs = result.results
    if answers.template is not None and _order(answers.template) != _order(result):
        raise _Disagreement
    failed = np.zeros((len(keys), len(evrs)), dtype=bool)
    missing = np.zeros((len(keys), len(evrs)), dtype=bool)
    if not answers.values:
        answers.values = [{} for _ in evrs]
    lacking: list[np.ndarray] = []
    for i, evr in enumerate(evrs):
        details = evr.result or {}
        found = _found(details)
        failed[found, i] = True
        missing[:, i] = _missing(evr, picked)
        if int(details.get("unexpected_count") or 0) != len(found):
            raise _Disagreement
        if "missing_count" in details and int(details.get("missing_count") or 0) != int(missing[:, i].sum()):
            raise _Disagreement
        lacking.append(_take_values(answers.values[i], details, found, keys))
    _fill_values(answers, picked, keys, lacking, validate)
    answers.add(keys, failed, missing)
    answers.template = result


def _found(details: dict[str, Any]) -> np.ndarray:
    """The failing rows GE named, as positions in the frame it was given (its index is a range)."""
    return np.array([int(n) for n in details.get("unexpected_index_list") or []], dtype=np.int64)


def _take_values(
    values: dict[int, Any], details: dict[str, Any], found: np.ndarray, keys: np.ndarray
) -> np.ndarray:
    """Store GE's value of each failing key it listed; return the failing rows it left out.

    GE lists the values of the first ``MAX_RESULT_RECORDS`` (200) failing rows only.
    """
    listed = details.get("unexpected_list")
    if listed is None:
        return np.empty(0, dtype=np.int64)
    if len(listed) > len(found):
        raise _Disagreement
    for row, value in zip(found.tolist(), listed):
        values[int(keys[row])] = value
    return found[len(listed) :]


def _fill_values(
    answers: _Answers, picked: pd.DataFrame, keys: np.ndarray, lacking: list[np.ndarray], validate: Validate
) -> None:
    """Ask GE again, 200 failing keys at a time, for the values its first answer left out."""
    for _ in range(_MAX_REFILLS):
        i = max(range(len(lacking)), key=lambda j: len(lacking[j]), default=0)
        if not lacking or not len(lacking[i]):
            return
        rows = lacking[i][:_MAX_LISTED]
        subset = picked.iloc[rows]
        subset.index = pd.RangeIndex(len(subset))
        again = validate(subset)
        for j, evr in enumerate(again.results):
            details = evr.result or {}
            found = _found(details)
            _take_values(answers.values[j], details, found, keys[rows])
            lacking[j] = lacking[j][~np.isin(keys[lacking[j]], list(answers.values[j]))]
    raise _Disagreement  # thousands of distinct failing values in one chunk: GE checks it whole


def _order(result: ExpectationSuiteValidationResult) -> list[Any]:
    return [
        (e.expectation_config.type, e.expectation_config.kwargs)
        for e in result.results
        if e.expectation_config
    ]


def _missing(evr: ExpectationValidationResult, frame: pd.DataFrame) -> np.ndarray:
    """Rows GE leaves out of a rule (its ``missing_count``): nulls, or rows ``ignore_row_if`` names."""
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
        raise _Disagreement
    nulls = np.column_stack([np.asarray(frame[n].isna(), dtype=bool) for n in names])
    how = kwargs.get("ignore_row_if") or "all_values_are_missing"
    if how == "all_values_are_missing":
        return np.asarray(nulls.all(axis=1), dtype=bool)
    if how == "any_value_is_missing":
        return np.asarray(nulls.any(axis=1), dtype=bool)
    return np.zeros(len(frame), dtype=bool)


def _weighted(
    answers: _Answers, keys: np.ndarray, position: np.ndarray, rows: np.ndarray, lines: np.ndarray
) -> tuple[ExpectationSuiteValidationResult, list[np.ndarray]]:
    """The chunk's result from the answers per key, each key counted as often as rows hold it."""
    template = answers.template
    assert template is not None  # a key is only known once GE answered for it
    weights = np.bincount(rows, minlength=len(keys))
    failed, missing = answers.failed[position], answers.missing[position]
    total = len(rows)
    results: list[ExpectationValidationResult] = []
    failing_lines: list[np.ndarray] = []
    for i, model in enumerate(template.results):
        unexpected = int(weights[failed[:, i]].sum())
        absent = int(weights[missing[:, i]].sum())
        where = failed[rows, i] if unexpected else np.zeros(total, dtype=bool)
        failing = lines[where]
        failing_lines.append(failing)
        first_keys = keys[rows[np.flatnonzero(where)[:_MAX_LISTED]]]
        details = _details(model, total, absent, unexpected, failing, first_keys, answers.values[i])
        success = _success(model, total - absent, unexpected)
        results.append(
            ExpectationValidationResult(
                success=success,
                expectation_config=model.expectation_config,
                result=details,
                exception_info=model.exception_info,
                meta=model.meta,
            )
        )
    return suite_result(results, template.suite_name, dict(template.meta)), failing_lines


def _details(
    model: ExpectationValidationResult,
    total: int,
    absent: int,
    unexpected: int,
    failing: np.ndarray,
    first_keys: np.ndarray,
    values: dict[int, Any],
) -> dict[str, Any]:
    """GE's result fields for the whole chunk, as GE gives them for the full frame.

    GE lists the values of the first 200 failing rows and counts the most common among those;
    the failing lines themselves go to the verdict as an array, so only a sample is kept here.
    """
    shape = model.result or {}
    considered = total - absent
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
        listed = [values[int(k)] for k in first_keys]
        details["unexpected_list"] = listed
        details["partial_unexpected_list"] = listed[:SAMPLE]
        if "partial_unexpected_counts" in shape:
            details["partial_unexpected_counts"] = _top_counts(listed)
    return details


def _top_counts(listed: list[Any]) -> list[dict[str, Any]]:
    """GE's ``partial_unexpected_counts``: the most common of the listed values, ties as GE orders them."""
    try:
        counts = Counter(tuple(v.values()) if isinstance(v, dict) else v for v in listed)
        return [
            {"value": value, "count": count}
            for value, count in sorted(counts.most_common(SAMPLE), key=lambda x: (-x[1], x[0]))
        ]
    except TypeError:
        return [{"error": "partial_exception_counts requires a hashable type"}]


def _success(model: ExpectationValidationResult, considered: int, unexpected: int) -> bool:
    """GE's rule: vacuously true with nothing to check, else the share of passing rows reaches ``mostly``."""
    if considered == 0 or unexpected == 0:
        return True
    config = model.expectation_config
    mostly = float((config.kwargs if config else {}).get("mostly") or 1.0)
    return (considered - unexpected) / considered >= mostly
