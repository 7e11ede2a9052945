"""The one place that reads the environment.

Every other module receives a :class:`Settings` (or the piece of it it needs), so a Lambda, the Glue
job, the CLI and the tests configure the same code in the same way. Glue passes job arguments rather
than environment variables; its adapter hands them to :meth:`Settings.from_env` as a mapping.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from vitalflow.exceptions import ConfigurationError

PREFIX = "VITALFLOW_"

# USD per 1,000 tokens (input, output); override with VITALFLOW_BEDROCK_PRICES="model=in:out,...".
DEFAULT_BEDROCK_PRICES: dict[str, tuple[float, float]] = {
    "amazon.nova-micro-v1:0": (0.000035, 0.00014),
    "amazon.nova-lite-v1:0": (0.00006, 0.00024),
    "amazon.nova-pro-v1:0": (0.0008, 0.0032),
    "anthropic.claude-3-haiku-20240307-v1:0": (0.00025, 0.00125),
}


@dataclass(frozen=True)
class Settings:
    """Runtime configuration. Field ``name`` is read from ``VITALFLOW_NAME`` (upper case)."""

    runtime: str = "local"  # "local" or "aws"
    home: Path = Path("lake")  # local lake folder
    chunk_rows: int = 150_000  # rows validated at a time; bounds memory (bench: 10M rows, any mix, < 1 GB)
    memory_limit_mb: int = 0  # fail a batch cleanly above this resident size; 0: the cgroup limit, if any
    # "local": one process validates the file; "spark": Spark tasks, a byte range each (spark_engine.py)
    engine: str = "local"
    # The Spark engine's byte range per task (validate/splits.py); tests use a few bytes to 1 MiB
    split_bytes: int = 128 << 20
    # Uploads above this size go to the Glue Spark job, the rest to the Python shell job (trigger.py)
    spark_threshold_bytes: int = 1 << 30
    glue_spark_job_name: str = ""
    suite_path: Path | None = None  # defaults to the packaged expectations/health_vitals.json
    # A reading (user, instant) already stored with other values: "reject" it (row:conflicts_with_loaded,
    # the stored one stays) or "replace" the stored one (corrections; the old stays in the table's history)
    on_conflict: str = "reject"
    # AWS resources
    region: str | None = None
    data_bucket: str = ""
    docs_bucket: str = ""
    glue_job_name: str = ""
    # Runs of the job allowed at once before start_validation leaves an upload waiting in SQS (0: no
    # check). Glue's own run queue fails a run it cannot start within 15 minutes; SQS keeps it for days.
    glue_max_active_runs: int = 0
    glue_database: str = "vitalflow"
    athena_workgroup: str = "primary"
    athena_output: str = ""  # s3://... ; empty when the workgroup enforces its own location
    table_name: str = ""  # DynamoDB table holding batch state and results
    event_bus: str = ""
    sns_topic_arn: str = ""
    kms_key_id: str = ""
    # Enrichment
    analyst: str = "rules"  # "rules" or "bedrock"
    bedrock_model_id: str = "amazon.nova-lite-v1:0"
    bedrock_endpoint_url: str = ""  # for a local fake Converse server
    bedrock_timeout_s: float = 60.0
    bedrock_max_attempts: int = 4
    bedrock_prices: dict[str, tuple[float, float]] = field(
        default_factory=lambda: dict(DEFAULT_BEDROCK_PRICES)
    )
    # Notification
    mail_from: str = "vitalflow@localhost"
    mail_to: tuple[str, ...] = ("data-team@localhost",)
    docs_base_url: str = ""  # where reviewers open the Data Docs site
    # A notify claim with no recorded send is taken over after this long (a crashed sender). On AWS,
    # longer than the notify function's timeout; the local runtime uses 0: its lake lock already
    # guarantees one process at a time, so an unrecorded claim is always a crashed run's.
    notify_lease_s: int = 900
    ses_configuration_set: str = ""  # SES configuration set whose bounces/complaints reach SNS
    # Fan-out: each analysed batch and each digest, with message attributes subscribers filter on
    fanout_topic_arn: str = ""
    # The daily digest's monitors (sql/digest): a source's day against its own earlier days
    digest_window_days: int = 14  # the history a day is compared with
    digest_min_history_days: int = 7  # fewer earlier days with data: "learning", never an anomaly
    digest_k: float = 3.0  # bounds: median +/- k * 1.4826 * MAD (k reads like a z-score)
    digest_min_spread: float = 0.1  # bounds never narrower than this fraction of the median
    digest_cadence_factor: float = 3.0  # overdue: silent for this many of the source's usual gaps
    digest_max_silence_hours: float = 72.0  # overdue whatever the cadence; 0: no fixed maximum
    digest_freshness_days: int = 30  # how far back a source's last batch is looked for
    # Live dashboard on AWS: the websocket connections table and the API's management endpoint
    connections_table: str = ""
    websocket_endpoint: str = ""  # https://<api id>.execute-api.<region>.amazonaws.com/<stage>

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        extra: Mapping[str, str] | None = None,
        **overrides: Any,
    ) -> Settings:
        """Build settings from ``VITALFLOW_*`` variables (and AWS_REGION), then apply overrides.

        ``extra`` overlays the environment with the same names, for runtimes (Glue) that pass
        configuration as job arguments instead of environment variables.
        """
        env = {**(os.environ if environ is None else environ), **(extra or {})}
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(PREFIX + f.name.upper())
            if raw is None or raw == "":
                continue
            values[f.name] = _parse(f.name, raw)
        if "region" not in values:
            region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
            if region:
                values["region"] = region
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)
        settings.check()
        return settings

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    def check(self) -> None:
        if self.runtime not in ("local", "aws"):
            raise ConfigurationError(f"VITALFLOW_RUNTIME must be 'local' or 'aws', not {self.runtime!r}")
        if self.analyst not in ("rules", "bedrock"):
            raise ConfigurationError(f"VITALFLOW_ANALYST must be 'rules' or 'bedrock', not {self.analyst!r}")
        if self.chunk_rows < 1:
            raise ConfigurationError("VITALFLOW_CHUNK_ROWS must be a positive whole number")
        if self.engine not in ("local", "spark"):
            raise ConfigurationError(f"VITALFLOW_ENGINE must be 'local' or 'spark', not {self.engine!r}")
        if self.split_bytes < 1:
            raise ConfigurationError("VITALFLOW_SPLIT_BYTES must be a positive whole number of bytes")
        if self.digest_min_history_days < 1 or self.digest_window_days < self.digest_min_history_days:
            raise ConfigurationError(
                "VITALFLOW_DIGEST_WINDOW_DAYS must be at least VITALFLOW_DIGEST_MIN_HISTORY_DAYS (>= 1)"
            )

    def require(self, *names: str) -> None:
        """Fail early, naming the variables, when an AWS adapter starts without its resources."""
        missing = [PREFIX + n.upper() for n in names if not getattr(self, n)]
        if missing:
            raise ConfigurationError("missing configuration: " + ", ".join(missing))


def _parse(name: str, raw: str) -> Any:
    try:
        if name in ("home", "suite_path"):
            return Path(raw).expanduser()
        if name in (
            "chunk_rows",
            "split_bytes",
            "spark_threshold_bytes",
            "bedrock_max_attempts",
            "notify_lease_s",
            "memory_limit_mb",
            "glue_max_active_runs",
            "digest_window_days",
            "digest_min_history_days",
            "digest_freshness_days",
        ):
            return int(raw)
        if name in (
            "bedrock_timeout_s",
            "digest_k",
            "digest_min_spread",
            "digest_cadence_factor",
            "digest_max_silence_hours",
        ):
            return float(raw)
        if name == "mail_to":
            return tuple(a.strip() for a in raw.split(",") if a.strip())
        if name == "bedrock_prices":
            prices = dict(DEFAULT_BEDROCK_PRICES)
            for item in raw.split(","):
                model, _, pair = item.strip().rpartition("=")
                price_in, _, price_out = pair.partition(":")
                prices[model] = (float(price_in), float(price_out))
            return prices
    except ValueError as exc:
        raise ConfigurationError(f"{PREFIX}{name.upper()}={raw!r} is not valid: {exc}") from None
    return raw
