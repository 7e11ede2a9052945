"""Typed records that cross stage and runtime boundaries.

Each is a pydantic model so that what one stage writes (JSON in S3, an EventBridge detail, a
DynamoDB item) is validated when the next stage reads it, whichever runtime sits in between.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from vitalflow import sources

BatchStatus = Literal["processed", "duplicate", "failed"]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SourceRef(Frozen):
    """Where a batch came from: a key in the object store (``raw/...``), optionally a version."""

    key: str
    version_id: str | None = None
    uri: str = ""  # display form: file path or s3://bucket/key
    received_at: datetime | None = None  # upload time: readings may not be dated more than a day after it
    name: str = ""  # the uploader's feed (vitalflow.sources); derived from the key when not given

    @model_validator(mode="before")
    @classmethod
    def _name_from_key(cls, data: object) -> object:
        """Manifests written before sources existed, and AWS uploads, get the key's source."""
        if isinstance(data, dict) and not data.get("name") and isinstance(data.get("key"), str):
            return {**data, "name": sources.from_key(data["key"])}
        return data


class SuiteInfo(Frozen):
    name: str
    sha256: str


class Timings(Frozen):
    hash_s: float = 0.0
    validate_s: float = 0.0
    write_s: float = 0.0
    docs_s: float = 0.0
    total_s: float = 0.0


class Manifest(Frozen):
    """The record of one batch. Written last: its presence is what makes a batch's outputs visible."""

    batch_id: str
    dataset: str = "health_vitals"
    source: SourceRef
    sha256: str
    bytes: int
    status: BatchStatus
    error: str | None = None
    rows_in: int = 0
    rows_processed: int = 0
    rows_rejected: int = 0
    # Stored readings of earlier batches this batch's corrections replaced (VITALFLOW_ON_CONFLICT=replace):
    # they left processed in this batch's commit, while the earlier batches' rows_processed still count
    # what those batches stored. Live rows = sum(rows_processed) - sum(rows_replaced), over all batches.
    rows_replaced: int = 0
    rejected_by_reason: dict[str, int] = Field(default_factory=dict)
    extra_columns: list[str] = Field(default_factory=list)
    blank_lines: int = 0
    partitions: list[str] = Field(default_factory=list)  # dt values of processed rows
    processed_files: list[str] = Field(default_factory=list)  # object keys
    rejected_files: list[str] = Field(default_factory=list)
    suite: SuiteInfo | None = None
    docs: str | None = None  # key or URL of the batch's Data Docs page
    started_at: datetime
    finished_at: datetime | None = None
    timings: Timings = Field(default_factory=Timings)


class BatchOutcome(Frozen):
    """What ``vitalflow run --json`` prints per file, and what the AWS flow reports per batch."""

    batch_id: str
    source: str
    status: BatchStatus
    rows_in: int = 0
    rows_processed: int = 0
    rows_rejected: int = 0
    rejected_by_reason: dict[str, int] = Field(default_factory=dict)
    docs: str | None = None
    error: str | None = None
    report: str | None = None  # outbox file or message id, once the notify stage ran
    analysis_model: str | None = None

    @classmethod
    def from_manifest(cls, manifest: Manifest, status: BatchStatus | None = None) -> BatchOutcome:
        return cls(
            batch_id=manifest.batch_id,
            source=manifest.source.uri or manifest.source.key,
            status=status or manifest.status,
            rows_in=manifest.rows_in,
            rows_processed=manifest.rows_processed,
            rows_rejected=manifest.rows_rejected,
            rejected_by_reason=manifest.rejected_by_reason,
            docs=manifest.docs,
            error=manifest.error,
        )


# ---- aggregates (stage 3) -------------------------------------------------------------------


class Overview(Frozen):
    batch_id: str
    rows_in: int
    rows_processed: int
    rows_rejected: int
    reject_rate: float
    users: int
    first_event: datetime | None
    last_event: datetime | None


class RuleStat(Frozen):
    """One anomaly rule over the batch's processed readings."""

    rule: str  # e.g. "low_spo2"
    label: str  # e.g. "SpO2 below 92%"
    readings: int  # readings that fired the rule
    rate: float  # readings / processed readings
    users: int  # distinct users with at least one such reading


class UserAnomalies(Frozen):
    user_id: str
    readings: int
    anomalies: int  # readings with at least one rule fired
    rules: dict[str, int] = Field(default_factory=dict)  # rule -> readings


class HourlyPoint(Frozen):
    hour: datetime  # UTC, truncated to the hour
    readings: int
    anomalies: int


class ReasonCount(Frozen):
    reason: str  # e.g. "heart_rate:out_of_range"
    rows: int


class HistoryPoint(Frozen):
    """A previous batch of the same dataset, for trend comparison."""

    batch_id: str
    ingested_at: datetime
    readings: int
    anomaly_rate: float


class BatchReport(Frozen):
    """Everything the enrichment and email stages need about a batch, computed by the SQL layer."""

    overview: Overview
    rules: list[RuleStat]
    anomaly_readings: int  # readings with at least one rule fired
    anomaly_rate: float
    top_users: list[UserAnomalies]
    hourly: list[HourlyPoint]
    reject_reasons: list[ReasonCount]
    history: list[HistoryPoint]  # previous batches, oldest first
    generated_at: datetime


# ---- analysis (stage 4) ---------------------------------------------------------------------

RiskLevel = Literal["low", "moderate", "high"]


class Analysis(Frozen):
    insights: list[str]
    recommendations: list[str]
    summary: str
    risk_level: RiskLevel
    model: str  # "rules-v1" or a Bedrock model id
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    fallback_reason: str | None = None  # why the rules analyst stood in for Bedrock


class BatchRecord(Frozen):
    """The results-store item for one batch (DynamoDB on AWS, an embedded database locally)."""

    batch_id: str
    manifest: Manifest
    report: BatchReport
    analysis: Analysis
    created_at: datetime
