"""A batch's report as the dashboard shows it: the emailed HTML part, with users by rank only.

The email goes to the care team, who act on named users; the dashboard is for anyone watching the
pipeline and shows aggregates only, so the per-user rows keep their counts and lose their ids.
"""

from __future__ import annotations

from pathlib import Path

from vitalflow import lake
from vitalflow.models import BatchRecord
from vitalflow.ports import ObjectStore

REPORTS = f"{lake.DOCS}reports/"  # beside Data Docs: the AWS dashboard links here (dashboard-config.json)


def report_page(record: BatchRecord, docs_url: str | None) -> str:
    from vitalflow.notify.render import render_report

    users = [u.model_copy(update={"user_id": f"user #{n}"}) for n, u in enumerate(record.report.top_users, 1)]
    report = record.report.model_copy(update={"top_users": users})
    _, html = render_report(record.model_copy(update={"report": report}), docs_url, chart_cid=None)
    return html


def stored_record(home: Path, batch_id: str) -> BatchRecord | None:
    """The batch's analysis record in the local lake's results database, if it has one."""
    from vitalflow.local.result_store import SqliteResultStore

    database = home / "results" / "vitalflow.db"
    return SqliteResultStore(database).get(batch_id) if database.is_file() else None


def publish_report_page(docs_store: ObjectStore, record: BatchRecord, docs_url: str | None) -> str:
    """Put the batch's report page beside Data Docs (same bucket and access); returns its key.

    Written before the email is sent, so a report the dashboard calls emailed always has its page.
    """
    key = f"{REPORTS}{record.manifest.batch_id}.html"
    docs_store.put_bytes(key, report_page(record, docs_url).encode(), "text/html; charset=utf-8")
    return key
