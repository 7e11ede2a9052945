"""Helpers of the Data Docs tests: a real GE result captured from a real pipeline run, a direct
publisher, and readers of the published HTML."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from html.parser import HTMLParser
from pathlib import Path
from unittest import mock

from conftest import csv_text, row
from vitalflow.config import Settings
from vitalflow.datadocs.page import DocsFacts
from vitalflow.datadocs.publish import publish_docs
from vitalflow.pipeline import run_file
from vitalflow.runtime import local_runtime

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)


def mixed_rows() -> list[dict[str, str]]:
    """A batch failing one rule of most kinds: range, format, pair, calendar, duplicate, user id."""
    rows = [row(user_id=f"u{i}", heart_rate="300" if i % 10 == 0 else "70") for i in range(45)]
    rows += [
        row(user_id="u-pair", systolic_bp="114", diastolic_bp="119"),
        row(user_id="u-cal", event_time="2026-02-30T10:00:00Z"),
        row(user_id="secret id 42"),
        row(user_id="u-temp", temp_c="47.5"),
        rows[1],  # a duplicate of line 3 (line 1 is the header)
    ]
    return rows


def capture_result(tmp_path: Path, rows: list[dict[str, str]], name: str = "clinic-north.csv"):
    """Run the real pipeline and keep the GE result it hands to publish_docs."""
    runtime = local_runtime(Settings(home=tmp_path / "capture-lake", chunk_rows=7))
    source = tmp_path / "capture-in" / name
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_text(csv_text(rows), encoding="utf-8")
    captured = []
    real = publish_docs

    def spy(result, **kwargs):
        captured.append(result)
        return real(result, **kwargs)

    with mock.patch("vitalflow.validate.batch.publish_docs", spy):
        outcome = run_file(runtime, source)
    assert captured, outcome
    return captured[0], outcome, runtime


def publish(store, result, batch_id: str, when: datetime, *, name: str = "clinic.csv", rejected: int = 3):
    facts = DocsFacts(
        rows_in=50,
        rows_processed=50 - rejected,
        rows_rejected=rejected,
        rejected_by_reason={"heart_rate:out_of_range": 2, "row:malformed": 1} if rejected else {},
        source=f"s3://vitalflow-data/raw/2026-11-20/{name}",
    )
    return publish_docs(
        result, batch_id=batch_id, run_time=when, data_store=store, docs_store=store, facts=facts
    )


class Tags(HTMLParser):
    """Every start tag and attribute name of a page, and its visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: set[str] = set()
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes.update(name for name, _ in attrs)

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> Tags:
    parser = Tags()
    parser.feed(html)
    return parser


def batch_ids_listed(html: str) -> list[str]:
    return re.findall(r'href="(?:\.\./)*validations/([0-9a-f]+)\.html"', html)
