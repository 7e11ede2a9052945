"""Data Docs: one self-contained, reviewer-readable page per batch, and an index that scales.

Why not Great Expectations' own site builder: its pages pull bootstrap, jQuery, vega and
font-awesome from public CDNs (blank offline, on clinic networks and under a CSP), render
unexpected values as live HTML, speak in derived column names, and rebuilding its index means
downloading every stored result. So the site is rendered here with Jinja2 (autoescape on every
template) from the GE validation result, the suite's meta (reason codes, notes) and the batch's
manifest facts. One hand-written stylesheet ships as package data and is published next to the
pages under a content-hashed name; pages have no scripts and no inline styles, so they work from
a file, an S3 website or behind ``Content-Security-Policy: default-src 'self'``.

What a reviewer sees, and never sees: counts, reason codes, source line numbers and *masked
shapes* of failing values (``9`` digit, ``a`` letter, ``*`` anything else, truncated), never a
field's text, and nothing at all for user ids. Derived columns are shown as the column they come
from (``heart_rate__num`` -> ``heart_rate``, ``event_time__ts`` -> ``event_time``); ``__repeat`` is
the duplicate rule of the whole row.

Layout of the docs store (the docs bucket on AWS, the lake folder locally)::

    docs/static/docs-<sha>.css          the stylesheet, immutable, written once per version
    docs/validations/<batch>.html       the batch page (the report email links here)
    docs/validations/<batch>.json       the batch's index record (facts, and its index key)
    docs/index/<YYYY-MM-DD>/<entry>     one index entry per batch; its *key* carries what the
                                        index shows: <inverted time>~<batch>~<status>~<rows in>
                                        ~<processed>~<rejected>~<base64url file name>.json
    docs/days/<YYYY-MM>/<YYYY-MM-DD>.html   every batch of a day
    docs/months/<YYYY-MM>.html          the days of a month that have batches
    docs/index.html                     the newest INDEX_LIMIT batches and the months

and the GE result itself (for audit and tooling) at ``gx/validations/<suite>/<batch>.json`` in
the data store.

Cost does not grow with history. Publishing a batch writes its page, its record and its entry,
then rebuilds three small pages from LISTings only (entry keys hold every field a listing shows,
so no entry is ever downloaded): its day (that day's entries), its month (at most 31 day pages)
and the index (the month pages, then the newest days' entries until INDEX_LIMIT batches or
LOOKBACK_DAYS days). None of these depends on how many batches came before; only a day page grows
with the number of batches *that day*. ``bench/docs_bench.py`` measures the 1st vs the 1,000th.
A rerun of a batch (same content, same id) reads its record to delete its previous entry, so a
batch is listed once.

Concurrent jobs never lose each other's entries. Entries are separate objects, so writing them
never conflicts; only the day, month and index pages are shared, and S3 is last-writer-wins for
them. Each publisher therefore renders a page from a listing, writes it, lists again and
re-renders until the listing it rendered is the listing it sees after writing (lower levels
first, so a page never links a child that is not there yet). Since S3 LIST is strongly consistent
after a PUT, whichever page write lands last was checked against a listing taken after every
earlier page write, and any entry missing from that listing belongs to a publisher that had not
yet finished writing its entry, so that publisher writes the page again later. The last page
written therefore lists every entry whose publisher finished. An entry whose job died after
writing it shows up at the next publish that day (or after ``vitalflow docs rebuild``).

Old results expire: on AWS by S3 lifecycle rules on ``docs/validations/``, ``docs/index/``,
``docs/days/``, ``docs/months/`` and ``gx/validations/`` (terraform/modules/storage); locally with
``vitalflow docs prune --older-than 90d``, which deletes pages, records, entries and GE results
older than the cutoff and rebuilds the affected pages. The stylesheet is outside those prefixes
so pages never lose their styling.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from importlib import resources
from pathlib import PurePosixPath
from typing import Any

from great_expectations.core.expectation_validation_result import (
    ExpectationSuiteValidationResult,
    ExpectationValidationResult,
)
from jinja2 import Environment, PackageLoader, StrictUndefined

from vitalflow import __version__, lake
from vitalflow.contract import REQUIRED_COLUMNS
from vitalflow.exceptions import ObjectNotFound
from vitalflow.ports import ObjectStore
from vitalflow.validate.suite import INDEX_COLUMN

SAMPLE = 20
PRIVATE_COLUMNS = {"user_id"}
INDEX_LIMIT = 100
LOOKBACK_DAYS = 35  # the index looks no further back for its newest batches (months link the rest)
MAX_PAGE_WRITES = 8  # re-renders per page while other publishers keep adding entries
SHOWN_LINES = 10
SHOWN_SHAPES = 5
SHAPE_LENGTH = 16
VALIDATIONS = f"{lake.DOCS}validations/"
ENTRIES = f"{lake.DOCS}index/"
MONTHS = f"{lake.DOCS}months/"
DAYS = f"{lake.DOCS}days/"
STATIC = f"{lake.DOCS}static/"
INDEX_PAGE = f"{lake.DOCS}index.html"
HTML_TYPE = "text/html; charset=utf-8"
JSON_TYPE = "application/json"
_LATEST = 9_999_999_999  # entry keys sort newest first: <_LATEST - epoch seconds>
_NAME_BYTES = 96  # of the source file name kept in an entry key (local file names stop at 255)
_STATUS_LABEL = {"passed": "Passed", "failed": "Rows rejected"}


# --- merging the per-chunk GE results --------------------------------------------------------


def merge_results(
    chunks: list[ExpectationSuiteValidationResult], suite_name: str, meta: dict[str, Any]
) -> ExpectationSuiteValidationResult:
    """One suite result for the whole batch from the per-chunk results of both suite phases."""
    groups: dict[tuple[str, int], list[ExpectationValidationResult]] = {}
    for chunk in chunks:
        for position, evr in enumerate(chunk.results):
            groups.setdefault((chunk.suite_name, position), []).append(evr)
    merged = [_merge_expectation(evrs) for evrs in groups.values()]
    successful = sum(1 for evr in merged if evr.success)
    statistics = {
        "evaluated_expectations": len(merged),
        "successful_expectations": successful,
        "unsuccessful_expectations": len(merged) - successful,
        "success_percent": 100.0 * successful / len(merged) if merged else None,
    }
    base_meta = dict(chunks[0].meta) if chunks else {}
    base_meta.update(meta)
    return ExpectationSuiteValidationResult(
        success=successful == len(merged),
        results=merged,
        suite_name=suite_name,
        statistics=statistics,
        meta=base_meta,
    )


def _merge_expectation(evrs: list[ExpectationValidationResult]) -> ExpectationValidationResult:
    config = evrs[0].expectation_config
    kwargs = config.kwargs if config else {}
    private = bool({kwargs.get("column"), kwargs.get("column_A"), kwargs.get("column_B")} & PRIVATE_COLUMNS)
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
    if private:
        lines = [
            _line_only(item) for e in evrs for item in e.result.get("partial_unexpected_index_list") or []
        ]
        result.update(partial_unexpected_list=[], partial_unexpected_counts=[])
        result["partial_unexpected_index_list"] = lines[:SAMPLE]
    else:
        values = [v for e in evrs for v in e.result.get("unexpected_list") or []]
        counts = Counter(json.dumps(v, default=str) for v in values)
        result["partial_unexpected_list"] = values[:SAMPLE]
        result["partial_unexpected_counts"] = [
            {"value": json.loads(v), "count": c} for v, c in counts.most_common(SAMPLE)
        ]
        result["partial_unexpected_index_list"] = [
            item for e in evrs for item in e.result.get("partial_unexpected_index_list") or []
        ][:SAMPLE]
    return ExpectationValidationResult(
        success=all(e.success for e in evrs),
        expectation_config=config,
        result=result,
        exception_info=evrs[0].exception_info,
    )


def _line_only(item: Any) -> dict[str, Any]:
    return {INDEX_COLUMN: item.get(INDEX_COLUMN)} if isinstance(item, dict) else {}


# --- what the pages are made of ----------------------------------------------------------------


@dataclass(frozen=True)
class DocsFacts:
    """The batch's manifest-level facts, which the GE result does not know (e.g. malformed rows)."""

    rows_in: int | None = None
    rows_processed: int | None = None
    rows_rejected: int | None = None
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    source: str | None = None  # the raw file's key or URI; only its file name is shown

    @classmethod
    def from_meta(cls, meta: dict[str, Any]) -> DocsFacts:
        """What ``merge_results``' meta carries when the caller passes no facts."""

        def number(key: str) -> int | None:
            value = meta.get(key)
            return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

        reasons = meta.get("rejected_by_reason")
        return cls(
            rows_in=number("rows_in"),
            rows_processed=number("rows_processed"),
            rows_rejected=number("rows_rejected"),
            rejected_by_reason={str(k): int(v) for k, v in reasons.items()}
            if isinstance(reasons, dict)
            else {},
            source=str(meta["source"]) if meta.get("source") else None,
        )


