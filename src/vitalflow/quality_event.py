"""The ``DataQualityEvaluated`` event: a batch's data-quality verdict as AWS Glue Data Quality
announces its own (a score of rules passed over rules evaluated, and the counts), so a rule on the
bus can route a poor batch without parsing reports. Counts only: no user id or raw value.
"""

from __future__ import annotations

import json
from typing import Any

from vitalflow import lake
from vitalflow.models import Manifest
from vitalflow.ports import ObjectStore

DATA_QUALITY_EVALUATED = "DataQualityEvaluated"


def data_quality_detail(store: ObjectStore, manifest: Manifest) -> dict[str, Any]:
    """The event's detail, from the Great Expectations result the job stored beside the lake.

    A file refused as a whole never reached the rules: it is evaluated with no rules and a score
    of 0, and its error says why.
    """
    stats = _statistics(store, manifest)
    evaluated = int(stats.get("evaluated_expectations") or 0)
    passed = int(stats.get("successful_expectations") or 0)
    return {
        "batch_id": manifest.batch_id,
        "status": manifest.status,
        "ruleset": manifest.suite.name if manifest.suite else None,
        "score": round(passed / evaluated, 4) if evaluated else 0.0,
        "rules_evaluated": evaluated,
        "rules_passed": passed,
        "rules_failed": evaluated - passed,
        "rows_in": manifest.rows_in,
        "rows_processed": manifest.rows_processed,
        "rows_rejected": manifest.rows_rejected,
    }


def _statistics(store: ObjectStore, manifest: Manifest) -> dict[str, Any]:
    if manifest.suite is None:
        return {}
    key = f"{lake.GX_VALIDATIONS}{manifest.suite.name}/{manifest.batch_id}.json"
    if not store.exists(key):
        return {}
    stats: dict[str, Any] = json.loads(store.get_bytes(key)).get("statistics") or {}
    return stats
