"""Great Expectations results as vitalflow builds them: a chunk's from per-key answers, a batch's from
its chunks'. One sample size and one way to count a suite's statistics, so both read the same."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from typing import Any

from great_expectations.core.expectation_validation_result import (
    ExpectationSuiteValidationResult,
    ExpectationValidationResult,
)

from vitalflow.validate.columns import INDEX_COLUMN, reads_private

SAMPLE = 20  # failing rows and values a result keeps: memory must not grow with rejected rows
ROW_LISTS = (
    "unexpected_index_list",
    "unexpected_list",
    "partial_unexpected_list",
    "partial_unexpected_index_list",
    "partial_unexpected_counts",
    "unexpected_rows",
)


def suite_result(
    results: list[ExpectationValidationResult], suite_name: str, meta: dict[str, Any]
) -> ExpectationSuiteValidationResult:
    """A suite's result from its expectations' results, with the statistics GE would give it."""
    passed = sum(1 for r in results if r.success)
    return ExpectationSuiteValidationResult(
        success=passed == len(results),
        results=results,
        suite_name=suite_name,
        statistics={
            "evaluated_expectations": len(results),
            "successful_expectations": passed,
            "unsuccessful_expectations": len(results) - passed,
            "success_percent": 100.0 * passed / len(results) if results else None,
        },
        meta=meta,
    )


def keep_samples(details: dict[str, Any]) -> None:
    """Cut GE's row lists to a sample, failing rows named by line (``{"__line": n}``), exact numbers as text.

    An exact decimal (``values``: a number a float cannot hold) is kept as its text: GE would store
    it as a rounded float and log the value.
    """
    for name in ROW_LISTS:
        if isinstance(details.get(name), list):
            details[name] = [str(v) if isinstance(v, Decimal) else v for v in details[name][:SAMPLE]]
    for item in details.get("partial_unexpected_counts") or []:
        if isinstance(item, dict) and isinstance(item.get("value"), Decimal):
            item["value"] = str(item["value"])
    for name in ("unexpected_index_list", "partial_unexpected_index_list"):
        if details.get(name):
            details[name] = [
                item if isinstance(item, dict) else {INDEX_COLUMN: int(item)} for item in details[name]
            ]


def merge_results(
    chunks: list[ExpectationSuiteValidationResult], suite_name: str, meta: dict[str, Any]
) -> ExpectationSuiteValidationResult:
    """One suite result for the whole batch from the per-chunk results of both suite phases."""
    groups = _by_expectation(chunks)
    base_meta = dict(chunks[0].meta) if chunks else {}
    base_meta.update(meta)
    return suite_result([_merge_expectation(evrs) for evrs in groups.values()], suite_name, base_meta)


def condense(chunks: list[ExpectationSuiteValidationResult]) -> list[ExpectationSuiteValidationResult]:
    """Consecutive chunks' results as one result per rule group, which ``merge_results`` merges into
    exactly what it makes of the chunks themselves: counts summed, failing lines and value samples
    concatenated in order (a Spark task sends its split's results to the driver this way, not one
    per chunk)."""
    suites: dict[str, list[ExpectationValidationResult]] = {}
    metas: dict[str, dict[str, Any]] = {}
    for (name, _), evrs in _by_expectation(chunks).items():
        suites.setdefault(name, []).append(_merge_expectation(evrs, keep_values=True))
    for chunk in chunks:
        metas.setdefault(chunk.suite_name, dict(chunk.meta))
    return [suite_result(results, name, dict(metas[name])) for name, results in suites.items()]


def _by_expectation(
    chunks: list[ExpectationSuiteValidationResult],
) -> dict[tuple[str, int], list[ExpectationValidationResult]]:
    """Each expectation's results, in chunk order, by rule group and place in it."""
    groups: dict[tuple[str, int], list[ExpectationValidationResult]] = {}
    for chunk in chunks:
        for position, evr in enumerate(chunk.results):
            groups.setdefault((chunk.suite_name, position), []).append(evr)
    return groups


def _merge_expectation(
    evrs: list[ExpectationValidationResult], keep_values: bool = False
) -> ExpectationValidationResult:
    """``keep_values``: keep every sampled value (``condense``), for a later merge to count them all."""
    config = evrs[0].expectation_config
    element = sum(int(e.result.get("element_count") or 0) for e in evrs)
    missing = sum(int(e.result.get("missing_count") or 0) for e in evrs)
    unexpected = sum(int(e.result.get("unexpected_count") or 0) for e in evrs)
    nonmissing = element - missing
    result: dict[str, Any] = {
        "element_count": element,
        "missing_count": missing,
        "missing_percent": 100.0 * missing / element if element else None,
        "unexpected_count": unexpected,
        "unexpected_percent": 100.0 * unexpected / nonmissing if nonmissing else None,
        "unexpected_percent_total": 100.0 * unexpected / element if element else None,
        "unexpected_percent_nonmissing": 100.0 * unexpected / nonmissing if nonmissing else None,
        "unexpected_index_column_names": [INDEX_COLUMN],
    }
    lines = [item for e in evrs for item in e.result.get("partial_unexpected_index_list") or []]
    if reads_private(config.kwargs if config else {}):
        result.update(partial_unexpected_list=[], partial_unexpected_counts=[])
        lines = [{INDEX_COLUMN: item.get(INDEX_COLUMN)} if isinstance(item, dict) else {} for item in lines]
    else:
        values = [v for e in evrs for v in e.result.get("unexpected_list") or []]
        if keep_values:
            result["unexpected_list"] = values
        counts = Counter(json.dumps(v, default=str) for v in values)
        result["partial_unexpected_list"] = values[:SAMPLE]
        result["partial_unexpected_counts"] = [
            {"value": json.loads(v), "count": c} for v, c in counts.most_common(SAMPLE)
        ]
    result["partial_unexpected_index_list"] = lines[:SAMPLE]
    return ExpectationValidationResult(
        success=all(e.success for e in evrs),
        expectation_config=config,
        result=result,
        exception_info=evrs[0].exception_info,
    )