@dataclass(frozen=True)
class IndexEntry:
    """One batch as the index shows it; round-trips through its store key."""

    batch_id: str
    run_time: datetime
    status: str
    rows_in: int | None
    rows_processed: int | None
    rows_rejected: int | None
    source_name: str

    @property
    def day(self) -> str:
        return f"{self.run_time:%Y-%m-%d}"

    @property
    def key(self) -> str:
        stamp = _LATEST - int(self.run_time.timestamp())
        name = self.source_name.encode("utf-8")[:_NAME_BYTES]
        encoded = base64.urlsafe_b64encode(name).decode("ascii").rstrip("=")
        counts = "~".join(
            "x" if n is None else str(n) for n in (self.rows_in, self.rows_processed, self.rows_rejected)
        )
        return f"{ENTRIES}{self.day}/{stamp:010d}~{self.batch_id}~{self.status}~{counts}~{encoded}.json"

    @classmethod
    def from_key(cls, key: str) -> IndexEntry | None:
        """The entry a key describes, or None for anything that is not an entry key."""
        name = key.rsplit("/", 1)[-1]
        parts = name[: -len(".json")].split("~") if name.endswith(".json") else []
        if len(parts) != 7 or not parts[0].isdigit():
            return None
        stamp, batch_id, status, rows_in, processed, rejected, encoded = parts
        try:
            source = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode("utf-8", "ignore")
            counts = [None if n == "x" else int(n) for n in (rows_in, processed, rejected)]
        except ValueError:
            return None
        return cls(
            batch_id=batch_id,
            run_time=datetime.fromtimestamp(_LATEST - int(stamp), tz=timezone.utc),
            status=status if status in _STATUS_LABEL else "failed",
            rows_in=counts[0],
            rows_processed=counts[1],
            rows_rejected=counts[2],
            source_name=source,
        )

    def view(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "page": f"validations/{self.batch_id}.html",
            "source_name": self.source_name,
            "when": f"{self.run_time:%Y-%m-%d %H:%M}",
            "status": self.status,
            "status_label": _STATUS_LABEL[self.status],
            "rows_in": self.rows_in,
            "rows_processed": self.rows_processed,
            "rows_rejected": self.rows_rejected,
        }


