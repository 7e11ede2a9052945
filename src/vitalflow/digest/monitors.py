"""The digest's monitors: a source's day against that source's own recent days.

Rates and row counts get robust bounds (median +/- k * scaled MAD over the days of the window
with data, computed by ``sql/digest/metric_bounds.sql``), so one odd day in the history does not
widen them the way a mean and standard deviation would. Freshness compares the silence since a
source's last batch with its usual gap between batches and with a fixed maximum. Failed files
and reject reasons new for the source are reported as they are. A source with fewer earlier days
than ``min_history_days`` is "learning": shown, never flagged on its rates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from vitalflow.aggregate.queries import load_all
from vitalflow.config import Settings
from vitalflow.digest.model import DayPoint, Digest, Finding, Freshness, MetricCheck, SourceDigest
from vitalflow.ports import QueryEngine
from vitalflow.summaries import as_int, utc


@dataclass(frozen=True)
class MonitorOptions:
    window_days: int = 14
    min_history_days: int = 7
    k: float = 3.0
    min_spread: float = 0.1
    cadence_factor: float = 3.0
    max_silence_hours: float = 72.0
    freshness_days: int = 30

    @classmethod
    def from_settings(cls, settings: Settings) -> MonitorOptions:
        """Each option from the setting ``digest_<name>`` (VITALFLOW_DIGEST_<NAME>)."""
        return cls(**{f.name: getattr(settings, f"digest_{f.name}") for f in fields(cls)})


def evaluate(engine: QueryEngine, day: date, options: MonitorOptions | None = None) -> Digest:
    """The digest of ingestion day ``day`` (UTC), from the summaries of the days before it."""
    options = options or MonitorOptions()
    window = day - timedelta(days=options.window_days)
    run = _runner(engine.for_summaries(window, day), day, options)  # locally: only what each reads
    daily = run("digest/daily_metrics", window_from=window)
    checks = run("digest/metric_bounds", window_from=window)
    reasons = run("digest/new_reject_reasons", window_from=window)
    lookback = day - timedelta(days=options.freshness_days)
    fresh = _runner(engine.for_summaries(lookback, day), day, options)(
        "digest/freshness", window_from=lookback
    )
    sources = sorted({r["source"] for r in daily} | {r["source"] for r in fresh})
    digest = Digest(
        day=day,
        generated_at=datetime.now(timezone.utc),
        window_days=options.window_days,
        min_history_days=options.min_history_days,
        sources=[
            _source(
                name,
                day,
                [r for r in daily if r["source"] == name],
                [r for r in checks if r["source"] == name],
                next((r for r in fresh if r["source"] == name), None),
                sorted(r["reason"] for r in reasons if r["source"] == name),
                options,
            )
            for name in sources
        ],
    )
    # what needs attention first, as the email leads with it; then by name
    ranked = sorted(digest.sources, key=lambda s: (not s.findings, s.source))
    return digest.model_copy(update={"sources": ranked})


def _source(
    name: str,
    day: date,
    daily: list[dict[str, Any]],
    checks: list[dict[str, Any]],
    fresh: dict[str, Any] | None,
    new_reasons: list[str],
    options: MonitorOptions,
) -> SourceDigest:
    today = next((r for r in daily if r["day"] == day.isoformat()), {})
    history = sum(1 for r in daily if r["day"] < day.isoformat() and as_int(r["batches"]))
    learning = history < options.min_history_days
    metrics = [_check(c, learning) for c in checks]
    freshness = _freshness(fresh, options) if fresh else None
    digest = SourceDigest(
        source=name,
        batches=as_int(today.get("batches")),
        failed_files=as_int(today.get("failed_files")),
        rows=as_int(today.get("rows")),
        reject_rate=today.get("reject_rate"),
        anomaly_rate=today.get("anomaly_rate"),
        history_days=history,
        learning=learning,
        checks=metrics,
        freshness=freshness,
        new_reject_reasons=[] if learning else new_reasons,
        trend=[_point(r) for r in daily],
    )
    return digest.model_copy(update={"findings": _findings(digest)})


def _check(row: Mapping[str, Any], learning: bool) -> MetricCheck:
    check = MetricCheck(
        metric=row["metric"],
        actual=float(row["actual"]),
        expected=_float(row.get("expected")),
        lower=_float(row.get("lower_bound")),
        upper=_float(row.get("upper_bound")),
        history_days=as_int(row.get("history_days")),
    )
    if learning or check.lower is None or check.upper is None:
        return check
    outside = not check.lower <= check.actual <= check.upper
    return check.model_copy(update={"verdict": "anomaly" if outside else "ok"})


def _freshness(row: Mapping[str, Any], options: MonitorOptions) -> Freshness:
    silent = float(row["silent_s"]) / 3600
    typical = _float(row.get("typical_gap_s"))
    enough = as_int(row.get("gaps")) >= options.min_history_days
    limits = [options.max_silence_hours] if options.max_silence_hours > 0 else []
    if typical is not None and enough:
        limits.append(options.cadence_factor * typical / 3600)
    limit = min(limits) if limits else None
    return Freshness(
        last_batch_at=utc(row["last_batch_at"]) or datetime.min.replace(tzinfo=timezone.utc),
        silent_hours=round(silent, 2),
        typical_gap_hours=None if typical is None else round(typical / 3600, 2),
        limit_hours=None if limit is None else round(limit, 2),
        overdue=limit is not None and silent > limit,
    )


def _findings(source: SourceDigest) -> list[Finding]:
    name = source.source
    found = [
        Finding(source=name, kind="anomaly", message=_describe(c))
        for c in source.checks
        if c.verdict == "anomaly"
    ]
    fresh = source.freshness
    if fresh is not None and fresh.overdue:
        usual = f", usually every {fresh.typical_gap_hours:g} h" if fresh.typical_gap_hours else ""
        found.append(
            Finding(
                source=name,
                kind="overdue",
                message=f"no batch for {fresh.silent_hours:.0f} h{usual} (limit {fresh.limit_hours:g} h)",
            )
        )
    if source.failed_files:
        found.append(
            Finding(source=name, kind="failed_files", message=f"{source.failed_files} failed file(s)")
        )
    found += [
        Finding(source=name, kind="new_reject_reason", message=f"new reject reason: {reason}")
        for reason in source.new_reject_reasons
    ]
    return found


def _describe(check: MetricCheck) -> str:
    def show(value: float | None) -> str:
        if value is None:
            return "-"
        return f"{100 * value:.2f}%" if check.is_rate else f"{value:,.0f}"

    return (
        f"{check.label} {show(check.actual)}, expected {show(check.expected)} "
        f"(normal range {show(check.lower)} to {show(check.upper)}, {check.history_days} days)"
    )


def _point(row: Mapping[str, Any]) -> DayPoint:
    return DayPoint(
        day=date.fromisoformat(row["day"]),
        batches=as_int(row["batches"]),
        rows=as_int(row["rows"]),
        reject_rate=_float(row.get("reject_rate")),
        anomaly_rate=_float(row.get("anomaly_rate")),
    )


def _runner(engine: QueryEngine, day: date, options: MonitorOptions) -> Any:
    queries = load_all()
    given: dict[str, Any] = {
        "day": day.isoformat(),
        "as_of": datetime.combine(day + timedelta(days=1), time(), tzinfo=timezone.utc),
        "k": options.k,
        "min_spread": options.min_spread,
    }

    def run(name: str, window_from: date) -> list[dict[str, Any]]:
        query = queries[name]
        params = {**given, "window_from": window_from.isoformat()}
        return list(engine.query(query.athena, {k: params[k] for k in query.params}).to_pylist())

    return run


def _float(value: Any) -> float | None:
    if value is None or value != value:  # SQL NULL, or NaN through pandas on Athena
        return None
    return float(value)
