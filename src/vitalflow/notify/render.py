"""Render the report and failure alert as text and HTML from Jinja2 templates.

Values from the data (user ids, reasons, file names, error messages, even the model's prose) are
made inert in one place, the environments' ``finalize`` hook, so a template cannot forget it:

* HTML autoescaping turns ``<script>`` into text;
* a value starting like a spreadsheet formula (``=HYPERLINK(...)``, ``+``, ``-``, ``@``) gets a
  leading apostrophe, the convention spreadsheets honour, in both parts, so pasting the email into
  a sheet keeps it inert;
* control and bidirectional-override characters are shown as ``\\uXXXX`` so nothing can hide or
  reorder text.

Numbers are formatted by the filters here and never start with ``-`` or ``+``: what the templates
print is either literal template text, a formatted number, or a neutralised value.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from vitalflow.models import BatchRecord, HistoryPoint, Manifest, ReasonCount
from vitalflow.notify.chart import Chart

RISK_COLOURS = {"low": "#15803d", "moderate": "#b45309", "high": "#b91c1c"}
RISK_TINTS = {"low": "#f0fdf4", "moderate": "#fffbeb", "high": "#fef2f2"}
FORMULA_START = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")  # and their full-width forms
HIDDEN = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
MAX_VALUE_CHARS = 1_000  # one runaway value must not bury the report
HISTORY_ROWS = 5
TEXT_HOURS = 48
SAME_RATE_POINTS = 0.1  # a change smaller than this (percentage points) reads as "in line with"
LINK_SCHEMES = ("https", "http", "file")
BAR_PX = 72  # the widest bar in the rule table, for the rule with the highest rate


def inert(value: Any) -> Any:
    """Neutralise a value for display; numbers and our own Markup pass through unchanged."""
    if value is None:
        return ""
    if isinstance(value, Markup) or not isinstance(value, str):
        return value
    text = value if len(value) <= MAX_VALUE_CHARS else value[: MAX_VALUE_CHARS - 1] + "…"
    text = HIDDEN.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return "\n".join(
        "'" + line if line.lstrip().startswith(FORMULA_START) else line for line in text.split("\n")
    )


def pct(rate: float) -> str:
    value = 100 * rate
    if value == 0:
        return "0%"
    return f"{value:.2f}%" if value < 0.1 else f"{value:.1f}%"


def thousands(n: int | float) -> str:
    return f"{int(n):,}"


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "—"


def day(value: datetime | None) -> str:
    return value.strftime("%d %b %Y") if value else "—"


def words(name: str) -> str:
    """``abnormal_heart_rate`` -> ``abnormal heart rate``."""
    return name.replace("_", " ")


@dataclass(frozen=True)
class Comparison:
    """This batch's anomaly rate against the mean of previous batches (the rules analyst's baseline)."""

    rate: float
    baseline: float | None
    batches: int

    @property
    def direction(self) -> str:  # "up", "down", "same" or "first"
        if self.baseline is None:
            return "first"
        delta = 100 * (self.rate - self.baseline)
        if abs(delta) < SAME_RATE_POINTS:
            return "same"
        return "up" if delta > 0 else "down"

    @property
    def sentence(self) -> str:
        if self.baseline is None:
            return "No earlier batches of this dataset to compare with."
        batches = f"the previous {self.batches} batch" + ("es" if self.batches != 1 else "")
        points = abs(100 * (self.rate - self.baseline))
        if self.direction == "same":
            return f"In line with {batches} ({pct(self.baseline)} on average)."
        return f"{self.direction.capitalize()} {points:.1f} points on {batches} ({pct(self.baseline)} on average)."

    @property
    def colour(self) -> str:
        return {"up": "#b91c1c", "down": "#15803d"}.get(self.direction, "#6b7280")

    @property
    def arrow(self) -> str:
        return {"up": "▲", "down": "▼", "same": "●"}.get(self.direction, "")


@dataclass(frozen=True)
class Rejection:
    column: str  # "heart_rate", or "whole row"
    problem: str  # "out of range"
    rows: int


def rejection(reason: ReasonCount) -> Rejection:
    """``heart_rate:out_of_range`` reads better as a column and a problem."""
    column, sep, problem = reason.reason.partition(":")
    if not sep:
        return Rejection("—", words(reason.reason), reason.rows)
    return Rejection("whole row" if column == "row" else column, words(problem), reason.rows)


def baseline(history: Sequence[HistoryPoint]) -> float | None:
    return sum(h.anomaly_rate for h in history) / len(history) if history else None


def link(url: str | None) -> str | None:
    """Only links a reader can follow safely become links; anything else is shown as text."""
    return url if url and urlsplit(url).scheme in LINK_SCHEMES else None


def _environment(*, html: bool) -> Environment:
    env = Environment(
        loader=PackageLoader("vitalflow", "templates"),
        autoescape=html,
        undefined=StrictUndefined,
        finalize=inert,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(pct=pct, thousands=thousands, when=when, day=day, words=words)
    return env


HTML = _environment(html=True)
TEXT = _environment(html=False)


def report_context(record: BatchRecord, docs_url: str | None, chart: Chart | None, chart_cid: str | None) -> dict[str, Any]:
    report = record.report
    analysis = record.analysis
    comparison = Comparison(report.anomaly_rate, baseline(report.history), len(report.history))
    recent = sorted(report.history, key=lambda h: h.ingested_at, reverse=True)[:HISTORY_ROWS]
    top_rate = max((r.rate for r in report.rules), default=0.0)
    bars = [round(BAR_PX * r.rate / top_rate) if top_rate else 0 for r in report.rules]
    preheader = (
        f"{analysis.risk_level.capitalize()} risk: {report.anomaly_readings:,} anomalous readings "
        f"({pct(report.anomaly_rate)}) in {report.overview.rows_processed:,}; "
        f"{report.overview.rows_rejected:,} rows rejected."
    )
    return {
        "record": record,
        "manifest": record.manifest,
        "report": report,
        "analysis": analysis,
        "overview": report.overview,
        "comparison": comparison,
        "recent": recent,
        "rules": list(zip(report.rules, bars)),
        "bar_px": BAR_PX,
        "rejections": [rejection(r) for r in report.reject_reasons],
        "source_name": record.manifest.source.key.rsplit("/", 1)[-1] or record.manifest.source.key,
        "risk_colour": RISK_COLOURS[analysis.risk_level],
        "risk_tint": RISK_TINTS[analysis.risk_level],
        "docs_link": link(docs_url),
        "docs_text": docs_url or record.manifest.docs,
        "chart": chart,
        "chart_cid": chart_cid,
        "hours": report.hourly[:TEXT_HOURS],
        "preheader": preheader,
    }


def render_report(
    record: BatchRecord, docs_url: str | None, chart: Chart | None = None, chart_cid: str | None = None
) -> tuple[str, str]:
    """The text and HTML parts; the HTML shows the chart only when it is attached (``chart_cid``)."""
    context = report_context(record, docs_url, chart, chart_cid)
    return (
        TEXT.get_template("report.txt.j2").render(context),
        HTML.get_template("report.html.j2").render(context),
    )


def render_failure(manifest: Manifest) -> tuple[str, str]:
    context = {
        "manifest": manifest,
        "source_name": manifest.source.key.rsplit("/", 1)[-1] or manifest.source.key,
        "error": manifest.error or "the validation job failed without a message; see its log",
    }
    return (
        TEXT.get_template("failure.txt.j2").render(context),
        HTML.get_template("failure.html.j2").render(context),
    )