# --- publishing ---------------------------------------------------------------------------------


def publish_docs(
    result: ExpectationSuiteValidationResult,
    *,
    batch_id: str,
    run_time: datetime,
    data_store: ObjectStore,
    docs_store: ObjectStore,
    facts: DocsFacts | None = None,
) -> str:
    """Store the GE result, publish the batch page and index entry, refresh the index; return the page key.

    ``facts`` are the manifest's counts; without them the page shows what ``result.meta`` holds.
    """
    facts = facts or DocsFacts.from_meta(dict(result.meta or {}))
    run_time = run_time if run_time.tzinfo else run_time.replace(tzinfo=timezone.utc)
    run_time = run_time.astimezone(timezone.utc)
    suite_name = result.suite_name or "suite"
    data_store.put_bytes(
        f"{lake.GX_VALIDATIONS}{suite_name}/{batch_id}.json",
        json.dumps(result.to_json_dict(), default=str, sort_keys=True).encode("utf-8"),
        JSON_TYPE,
    )
    stylesheet = ensure_stylesheet(docs_store)
    rejected = facts.rows_rejected
    passed = rejected == 0 if rejected is not None else bool(result.success)
    entry = IndexEntry(
        batch_id=batch_id,
        run_time=run_time,
        status="passed" if passed else "failed",
        rows_in=facts.rows_in,
        rows_processed=facts.rows_processed,
        rows_rejected=rejected,
        source_name=_file_name(facts.source),
    )
    page_key = f"{VALIDATIONS}{batch_id}.html"
    html = render_batch_page(result, entry, facts, stylesheet)
    docs_store.put_bytes(page_key, html.encode("utf-8"), HTML_TYPE)
    record_key = f"{VALIDATIONS}{batch_id}.json"
    previous = _read_record(docs_store, record_key)
    record = {"batch_id": batch_id, "run_time": run_time.isoformat(), "entry": entry.key, "suite": suite_name}
    docs_store.put_bytes(entry.key, json.dumps(record).encode("utf-8"), JSON_TYPE)
    docs_store.put_bytes(record_key, json.dumps(record).encode("utf-8"), JSON_TYPE)
    days = {entry.day}
    old_key = previous.get("entry") if previous else None
    if isinstance(old_key, str) and old_key != entry.key:
        docs_store.delete([old_key])  # a rerun replaces, never adds, its batch's entry
        old = IndexEntry.from_key(old_key)
        if old is not None:
            days.add(old.day)
    refresh_pages(docs_store, days, stylesheet)
    return page_key


