"""The request to the model: aggregates only.

No user id, no raw row, and no free text that came from a CSV ever reaches the prompt: users are
"user A, B, C" by anomaly rank, reasons are kept only when they have the shape of our own codes,
and labels come from our SQL, not from the data.
"""

from __future__ import annotations

import json
import re
import string
from typing import Any

from vitalflow.enrich.schema import JSON_SCHEMA
from vitalflow.models import BatchReport

REASON = re.compile(r"^[a-z_]+:[a-z_]+$")
RULES = ("low_spo2", "abnormal_heart_rate", "fever", "high_blood_pressure")

SYSTEM = (
    "You are a clinical data analyst reviewing one batch of health-vitals readings from wearable devices. "
    "You see aggregates only. Write concise, factual insights about what the numbers show, practical "
    "recommendations for the care team, and a two-sentence executive summary. Do not invent numbers. "
    "Answer with one JSON object and nothing else, matching this JSON schema: " + json.dumps(JSON_SCHEMA)
)


def aggregates(report: BatchReport) -> dict[str, Any]:
    """The facts the model may see, with every user anonymised."""
    ov = report.overview
    return {
        "readings": ov.rows_processed,
        "rows_rejected": ov.rows_rejected,
        "reject_rate": round(ov.reject_rate, 4),
        "users": ov.users,
        "hours_covered": len(report.hourly),
        "anomaly_readings": report.anomaly_readings,
        "anomaly_rate": round(report.anomaly_rate, 4),
        "rules": [
            {
                "rule": r.rule,
                "definition": r.label,
                "readings": r.readings,
                "rate": round(r.rate, 4),
                "users": r.users,
            }
            for r in report.rules
            if r.rule in RULES
        ],
        "top_users": [
            {
                "user": f"user {_letter(i)}",
                "readings": u.readings,
                "anomalies": u.anomalies,
                "rules": {k: v for k, v in u.rules.items() if k in RULES},
            }
            for i, u in enumerate(report.top_users)
        ],
        "busiest_hours": [
            {"hour_utc": h.hour.strftime("%Y-%m-%d %H:00"), "readings": h.readings, "anomalies": h.anomalies}
            for h in sorted(report.hourly, key=lambda h: -h.anomalies)[:6]
        ],
        "reject_reasons": [
            {"reason": r.reason, "rows": r.rows} for r in report.reject_reasons if REASON.match(r.reason)
        ],
        "previous_batches_anomaly_rates": [round(h.anomaly_rate, 4) for h in report.history],
    }


def converse_request(report: BatchReport, model_id: str) -> dict[str, Any]:
    return {
        "modelId": model_id,
        "system": [{"text": SYSTEM}],
        "messages": [
            {
                "role": "user",
                "content": [{"text": "Batch aggregates:\n" + json.dumps(aggregates(report), sort_keys=True)}],
            }
        ],
        "inferenceConfig": {"maxTokens": 1200, "temperature": 0.2},
    }


def _letter(i: int) -> str:
    letters = string.ascii_uppercase
    return letters[i] if i < len(letters) else letters[i // 26 - 1] + letters[i % 26]
