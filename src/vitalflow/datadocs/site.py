"""The Data Docs site: where its pages live, and the day, month and index pages that list batches.

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

Cost does not grow with history. Publishing a batch rebuilds three small pages from LISTings only
(entry keys hold every field a listing shows, so no entry is ever downloaded): its day (that day's
entries), its month (at most 31 day pages) and the index (the month pages, then the newest days'
entries until INDEX_LIMIT batches or LOOKBACK_DAYS days). Only a day page grows with the number of
batches *that day*. ``bench/docs_bench.py`` measures the 1st vs the 1,000th.

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

Pages are rendered with Jinja2 (autoescape on every template) and one hand-written stylesheet that
ships as package data: no scripts, no inline styles, nothing from a CDN, so they work from a file,
an S3 website or behind ``Content-Security-Policy: default-src 'self'``.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from importlib import resources
from typing import Any, TypeVar

from jinja2 import Environment, PackageLoader, StrictUndefined

from vitalflow import __version__, lake
from vitalflow.ports import ObjectStore

INDEX_LIMIT = 100
LOOKBACK_DAYS = 35  # the index looks no further back for its newest batches (months link the rest)
MAX_PAGE_WRITES = 8  # re-renders per page while other publishers keep adding entries
VALIDATIONS = f"{lake.DOCS}validations/"
ENTRIES = f"{lake.DOCS}index/"
MONTHS = f"{lake.DOCS}months/"
DAYS = f"{lake.DOCS}days/"
INDEX_PAGE = f"{lake.DOCS}index.html"
HTML_TYPE = "text/html; charset=utf-8"
_LATEST = 9_999_999_999  # entry keys sort newest first: <_LATEST - epoch seconds>
_NAME_BYTES = 96  # of the source file name kept in an entry key (local file names stop at 255)
_STATUS_LABEL = {"passed": "Passed", "failed": "Rows rejected"}
State = TypeVar("State")


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
    days |= set(_page_names(docs_store, DAYS))
    return len(days), refresh_pages(docs_store, days)


def _page_names(docs_store: ObjectStore, prefix: str) -> list[str]:
    """The names of the pages under ``prefix`` (days or months), newest first."""
    keys = docs_store.list_keys(prefix)
    return sorted((k.rsplit("/", 1)[-1][: -len(".html")] for k in keys if k.endswith(".html")), reverse=True)


def refresh_day(docs_store: ObjectStore, day: str, stylesheet: str) -> int:
    """Rewrite one day's page (every batch of that day) from the listing of its entries."""

    def page(entries: list[IndexEntry]) -> str:
        views = [e.view() for e in entries]
        return render_template(
            "docs/day.html.j2", root="../../", stylesheet=stylesheet, day=day, entries=views
        )

    listing = _write_until_stable(
        docs_store, f"{DAYS}{day[:7]}/{day}.html", lambda: _entries(docs_store, day), page
    )
    return len(listing)


def refresh_month(docs_store: ObjectStore, month: str, stylesheet: str) -> int:
    """Rewrite one month's page (a link per day with batches) from the listing of its day pages."""

    def page(days: list[str]) -> str:
        return render_template(
            "docs/month.html.j2", root="../", stylesheet=stylesheet, month=month, days=days
        )

    listing = _write_until_stable(
        docs_store, f"{MONTHS}{month}.html", lambda: _page_names(docs_store, f"{DAYS}{month}/"), page
    )
    return len(listing)


def refresh_index(docs_store: ObjectStore, stylesheet: str) -> int:
    """Rewrite the index: the newest INDEX_LIMIT batches (at most LOOKBACK_DAYS days back), the months."""

    def newest() -> tuple[list[str], list[IndexEntry]]:
        months = _page_names(docs_store, MONTHS)
        days = (day for month in months for day in _page_names(docs_store, f"{DAYS}{month}/"))
        entries: list[IndexEntry] = []
        for visited, day in enumerate(days, start=1):
            entries.extend(_entries(docs_store, day))
            if len(entries) >= INDEX_LIMIT or visited >= LOOKBACK_DAYS:
                break
        return months, entries[:INDEX_LIMIT]

    def page(state: tuple[list[str], list[IndexEntry]]) -> str:
        months, entries = state
        views = [e.view() for e in entries]
        return render_template(
            "docs/index.html.j2",
            root="",
            stylesheet=stylesheet,
            months=months,
            entries=views,
            limit=INDEX_LIMIT,
        )

    _, entries = _write_until_stable(docs_store, INDEX_PAGE, newest, page, keep_empty=True)
    return len(entries)


def _write_until_stable(
    docs_store: ObjectStore,
    key: str,
    listing: Callable[[], State],
    page: Callable[[State], str],
    keep_empty: bool = False,
) -> State:
    """Render from a listing, write, re-list; repeat while other publishers changed the listing.

    A page whose listing is empty is deleted (a day or month without batches), the index excepted.
    """
    state = listing()
    for _ in range(MAX_PAGE_WRITES):
        if state or keep_empty:
            docs_store.put_bytes(key, page(state).encode("utf-8"), HTML_TYPE)
        else:
            docs_store.delete([key])
        fresh = listing()
        if fresh == state:
            break
        state = fresh
    return state


def _entries(docs_store: ObjectStore, day: str) -> list[IndexEntry]:
    """A day's entries, newest first (the key order), one per batch."""
    found: dict[str, IndexEntry] = {}
    for key in sorted(docs_store.list_keys(f"{ENTRIES}{day}/")):
        entry = IndexEntry.from_key(key)
        if entry is not None and entry.batch_id not in found:
            found[entry.batch_id] = entry
    return list(found.values())


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


def render_template(template: str, **context: Any) -> str:
    return _environment().get_template(template).render(**context)