def refresh_pages(docs_store: ObjectStore, days: Iterable[str], stylesheet: str | None = None) -> int:
    """Rewrite the pages above some days' entries: those days, their months, then the index.

    Lower levels first, so a page never lists a child page that does not exist yet. Returns how
    many batches the index lists.
    """
    stylesheet = stylesheet or ensure_stylesheet(docs_store)
    days = sorted(set(days))
    for day in days:
        refresh_day(docs_store, day, stylesheet)
    for month in sorted({day[:7] for day in days}):
        refresh_month(docs_store, month, stylesheet)
    return refresh_index(docs_store, stylesheet)


def rebuild_site(docs_store: ObjectStore) -> tuple[int, int]:
    """Every day, month and index page from the entries (a full listing: maintenance, not publishing).

    Returns the number of days rewritten and the number of batches the index lists.
    """
    days = {e.day for e in (IndexEntry.from_key(k) for k in docs_store.list_keys(ENTRIES)) if e}
    days |= {k.rsplit("/", 1)[-1][: -len(".html")] for k in docs_store.list_keys(DAYS) if k.endswith(".html")}
    return len(days), refresh_pages(docs_store, days)


def _day_page(day: str) -> str:
    return f"{DAYS}{day[:7]}/{day}.html"


def refresh_day(docs_store: ObjectStore, day: str, stylesheet: str) -> int:
    """Rewrite one day's page (every batch of that day) from the listing of its entries."""

    def inputs() -> list[IndexEntry]:
        return _entries(docs_store.list_keys(f"{ENTRIES}{day}/"))

    def render(entries: list[IndexEntry]) -> bytes | None:
        if not entries:
            return None  # the page goes when its last batch does
        views = [e.view() for e in entries]
        html = _render("docs/day.html.j2", root="../../", stylesheet=stylesheet, day=day, entries=views)
        return html.encode("utf-8")

    return len(_write_until_stable(docs_store, _day_page(day), inputs, render))


def refresh_month(docs_store: ObjectStore, month: str, stylesheet: str) -> int:
    """Rewrite one month's page (a link per day with batches) from the listing of its day pages."""

    def inputs() -> list[str]:
        keys = docs_store.list_keys(f"{DAYS}{month}/")
        return sorted(
            (k.rsplit("/", 1)[-1][: -len(".html")] for k in keys if k.endswith(".html")), reverse=True
        )

    def render(days: list[str]) -> bytes | None:
        if not days:
            return None
        html = _render("docs/month.html.j2", root="../", stylesheet=stylesheet, month=month, days=days)
        return html.encode("utf-8")

    return len(_write_until_stable(docs_store, f"{MONTHS}{month}.html", inputs, render))


