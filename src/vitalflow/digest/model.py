"""What the digest found, as typed records: the email, ``--json`` and the fan-out read the same."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from vitalflow.models import Frozen

Verdict = Literal["ok", "anomaly", "learning"]

METRIC_LABELS = {
    "row_count": "rows",
    "reject_rate": "reject rate",
    "anomaly_rate": "anomaly rate",
    "low_spo2_rate": "low SpO2 rate",
    "abnormal_heart_rate_rate": "abnormal heart rate rate",
    "fever_rate": "fever rate",
    "high_blood_pressure_rate": "high blood pressure rate",
}


class MetricCheck(Frozen):
    """One metric of a source's day, reported as Glue Data Quality reports a dynamic rule."""

    metric: str
    actual: float
    expected: float | None = None  # the median of the source's earlier days
    lower: float | None = None
    upper: float | None = None
    history_days: int = 0
    verdict: Verdict = "learning"

    @property
    def label(self) -> str:
        return METRIC_LABELS.get(self.metric, self.metric)

    @property
    def is_rate(self) -> bool:
        return self.metric != "row_count"


class Freshness(Frozen):
    last_batch_at: datetime
    silent_hours: float
    typical_gap_hours: float | None = None  # the median gap between its batches; None: too few
    limit_hours: float | None = None  # silent longer than this: overdue
    overdue: bool = False


class DayPoint(Frozen):
    """A day of the source's trend."""

    day: date
    batches: int
    rows: int
    reject_rate: float | None = None
    anomaly_rate: float | None = None


class Finding(Frozen):
    """Something that needs attention, said in one line."""

    source: str
    kind: Literal["anomaly", "overdue", "failed_files", "new_reject_reason"]
    message: str


class SourceDigest(Frozen):
    source: str
    batches: int = 0
    failed_files: int = 0
    rows: int = 0
    reject_rate: float | None = None
    anomaly_rate: float | None = None
    history_days: int = 0  # earlier days with data in the window
    learning: bool = True  # too little history to judge
    checks: list[MetricCheck] = Field(default_factory=list)
    freshness: Freshness | None = None
    new_reject_reasons: list[str] = Field(default_factory=list)
    trend: list[DayPoint] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)

    def check(self, metric: str) -> MetricCheck | None:
        return next((c for c in self.checks if c.metric == metric), None)


class Narrative(Frozen):
    """A few sentences over the aggregates, by Bedrock or by vitalflow's rules."""

    text: str
    model: str  # the Bedrock model, or "rules"
    fallback_reason: str | None = None  # why the rules stood in for Bedrock


class Digest(Frozen):
    day: date
    generated_at: datetime
    window_days: int
    min_history_days: int
    sources: list[SourceDigest] = Field(default_factory=list)
    narrative: Narrative | None = None  # written when the email is (once per day)

    @property
    def findings(self) -> list[Finding]:
        return [f for s in self.sources for f in s.findings]

    @property
    def has_anomalies(self) -> bool:
        return bool(self.findings)

    @property
    def risk_level(self) -> str:
        """high: a source overdue or with anomalous rates; moderate: anything else found; low: nothing."""
        kinds = {f.kind for f in self.findings}
        if kinds & {"anomaly", "overdue"}:
            return "high"
        return "moderate" if kinds else "low"
