"""A batch's report as the dashboard shows it: the emailed HTML part, with users by rank only.

The email goes to the care team, who act on named users; the dashboard is for anyone watching the
pipeline and shows aggregates only, so the per-user rows keep their counts and lose their ids.
"""

from __future__ import annotations

from pathlib import Path

from vitalflow.models import BatchRecord


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