def refresh_index(docs_store: ObjectStore, stylesheet: str) -> int:
    """Rewrite the index: the newest INDEX_LIMIT batches (at most LOOKBACK_DAYS days back), the months."""

    def inputs() -> tuple[list[str], list[IndexEntry]]:
        keys = docs_store.list_keys(MONTHS)
        months = sorted((k[len(MONTHS) : -len(".html")] for k in keys if k.endswith(".html")), reverse=True)
        newest: list[IndexEntry] = []
        visited = 0
        for month in months:
            day_keys = docs_store.list_keys(f"{DAYS}{month}/")
            days = sorted(
                (k.rsplit("/", 1)[-1][: -len(".html")] for k in day_keys if k.endswith(".html")), reverse=True
            )
            for day in days:
                newest.extend(_entries(docs_store.list_keys(f"{ENTRIES}{day}/")))
                visited += 1
                if len(newest) >= INDEX_LIMIT or visited >= LOOKBACK_DAYS:
                    return months, newest[:INDEX_LIMIT]
        return months, newest[:INDEX_LIMIT]

    def render(state: tuple[list[str], list[IndexEntry]]) -> bytes:
        months, entries = state
        views = [e.view() for e in entries]
        html = _render(
            "docs/index.html.j2",
            root="",
            stylesheet=stylesheet,
            months=months,
            entries=views,
            limit=INDEX_LIMIT,
        )
        return html.encode("utf-8")

    return len(_write_until_stable(docs_store, INDEX_PAGE, inputs, render)[1])


def _write_until_stable(docs_store: ObjectStore, key: str, inputs: Any, render: Any) -> Any:
    """Render from a listing, write, re-list; repeat while other publishers changed the listing."""
    state = inputs()
    for _ in range(MAX_PAGE_WRITES):
        body = render(state)
        if body is None:
            docs_store.delete([key])
        else:
            docs_store.put_bytes(key, body, HTML_TYPE)
        fresh = inputs()
        if fresh == state:
            break
        state = fresh
    return state


def _entries(keys: Iterable[str]) -> list[IndexEntry]:
    """Entries of a listing, newest first (the key order), one per batch."""
    found: dict[str, IndexEntry] = {}
    for key in sorted(keys):
        entry = IndexEntry.from_key(key)
        if entry is not None and entry.batch_id not in found:
            found[entry.batch_id] = entry
    return list(found.values())


def _read_record(docs_store: ObjectStore, key: str) -> dict[str, Any] | None:
    try:
        record = json.loads(docs_store.get_bytes(key))
    except (ObjectNotFound, ValueError):
        return None
    return record if isinstance(record, dict) else None


def ensure_stylesheet(docs_store: ObjectStore) -> str:
    """Publish the stylesheet once per version; return its path relative to ``docs/``."""
    css = _stylesheet_bytes()
    name = f"static/docs-{hashlib.sha256(css).hexdigest()[:12]}.css"
    if not docs_store.exists(lake.DOCS + name):
        docs_store.put_bytes(lake.DOCS + name, css, "text/css; charset=utf-8")
    return name


@lru_cache(maxsize=1)
def _stylesheet_bytes() -> bytes:
    return resources.files("vitalflow").joinpath("resources/docs/docs.css").read_bytes()


def _file_name(source: str | None) -> str:
    return PurePosixPath(source.split("?", 1)[0]).name if source else ""


# --- pruning --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PruneReport:
    batches: list[str]
    objects: int
    cutoff: datetime


def prune_docs(
    data_store: ObjectStore,
    docs_store: ObjectStore,
    *,
    older_than: timedelta,
    now: datetime | None = None,
    dry_run: bool = False,
) -> PruneReport:
    """Delete the pages, index entries and GE results of batches validated before ``now - older_than``.

    The local twin of the S3 lifecycle rules; it also rewrites the month pages and the index, so
    no page links to a deleted batch.
    """
    cutoff = (now or datetime.now(timezone.utc)) - older_than
    old = [
        (key, entry)
        for key in docs_store.list_keys(ENTRIES)
        for entry in [IndexEntry.from_key(key)]
        if entry is not None and entry.run_time < cutoff
    ]
    batches = sorted({entry.batch_id for _, entry in old})
    doomed_docs = [key for key, _ in old]
    for batch_id in batches:
        doomed_docs += [
            k
            for k in (f"{VALIDATIONS}{batch_id}.html", f"{VALIDATIONS}{batch_id}.json")
            if docs_store.exists(k)
        ]
    wanted = set(batches)
    doomed_data = [
        key for key in data_store.list_keys(lake.GX_VALIDATIONS) if _batch_of_result(key) in wanted
    ]
    if not dry_run:
        docs_store.delete(doomed_docs)
        data_store.delete(doomed_data)
        refresh_pages(docs_store, {entry.day for _, entry in old})
    return PruneReport(batches=batches, objects=len(doomed_docs) + len(doomed_data), cutoff=cutoff)


