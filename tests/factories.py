"""Hand-built reports and records for the enrich and notify tests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from vitalflow.models import (
    Analysis,
    BatchRecord,
    BatchReport,
    HistoryPoint,
    HourlyPoint,
    Manifest,
    Overview,
    ReasonCount,
    RuleStat,
    SourceRef,
    SuiteInfo,
)

T0 = datetime(2026, 11, 20, 0, 0, tzinfo=timezone.utc)
LABELS = {
    "low_spo2": "SpO2 below 92%",
    "abnormal_heart_rate": "Heart rate below 60 or above 160 bpm",
    "fever": "Temperature above 38.0 °C",
    "high_blood_pressure": "Blood pressure above 140/90 mmHg",
}


def report(
    *,
    readings: int = 10_000,
    rules: dict[str, tuple[int, int]] | None = None,  # rule -> (readings, users)
    users: list[tuple[str, int, dict[str, int]]] | None = None,
    history: list[float] | None = None,
    rejected: int = 50,
    reasons: list[tuple[str, int]] | None = None,
    batch_id: str = "b0c0ffee00000001",
) -> BatchReport:
    rules = rules or {}
    stats = [
        RuleStat(
            rule=r,
            label=label,
            readings=rules.get(r, (0, 0))[0],
            rate=rules.get(r, (0, 0))[0] / readings,
            users=rules.get(r, (0, 0))[1],
        )
        for r, label in LABELS.items()
    ]
    anomalies = sum(n for n, _ in rules.values())
    from vitalflow.models import UserAnomalies

    return BatchReport(
        overview=Overview(
            batch_id=batch_id,
            rows_in=readings + rejected,
            rows_processed=readings,
            rows_rejected=rejected,
            reject_rate=rejected / (readings + rejected),
            users=40,
            first_event=T0,
            last_event=T0 + timedelta(hours=5),
        ),
        rules=stats,
        anomaly_readings=anomalies,
        anomaly_rate=anomalies / readings,
        top_users=[UserAnomalies(user_id=u, readings=200, anomalies=a, rules=r) for u, a, r in (users or [])],
        hourly=[
            HourlyPoint(hour=T0 + timedelta(hours=h), readings=2000, anomalies=anomalies // 5)
            for h in range(5)
        ],
        reject_reasons=[
            ReasonCount(reason=r, rows=n) for r, n in (reasons or [("heart_rate:out_of_range", rejected)])
        ],
        history=[
            HistoryPoint(
                batch_id=f"old{i:013d}",
                ingested_at=T0 - timedelta(days=i + 1),
                readings=9000,
                anomaly_rate=rate,
            )
            for i, rate in enumerate(history or [])
        ],
        generated_at=T0 + timedelta(hours=6),
    )


def manifest(
    batch_id: str = "b0c0ffee00000001",
    *,
    status: str = "processed",
    error: str | None = None,
    key: str = "raw/2026-11-20/clinic-a.csv",
) -> Manifest:
    return Manifest(
        batch_id=batch_id,
        source=SourceRef(key=key),
        sha256=batch_id * 4,
        bytes=123_456,
        status=status,  # type: ignore[arg-type]
        error=error,
        rows_in=10_050,
        rows_processed=10_000,
        rows_rejected=50,
        suite=SuiteInfo(name="health_vitals", sha256="0" * 64),
        docs="/lake/docs/validations/x.html",
        started_at=T0 + timedelta(hours=6),
    )


def record(rep: BatchReport | None = None, analysis: Analysis | None = None) -> BatchRecord:
    from vitalflow.enrich.rules import RulesAnalyst

    rep = rep or report(
        rules={"low_spo2": (150, 3), "fever": (40, 2)},
        users=[("user-17", 90, {"low_spo2": 90}), ("user-08", 40, {"fever": 40})],
        history=[0.01, 0.012],
    )
    return BatchRecord(
        batch_id=rep.overview.batch_id,
        manifest=manifest(rep.overview.batch_id),
        report=rep,
        analysis=analysis or RulesAnalyst().analyze(rep),
        created_at=T0 + timedelta(hours=6),
    )
