"""Render the report's text and HTML parts from Jinja2 templates.

HTML autoescaping is on, so a value from the data such as ``<script>`` shows as text. Values that
start like a spreadsheet formula (``=HYPERLINK(...)``) are prefixed with an apostrophe in both parts,
so that pasting the email into a spreadsheet keeps them inert.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from vitalflow.digest.model import Digest
from vitalflow.models import BatchRecord, Manifest
from vitalflow.spreadsheet import inert

RISK_COLOURS = {"low": "#15803d", "moderate": "#b45309", "high": "#b91c1c"}


def pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "-"


def _environment(autoescape: bool) -> Environment:
    env = Environment(
        loader=PackageLoader("vitalflow", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=True) if autoescape else False,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(inert=inert, pct=pct, when=when, thousands=lambda n: f"{int(n):,}")
    env.filters.update(
        pct_or_dash=pct_or_dash, thousands_or_dash=thousands_or_dash, metric=metric, spark=spark
    )
    return env


def pct_or_dash(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}%"


def thousands_or_dash(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def metric(value: float | None, check: Any) -> str:
    """A digest check's value: a rate as a percentage, a row count as a number."""
    return pct_or_dash(value) if check.is_rate else thousands_or_dash(value)


SPARKS = "▁▂▃▄▅▆▇█"


def spark(points: list[Any]) -> str:
    """The reject rate per day as a text sparkline (a day without batches is a space)."""
    rates = [p.reject_rate for p in points]
    top = max((r for r in rates if r is not None), default=0.0)
    return "".join(
        " " if r is None else SPARKS[min(len(SPARKS) - 1, int(len(SPARKS) * r / top)) if top else 0]
        for r in rates
    )


HTML = _environment(autoescape=True)
TEXT = _environment(autoescape=False)


def report_context(record: BatchRecord, docs_url: str | None, chart_cid: str | None) -> dict[str, Any]:
    report = record.report
    previous = [h.anomaly_rate for h in report.history]
    baseline = sum(previous) / len(previous) if previous else None
    return {
        "record": record,
        "manifest": record.manifest,
        "report": report,
        "analysis": record.analysis,
        "overview": report.overview,
        "baseline": baseline,
        "risk_colour": RISK_COLOURS[record.analysis.risk_level],
        "docs_url": docs_url,
        "chart_cid": chart_cid,
    }


def render_report(record: BatchRecord, docs_url: str | None, chart_cid: str | None) -> tuple[str, str]:
    context = report_context(record, docs_url, chart_cid)
    return TEXT.get_template("report.txt.j2").render(context), HTML.get_template("report.html.j2").render(
        context
    )


def render_digest(digest: Digest) -> tuple[str, str]:
    """The digest's text and HTML: what needs attention first, then each source."""
    context = {"digest": digest, "findings": digest.findings}
    return TEXT.get_template("digest.txt.j2").render(context), HTML.get_template("digest.html.j2").render(
        context
    )


def render_failure(manifest: Manifest) -> tuple[str, str]:
    context = {"manifest": manifest}
    return TEXT.get_template("failure.txt.j2").render(context), HTML.get_template("failure.html.j2").render(
        context
    )
