"""Render the report's text and HTML parts from Jinja2 templates.

HTML autoescaping is on, so a value from the data such as ``<script>`` shows as text. Values that
start like a spreadsheet formula (``=HYPERLINK(...)``) are prefixed with an apostrophe in both parts,
so that pasting the email into a spreadsheet keeps them inert.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

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
    return env


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


def render_failure(manifest: Manifest) -> tuple[str, str]:
    context = {"manifest": manifest}
    return TEXT.get_template("failure.txt.j2").render(context), HTML.get_template("failure.html.j2").render(
        context
    )
