"""The batch page: what a reviewer sees of one batch's GE result, and what they never see.

Counts, reason codes, source line numbers and *masked shapes* of failing values (``9`` digit, ``a``
letter, ``*`` anything else, truncated), never a field's text, and nothing at all for user ids.
Why not Great Expectations' own site builder: its pages pull bootstrap, jQuery, vega and
font-awesome from public CDNs (blank offline, on clinic networks and under a CSP), render
unexpected values as live HTML, speak in derived column names, and rebuilding its index means
downloading every stored result. The rules are still worded by GE (``wording``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from great_expectations.core.expectation_validation_result import (
    ExpectationSuiteValidationResult,
    ExpectationValidationResult,
)

from vitalflow.contract import REQUIRED_COLUMNS
from vitalflow.datadocs.site import IndexEntry, render_template
from vitalflow.datadocs.wording import rule_text
from vitalflow.validate.columns import COLUMN_KEYS, INDEX_COLUMN, reads_private, source_field

SHOWN_LINES = 10
SHOWN_SHAPES = 5
SHAPE_LENGTH = 16
ROW_SECTION = "\x00rows"
# Reasons no expectation of the suite gives: the record parser's and the lake's (readings stored before).
BEYOND_THE_SUITE = {
    "row:malformed": "the line is not a well-formed CSV record",
    "row:already_loaded": "the same reading (user, instant and values) is stored from an earlier upload",
    "row:conflicts_with_loaded": "a reading of this user at this instant is stored from an earlier upload "
    "with other values; the stored one stays",
}


@dataclass(frozen=True)
class DocsFacts:
    """The batch's manifest-level facts, which the GE result does not know (e.g. malformed rows)."""

    rows_in: int | None = None
    rows_processed: int | None = None
    rows_rejected: int | None = None
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    source: str | None = None  # the raw file's key or URI; only its file name is shown


def render_batch_page(
    result: ExpectationSuiteValidationResult, entry: IndexEntry, facts: DocsFacts, stylesheet: str
) -> str:
    rules = [_rule(evr) for evr in result.results]
    sections: dict[str, list[dict[str, Any]]] = {}
    for rule in rules:
        sections.setdefault(rule.pop("section"), []).append(rule)
    order = {name: i for i, name in enumerate(REQUIRED_COLUMNS)}
    ordered = sorted(sections, key=lambda s: (s == ROW_SECTION, order.get(s, len(order)), s))
    meanings = {rule["reason"]: rule["text"] for rule in rules}
    meanings = {**BEYOND_THE_SUITE, **meanings}
    page = {
        **entry.view(),
        "suite_name": result.suite_name,
        "rules_total": len(rules),
        "rules_passed": sum(1 for r in rules if r["passed"]),
        "reasons": [
            {"code": code, "meaning": meanings.get(code, ""), "count": n}
            for code, n in sorted(facts.rejected_by_reason.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        "sections": [
            {
                "title": "Whole rows" if name == ROW_SECTION else name,
                "anchor": "rows" if name == ROW_SECTION else f"column-{name}",
                "rules": sections[name],
                "passed": all(r["passed"] for r in sections[name]),
                "failed_rules": sum(1 for r in sections[name] if not r["passed"]),
            }
            for name in ordered
        ],
    }
    return render_template("docs/batch.html.j2", root="../", stylesheet=stylesheet, page=page)


def _rule(evr: ExpectationValidationResult) -> dict[str, Any]:
    config = evr.expectation_config
    kwargs: dict[str, Any] = dict(config.kwargs) if config else {}
    meta: dict[str, Any] = dict(config.meta or {}) if config else {}
    reason = str(meta.get("reason") or (config.type if config else ""))
    section = _section(reason, kwargs)
    res = evr.result or {}
    checked, failed = res.get("element_count"), res.get("unexpected_count")
    lines = sorted({n for n in map(_line, res.get("partial_unexpected_index_list") or []) if n is not None})
    shown = lines[:SHOWN_LINES]
    flags = all(isinstance(v, bool) for v in kwargs.get("value_set") or [None])
    masks: list[dict[str, Any]] = []
    if not reads_private(kwargs) and not flags and section != ROW_SECTION:
        shapes: Counter[str] = Counter()
        for item in res.get("partial_unexpected_counts") or []:
            if isinstance(item, dict):
                shapes[mask(item.get("value"))] += int(item.get("count") or 0)
        masks = [{"shape": s, "count": n} for s, n in shapes.most_common(SHOWN_SHAPES)]
    return {
        "section": section,
        "text": rule_text(config),
        "notes": _notes(meta.get("notes")),
        "reason": reason,
        "passed": bool(evr.success),
        "checked": checked if isinstance(checked, int) else None,
        "failed": failed if isinstance(failed, int) else None,
        "failed_percent": f"{100.0 * failed / checked:.2f}" if isinstance(failed, int) and checked else "–",
        "lines": shown,
        "more_lines": bool(failed and failed > len(shown)),
        "masks": masks,
        "error": bool((evr.exception_info or {}).get("raised_exception")),
    }


def _section(reason: str, kwargs: dict[str, Any]) -> str:
    """The column a rule belongs to on the page: its reason's field, else its first column's field."""
    prefix = reason.split(":", 1)[0]
    columns = [source_field(kwargs.get(k)) for k in COLUMN_KEYS]
    if prefix in REQUIRED_COLUMNS or (prefix and prefix in columns):
        return prefix
    return next((c for c in columns if c), ROW_SECTION)


def _line(item: Any) -> int | None:
    """The source line number of a failing row (numpy or Python integer), nothing else of it."""
    value = item.get(INDEX_COLUMN) if isinstance(item, dict) else None
    try:
        return int(value) if value is not None and not isinstance(value, (bool, str)) else None
    except (TypeError, ValueError):
        return None


def _notes(notes: Any) -> str | None:
    if isinstance(notes, dict):
        notes = notes.get("content")
    if isinstance(notes, list):
        notes = " ".join(str(n) for n in notes)
    return str(notes) if notes else None


def mask(value: Any) -> str:
    """A failing value's shape, never its text: 9 per digit, a per letter, * per other character."""
    if isinstance(value, (list, tuple)):
        return " / ".join(mask(v) for v in value)
    if value is None:
        return "(empty)"
    if isinstance(value, bool):
        return "yes/no"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    shape = "".join(
        "9" if ch.isdigit() else "a" if ch.isalpha() else ch if ch in ".-+:" else "_" if ch == " " else "*"
        for ch in text[:SHAPE_LENGTH]
    )
    return shape + ("…" if len(text) > SHAPE_LENGTH else "")