def _batch_of_result(key: str) -> str:
    """The batch a stored GE result belongs to: ``<suite>/<batch>.json`` (or GE's older tuple layout)."""
    parts = key[len(lake.GX_VALIDATIONS) :].split("/")
    if len(parts) == 2:
        return parts[1][: -len(".json")] if parts[1].endswith(".json") else ""
    return parts[1] if len(parts) > 2 else ""


# --- the batch page -------------------------------------------------------------------------------


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
    meanings.setdefault("row:malformed", "the line is not a well-formed CSV record")
    counts = facts.rejected_by_reason or _reasons_from_results(rules)
    page = {
        **entry.view(),
        "suite_name": result.suite_name,
        "rules_total": len(rules),
        "rules_passed": sum(1 for r in rules if r["passed"]),
        "reasons": [
            {"code": code, "meaning": meanings.get(code, ""), "count": n}
            for code, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
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
    return _render("docs/batch.html.j2", root="../", stylesheet=stylesheet, page=page)


ROW_SECTION = "\x00rows"


def _reasons_from_results(rules: list[dict[str, Any]]) -> dict[str, int]:
    """Failures per reason code when the manifest's counts are not given (rows may be counted twice)."""
    counts: Counter[str] = Counter()
    for rule in rules:
        if rule["failed"]:
            counts[rule["reason"]] += int(rule["failed"])
    return dict(counts)


def real_column(name: str | None) -> str | None:
    """The dataset column a suite column stands for: ``heart_rate__num`` -> ``heart_rate``."""
    if not name:
        return None
    if name.startswith("__"):
        return None  # a row-level marker such as ``__repeat``
    return name.split("__", 1)[0]


def _rule(evr: ExpectationValidationResult) -> dict[str, Any]:
    config = evr.expectation_config
    kind = config.type if config else ""
    kwargs: dict[str, Any] = dict(config.kwargs) if config else {}
    meta: dict[str, Any] = dict(config.meta or {}) if config else {}
    reason = str(meta.get("reason") or kind)
    raw_columns = [kwargs.get(k) for k in ("column", "column_A", "column_B") if kwargs.get(k)]
    columns = [c for c in (real_column(c) for c in raw_columns) if c]
    prefix = reason.split(":", 1)[0]
    if prefix in REQUIRED_COLUMNS or (prefix and prefix in columns):
        section = prefix
    elif columns:
        section = columns[0]
    else:
        section = ROW_SECTION
    res = evr.result or {}
    checked = res.get("element_count")
    failed = res.get("unexpected_count")
    text, pattern = _describe(kind, kwargs, meta)
    private = bool(set(raw_columns) & PRIVATE_COLUMNS or set(columns) & PRIVATE_COLUMNS)
    lines = [_line(item) for item in res.get("partial_unexpected_index_list") or []]
    shown = sorted({n for n in lines if n is not None})[:SHOWN_LINES]
    masks: list[dict[str, Any]] = []
    flags = kind == "expect_column_values_to_be_in_set" and all(
        isinstance(v, bool) for v in kwargs.get("value_set") or []
    )
    if not private and not flags and section != ROW_SECTION:
        shapes: Counter[str] = Counter()
        for item in res.get("partial_unexpected_counts") or []:
            if isinstance(item, dict):
                shapes[mask(item.get("value"))] += int(item.get("count") or 0)
        masks = [{"shape": s, "count": n} for s, n in shapes.most_common(SHOWN_SHAPES)]
    exception = evr.exception_info or {}
    return {
        "section": section,
        "text": text,
        "pattern": pattern,
        "condition": _condition(kwargs),
        "notes": _notes(meta.get("notes")),
        "reason": reason,
        "passed": bool(evr.success),
        "checked": checked if isinstance(checked, int) else None,
        "failed": failed if isinstance(failed, int) else None,
        "failed_percent": f"{100.0 * failed / checked:.2f}" if isinstance(failed, int) and checked else "–",
        "lines": shown,
        "more_lines": bool(failed and failed > len(shown)),
        "masks": masks,
        "error": bool(exception.get("raised_exception")),
    }


_DERIVED = {
    "num": "can be read as a number",
    "is_number": "can be read as a number",
    "is_whole": "is a whole number",
    "ts": "is a real date and time",
    "is_timestamp": "is a real date and time",
}


def _line(item: Any) -> int | None:
    """The source line number of a failing row (numpy or Python integer), nothing else of it."""
    value = item.get(INDEX_COLUMN) if isinstance(item, dict) else None
    try:
        return int(value) if value is not None and not isinstance(value, (bool, str)) else None
    except (TypeError, ValueError):
        return None


def _describe(kind: str, kwargs: dict[str, Any], meta: dict[str, Any]) -> tuple[str, str | None]:
    """The rule in the dataset's words, and a pattern to show behind a disclosure."""
    column = kwargs.get("column")
    name = real_column(column) or "the row"
    derived = column.split("__", 1)[1] if column and "__" in column.lstrip("_") else ""
    check = _DERIVED.get(derived) or f"passes the {derived.replace('_', ' ')} check"
    flag_check = kind == "expect_column_values_to_be_in_set" and list(kwargs.get("value_set") or []) == [True]
    if derived and (kind == "expect_column_values_to_not_be_null" or flag_check):
        return f"{name} {check}", None
    if kind == "expect_column_values_to_not_be_null":
        return f"{name} is present", None
    if kind == "expect_column_values_to_match_regex":
        return f"{name} has the expected format", str(kwargs.get("regex", ""))
    if kind == "expect_column_values_to_not_match_regex":
        return f"{name} does not have a forbidden form", str(kwargs.get("regex", ""))
    if kind == "expect_column_values_to_be_between":
        low, high = _bound(kwargs.get("min_value")), _bound(kwargs.get("max_value"))
        lower = "above" if kwargs.get("strict_min") else "at least"
        upper = "below" if kwargs.get("strict_max") else "at most"
        if (
            low is not None
            and high is not None
            and not kwargs.get("strict_min")
            and not kwargs.get("strict_max")
        ):
            return f"{name} is between {low} and {high}", None
        parts = [f"{lower} {low}" if low is not None else "", f"{upper} {high}" if high is not None else ""]
        return f"{name} is " + " and ".join(p for p in parts if p), None
    if kind == "expect_column_pair_values_a_to_be_greater_than_b":
        a = real_column(kwargs.get("column_A")) or "A"
        b = real_column(kwargs.get("column_B")) or "B"
        verb = "is at least" if kwargs.get("or_equal") else "is greater than"
        skip = " (rows missing either are not checked)" if kwargs.get("ignore_row_if") else ""
        return f"{a} {verb} {b}{skip}", None
    if kind == "expect_column_values_to_be_in_set" and column == "__repeat":
        key = meta.get("key") or []
        what = ", ".join(str(k) for k in key) if key else "key"
        return f"no repeat of an earlier valid reading with the same {what}", None
    if kind == "expect_column_values_to_be_in_set":
        values = ", ".join(str(v) for v in kwargs.get("value_set") or [])
        return f"{name} is one of: {values}", None
    words = kind[len("expect_") :] if kind.startswith("expect_") else kind or "rule"
    return f"{name}: {words.replace('_', ' ')}", None


def _bound(value: Any) -> str | None:
    """A range limit as a reviewer reads it; a suite parameter by its name."""
    if value is None:
        return None
    if isinstance(value, dict) and "$PARAMETER" in value:
        return "the " + str(value["$PARAMETER"]).replace("_", " ")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (str, datetime)):
        try:
            moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
        except ValueError:
            return str(value)
        moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
        return f"{moment.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC"
    return str(value)


def _condition(kwargs: dict[str, Any]) -> str | None:
    condition = kwargs.get("row_condition")
    if not condition:
        return None
    simple = re.fullmatch(r"\s*([A-Za-z_][A-Za-z0-9_]*)\.notna\(\)\s*", str(condition))
    if simple:
        return f"Checked only where {real_column(simple.group(1))} is present."
    return f"Checked only where {condition}."


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


# --- templates ------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("vitalflow", "templates"),
        autoescape=True,  # every template, whatever its name: values never become markup
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["count_or_dash"] = lambda n: "–" if n is None else f"{int(n):,}"
    env.globals["version"] = __version__
    return env


def _render(template: str, **context: Any) -> str:
    return _environment().get_template(template).render(**context)
