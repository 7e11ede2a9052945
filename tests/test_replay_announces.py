"""A stage that finished re-announces its result on replay, so a lost announcement never loses a report.

If publishing ``BatchValidated`` fails after the manifest is written, the job fails; the rerun finds
the batch committed (a duplicate) and must announce it again, or it is never analysed or emailed.
Likewise ``analyze`` replayed returns the stored record and announces ``BatchAnalyzed`` again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest

from conftest import row
from vitalflow import stages
from vitalflow.pipeline import ingest

DASHBOARD_ONLY = {stages.BATCH_VALIDATING, stages.BATCH_EMAILED}


class FailingOnce:
    """An event bus that drops (raises on) its first routed event, then delivers: a lost PutEvents.
    The dashboard's own events (BatchValidating, BatchEmailed) go through: they route nothing."""

    def __init__(self, bus: Any) -> None:
        self.bus = bus
        self.failed = False

    def put(self, detail_type: str, detail: Mapping[str, Any]) -> None:
        if not self.failed and detail_type not in DASHBOARD_ONLY:
            self.failed = True
            raise ConnectionError("PutEvents timed out")
        self.bus.put(detail_type, detail)


def events(runtime) -> list[dict]:
    """The routed events (those a rule sends to the next stage)."""
    path = runtime.home / "events" / "events.jsonl"
    found = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    return [e for e in found if e["detail-type"] not in DASHBOARD_ONLY]


def test_a_lost_batch_validated_is_announced_by_the_rerun(runtime, write_csv) -> None:
    import dataclasses

    source = ingest(runtime, write_csv([row()]))
    flaky = dataclasses.replace(runtime, bus=FailingOnce(runtime.bus))
    with pytest.raises(ConnectionError):
        stages.validate(flaky, source)  # committed, then the announcement was lost
    assert events(runtime) == []
    again = stages.validate(runtime, source)
    assert again.duplicate
    (event, quality) = events(runtime)
    assert event["detail-type"] == "BatchValidated" and event["detail"]["replay"] is True
    assert quality["detail-type"] == "DataQualityEvaluated"
    record = stages.analyze(runtime, again.manifest.batch_id)
    assert stages.notify(runtime, record.batch_id)  # the report goes out after all


def test_analyze_replayed_announces_again_without_a_second_analysis(runtime, write_csv) -> None:
    validated = stages.validate(runtime, ingest(runtime, write_csv([row()])))
    first = stages.analyze(runtime, validated.manifest.batch_id)
    second = stages.analyze(runtime, validated.manifest.batch_id)
    assert second == first
    analyzed = [e for e in events(runtime) if e["detail-type"] == "BatchAnalyzed"]
    assert len(analyzed) == 2 and analyzed[1]["detail"]["replay"] is True
    assert stages.notify(runtime, first.batch_id)
    assert stages.notify(runtime, first.batch_id) is None  # replays never send a second email
