"""The table ``batch_summaries``: one row per batch, partitioned by ingestion date.

Reports read earlier batches' rows for their history and the daily digest reads a fortnight of
them per source, so neither ever reads earlier readings. A processed batch's row comes from
``sql/report/batch_summary.sql`` (the analyze stage); a file that failed as a whole gets a row
with its status and nothing else, written by the validate stage, so the digest can count failed
files per source. Only pyarrow is needed here: the validation job writes failed rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

import pyarrow as pa

from vitalflow import lake
from vitalflow.contract import ANOMALY_RULES, SUMMARY_SCHEMA, one_row_parquet
from vitalflow.models import Manifest
from vitalflow.ports import ObjectStore

COUNTS = ("readings", "users", "anomaly_readings", "rejected", *ANOMALY_RULES)


def write_summary(store: ObjectStore, manifest: Manifest, row: Mapping[str, Any]) -> str:
    """Store the batch's summary row as one Parquet object named by batch (a replay rewrites it)."""
    values = {
        "batch_id": manifest.batch_id,
        "ingested_at": utc(row.get("ingested_at")) or manifest.started_at,
        "first_event": utc(row.get("first_event")),
        "last_event": utc(row.get("last_event")),
        "reject_rate": None if row.get("reject_rate") is None else float(row["reject_rate"]),
        **{name: as_int(row.get(name)) for name in COUNTS},
        "reject_reasons": sorted(manifest.rejected_by_reason),
        "status": manifest.status,
        "source": manifest.source.name,
    }
    day = ingest_day(manifest).isoformat()
    key = lake.summary_key(day, manifest.batch_id)
    table = pa.Table.from_pylist([values], schema=SUMMARY_SCHEMA)
    store.put_bytes(key, one_row_parquet(table), "application/vnd.apache.parquet")
    store.delete([lake.summary_key(day, manifest.batch_id, version="")])  # its row from before versions
    return key


def write_failed_summary(store: ObjectStore, manifest: Manifest) -> str:
    """A failed file's row: its status and time; no readings, so no rate is computed from it."""
    return write_summary(store, manifest, {"ingested_at": manifest.started_at})


def ingest_day(manifest: Manifest) -> date:
    return manifest.started_at.astimezone(timezone.utc).date()


def as_int(value: Any) -> int:
    if value is None:
        return 0
    return int(value) if not isinstance(value, Decimal) else int(value.to_integral_value())


def utc(value: Any) -> datetime | None:
    """Athena returns naive UTC timestamps, DuckDB aware ones: make both aware."""
    from vitalflow.exceptions import QueryError

    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    raise QueryError(f"expected a timestamp, got {value!r}")
