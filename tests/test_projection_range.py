"""Every processed row is visible through the deployed tables: its ``dt`` lies in the projection range.

Athena's partition projection on ``dt`` (terraform/modules/glue) covers 2000-01-01 to NOW+1DAYS;
the validation window (contract.EARLIEST_EVENT to the upload plus 24 hours) must sit inside it, or
a committed row would be counted by its manifest and never returned by Athena.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

from conftest import REPO, outputs, row
from vitalflow.contract import EARLIEST_EVENT, LATEST_EVENT_AFTER_UPLOAD_HOURS
from vitalflow.pipeline import run_file


def projection_range() -> tuple[date, int]:
    text = (REPO / "terraform" / "modules" / "glue" / "main.tf").read_text()
    found = re.search(r'"projection\.dt\.range"\s*=\s*"(\d{4}-\d{2}-\d{2}),NOW\+(\d+)DAYS"', text)
    assert found, "the dt projection range is not 'YYYY-MM-DD,NOW+NDAYS'"
    return date.fromisoformat(found.group(1)), int(found.group(2))


def test_the_validation_window_lies_inside_the_projection_range():
    first, days_ahead = projection_range()
    assert date.fromisoformat(EARLIEST_EVENT[:10]) >= first
    # The latest accepted reading is dated the upload plus 24 h; queried any time after the upload,
    # NOW+N days reaches its date as long as N covers those hours.
    assert days_ahead * 24 >= LATEST_EVENT_AFTER_UPLOAD_HOURS


def test_rows_at_the_edges_of_the_window_land_in_visible_partitions(runtime, write_csv):
    first, days_ahead = projection_range()
    now = datetime.now(timezone.utc)
    edges = [
        row(event_time="2000-01-01T00:00:00Z"),
        row(user_id="u-2", event_time=(now + timedelta(hours=23, minutes=59)).strftime("%Y-%m-%dT%H:%M:%SZ")),
        row(user_id="u-3", event_time="1999-12-31T23:59:59Z"),
        row(user_id="u-4", event_time=(now + timedelta(hours=25)).strftime("%Y-%m-%dT%H:%M:%SZ")),
    ]
    outcome = run_file(runtime, write_csv(edges))
    processed, rejected = outputs(runtime, outcome.batch_id)
    assert len(processed) == 2 and len(rejected) == 2
    manifest_dts = {date.fromisoformat(dt) for dt in outcome_partitions(runtime, outcome.batch_id)}
    latest_visible = now.date() + timedelta(days=days_ahead)
    assert all(first <= dt <= latest_visible for dt in manifest_dts), manifest_dts


def outcome_partitions(runtime, batch_id: str) -> list[str]:
    from vitalflow.manifests import read_manifest

    manifest = read_manifest(runtime.store, batch_id)
    assert manifest is not None
    return manifest.partitions
