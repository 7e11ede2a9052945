"""Stage 3, aggregate: the batch's anomaly report from the SQL in ``sql/report/``.

The same stored queries run on Athena or on DuckDB; only the engine passed in differs. Queries are
bound to the batch and to the partitions its manifest lists, so they read only that batch's data.
The comparison with earlier batches reads their one-row summaries (``batch_summary.sql``, stored
once per batch under ``summaries/``), newest days first, so a report costs the same on the lake's
first day and after years of batches.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pyarrow as pa

from vitalflow import lake
from vitalflow.aggregate.queries import load_all
from vitalflow.contract import SUMMARY_SCHEMA, one_row_parquet
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
from vitalflow.ports import ObjectStore, QueryEngine

RULES = ("low_spo2", "abnormal_heart_rate", "fever", "high_blood_pressure")
HISTORY_DAYS = 90  # how far back the trend comparison looks at most


def report_params(manifest: Manifest, *, top_users: int = 10, history_limit: int = 10) -> dict[str, Any]:
    """The named parameters every report query draws from, derived from the manifest alone."""
    ingest_day = _ingest_day(manifest)
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
        "history_to": ingest_day.isoformat(),
        "ingested_at": manifest.started_at,
    }


def build_report(
    manifest: Manifest,
    engine: QueryEngine,
    *,
    history_limit: int = 10,
    top_users: int = 10,
    summaries: ObjectStore | None = None,
) -> BatchReport:
    """The batch's report; with ``summaries`` (the lake), its summary row is stored there too.

    Storing the summary is idempotent (one object per batch, named by batch), so a replayed
    analysis rewrites the same row instead of adding one.
    """
    if manifest.status != "processed":
        raise QueryError(f"batch {manifest.batch_id} is {manifest.status}; there is nothing to aggregate")
    params = report_params(manifest, top_users=top_users, history_limit=history_limit)
    ingest_day = _ingest_day(manifest)
    run = _runner(engine.for_report(manifest, ingest_day - timedelta(days=1)), params)
    overview = _summary(run, manifest, summaries)
    readings = _int(overview.get("readings"))
    anomalies = _int(overview.get("anomaly_readings"))
    return BatchReport(
        overview=_overview(manifest, overview),
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
        history=_history_points(engine, manifest, run, history_limit),
        generated_at=datetime.now(timezone.utc),
    )


def _overview(manifest: Manifest, overview: dict[str, Any]) -> Overview:
    return Overview(
        batch_id=manifest.batch_id,
        rows_in=manifest.rows_in,
        rows_processed=_int(overview.get("readings")),
        rows_rejected=_int(overview.get("rejected")),
        reject_rate=float(overview.get("reject_rate") or 0.0),
        users=_int(overview.get("users")),
        first_event=_utc(overview.get("first_event")),
        last_event=_utc(overview.get("last_event")),
    )


def _history_points(engine: QueryEngine, manifest: Manifest, run: Any, limit: int) -> list[HistoryPoint]:
    """Earlier batches' summaries, oldest first."""
    return [
        HistoryPoint(
            batch_id=h["batch_id"],
            ingested_at=_utc(h["ingested_at"]) or manifest.started_at,
            readings=_int(h["readings"]),
            anomaly_rate=float(h["anomaly_rate"] or 0.0),
        )
        for h in reversed(_history(engine, manifest, run, limit))
    ]


def summarize(manifest: Manifest, engine: QueryEngine, store: ObjectStore | None = None) -> dict[str, Any]:
    """The batch's summary row (``batch_summary.sql``), stored in ``store`` when one is given."""
    run = _runner(engine.for_report(manifest, _ingest_day(manifest)), report_params(manifest))
    return _summary(run, manifest, store)


def _summary(run: Any, manifest: Manifest, store: ObjectStore | None) -> dict[str, Any]:
    (found,) = run("report/batch_summary") or [{}]
    row = {name: None if _missing(value) else value for name, value in found.items()}
    if store is not None:
        write_summary(store, manifest, row)
    return row


def _missing(value: Any) -> bool:
    """SQL NULL as it arrives: None (DuckDB), or NaN, NaT or pandas.NA (Athena through pandas)."""
    try:
        return value is None or bool(value != value)
    except TypeError:  # pandas.NA has no truth value
        return True


def write_summary(store: ObjectStore, manifest: Manifest, row: Mapping[str, Any]) -> str:
    """Store the batch's summary row (``batch_summary.sql``) as one Parquet object; returns its key."""
    values = {
        "batch_id": manifest.batch_id,
        "ingested_at": _utc(row.get("ingested_at")) or manifest.started_at,
        "first_event": _utc(row.get("first_event")),
        "last_event": _utc(row.get("last_event")),
        "reject_rate": None if row.get("reject_rate") is None else float(row["reject_rate"]),
        "source": manifest.source.name,
        **{name: _int(row.get(name)) for name in ("readings", "users", "anomaly_readings", "rejected")},
    }
    key = lake.summary_key(_ingest_day(manifest).isoformat(), manifest.batch_id)
    table = pa.Table.from_pylist([values], schema=SUMMARY_SCHEMA)
    store.put_bytes(key, one_row_parquet(table), "application/vnd.apache.parquet")
    return key


def _history(engine: QueryEngine, manifest: Manifest, run: Any, limit: int) -> list[dict[str, Any]]:
    """The newest earlier batches: the summaries of the last day, and when that day holds too few,
    of as many days as the rate found suggests (twice over), up to ``HISTORY_DAYS``.

    A busy lake reads one day of summaries, a quiet one a few weeks; never more than two queries.
    ``run`` already covers the last day; a wider look gets an engine over the wider window.
    """
    ingest_day = _ingest_day(manifest)
    rows = run("report/batch_history", history_from=(ingest_day - timedelta(days=1)).isoformat())
    if len(rows) >= limit:
        return list(rows)
    days = HISTORY_DAYS if not rows else min(HISTORY_DAYS, -(-2 * limit // len(rows)))
    since = ingest_day - timedelta(days=days)
    wider = _runner(engine.for_report(manifest, since), report_params(manifest, history_limit=limit))
    return list(wider("report/batch_history", history_from=since.isoformat()))


def _ingest_day(manifest: Manifest) -> date:
    return manifest.started_at.astimezone(timezone.utc).date()


def _runner(engine: QueryEngine, params: Mapping[str, Any]) -> Any:
    queries = load_all()

    def run(name: str, **overrides: Any) -> list[dict[str, Any]]:
        query = queries[name]
        given = {**params, **overrides}
        return list(engine.query(query.athena, {k: given[k] for k in query.params}).to_pylist())

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
