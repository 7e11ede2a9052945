"""Stage 3, aggregate: the batch's anomaly report from the SQL in ``sql/report/``.

The same stored queries run on Athena or on DuckDB; only the engine passed in differs. Queries are
bound to the batch and to the partitions its manifest lists, so they read only that batch's data.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from vitalflow.aggregate.queries import load_all
from vitalflow.exceptions import QueryError
from vitalflow.models import (
    BatchReport,
    HistoryPoint,
    HourlyPoint,
    Manifest,
    Overview,
    ReasonCount,
    RuleStat,
    UserAnomalies,
)
from vitalflow.ports import QueryEngine

RULES = ("low_spo2", "abnormal_heart_rate", "fever", "high_blood_pressure")
HISTORY_DAYS = 90  # how far back the trend comparison looks, which also bounds what it scans


def report_params(manifest: Manifest, *, top_users: int = 10, history_limit: int = 10) -> dict[str, Any]:
    """The named parameters every report query draws from, derived from the manifest alone."""
    ingest_day = manifest.started_at.astimezone(timezone.utc).date()
    rejected_dt = _dt_of(manifest.rejected_files[0]) if manifest.rejected_files else ingest_day.isoformat()
    partitions = sorted(manifest.partitions) or [ingest_day.isoformat()]
    return {
        "batch_id": manifest.batch_id,
        "dt_from": partitions[0],
        "dt_to": partitions[-1],
        "rejected_dt": rejected_dt,
        "top_n": top_users,
        "history_n": history_limit,
        "history_from": (ingest_day - timedelta(days=HISTORY_DAYS)).isoformat(),
        "ingested_at": manifest.started_at,
    }


def build_report(
    manifest: Manifest, engine: QueryEngine, *, history_limit: int = 10, top_users: int = 10
) -> BatchReport:
    if manifest.status != "processed":
        raise QueryError(f"batch {manifest.batch_id} is {manifest.status}; there is nothing to aggregate")
    params = report_params(manifest, top_users=top_users, history_limit=history_limit)
    run = _runner(engine, params)
    (overview,) = run("report/batch_overview") or [{}]
    readings = _int(overview.get("readings"))
    rejected = _int(overview.get("rejected"))
    anomalies = _int(overview.get("anomaly_readings"))
    return BatchReport(
        overview=Overview(
            batch_id=manifest.batch_id,
            rows_in=manifest.rows_in,
            rows_processed=readings,
            rows_rejected=rejected,
            reject_rate=float(overview.get("reject_rate") or 0.0),
            users=_int(overview.get("users")),
            first_event=_utc(overview.get("first_event")),
            last_event=_utc(overview.get("last_event")),
        ),
        rules=[
            RuleStat(
                rule=r["rule"],
                label=r["label"],
                readings=_int(r["readings"]),
                rate=float(r["rate"] or 0.0),
                users=_int(r["users"]),
            )
            for r in run("report/anomaly_rules")
        ],
        anomaly_readings=anomalies,
        anomaly_rate=anomalies / readings if readings else 0.0,
        top_users=[
            UserAnomalies(
                user_id=u["user_id"],
                readings=_int(u["readings"]),
                anomalies=_int(u["anomalies"]),
                rules={rule: _int(u[rule]) for rule in RULES if _int(u.get(rule))},
            )
            for u in run("report/top_users")
        ],
        hourly=[
            HourlyPoint(
                hour=_utc(h["hour"]) or datetime.min.replace(tzinfo=timezone.utc),
                readings=_int(h["readings"]),
                anomalies=_int(h["anomalies"]),
            )
            for h in run("report/hourly_trend")
        ],
        reject_reasons=[
            ReasonCount(reason=r["reason"], rows=_int(r["rows"])) for r in run("report/reject_reasons")
        ],
        history=[
            HistoryPoint(
                batch_id=h["batch_id"],
                ingested_at=_utc(h["ingested_at"]) or manifest.started_at,
                readings=_int(h["readings"]),
                anomaly_rate=float(h["anomaly_rate"] or 0.0),
            )
            for h in reversed(run("report/batch_history"))
        ],
        generated_at=datetime.now(timezone.utc),
    )


def _runner(engine: QueryEngine, params: Mapping[str, Any]) -> Any:
    queries = load_all()

    def run(name: str) -> list[dict[str, Any]]:
        query = queries[name]
        return list(engine.query(query.athena, {k: params[k] for k in query.params}).to_pylist())

    return run


def _dt_of(key: str) -> str:
    return key.split("dt=", 1)[1].split("/", 1)[0]


def _int(value: Any) -> int:
    if value is None:
        return 0
    return int(value) if not isinstance(value, Decimal) else int(value.to_integral_value())


def _utc(value: Any) -> datetime | None:
    """Athena returns naive UTC timestamps, DuckDB aware ones: make both aware."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    raise QueryError(f"expected a timestamp, got {value!r}")
