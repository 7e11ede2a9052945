"""The report page beside Data Docs (what the dashboard's "report" link opens, on AWS too): the emailed
report's content with users by rank, never by id."""

from __future__ import annotations

from vitalflow.config import Settings
from vitalflow.generate import GeneratorOptions, generate
from vitalflow.pipeline import run_file
from vitalflow.runtime import local_runtime


def test_the_report_page_is_published_with_users_by_rank(tmp_path):
    home = tmp_path / "lake"
    outcome = run_file(
        local_runtime(Settings(home=home)), generate(GeneratorOptions(rows=2000, seed=3), tmp_path / "c.csv")
    )
    assert outcome.status == "processed", outcome.error
    page = (home / "docs" / "reports" / f"{outcome.batch_id}.html").read_text()
    emailed = next((home / "outbox").glob("*.html")).read_text()
    assert "user-0" in emailed  # the care team's email names the users it ranks...
    assert "user #1" in page and "user-0" not in page  # ...the page anyone watching can open does not
    assert "per hour" in emailed and "per hour" not in page  # no chart on the page: no empty section either
