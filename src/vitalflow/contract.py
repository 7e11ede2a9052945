"""The health_vitals dataset contract: column names and the Parquet schemas of the lake.

The *rules* that make a row valid live in ``expectations/health_vitals.json`` (Great Expectations);
this module only names the columns and fixes the physical types every runtime writes, so Athena
tables, DuckDB views and the validation job agree without talking to each other.
"""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq

from vitalflow.lake import PARTITION_COLUMN  # noqa: F401  (the schemas' partition, re-exported)

DATASET = "health_vitals"

REQUIRED_COLUMNS: tuple[str, ...] = (
    "event_time",
    "user_id",
    "heart_rate",
    "spo2",
    "steps",
    "temp_c",
    "systolic_bp",
    "diastolic_bp",
)
INTEGER_COLUMNS: tuple[str, ...] = ("heart_rate", "spo2", "steps", "systolic_bp", "diastolic_bp")
FLOAT_COLUMNS: tuple[str, ...] = ("temp_c",)
NUMERIC_COLUMNS: tuple[str, ...] = INTEGER_COLUMNS + FLOAT_COLUMNS

# Physically possible values: the suite may be stricter, never looser. Processed rows are checked
# against these before a batch is committed (a violation is a bug, and commits nothing).
RANGES: dict[str, tuple[float, float]] = {
    "heart_rate": (20, 250),
    "spo2": (50, 100),
    "steps": (0, 100_000),
    "temp_c": (30.0, 45.0),
    "systolic_bp": (50, 260),
    "diastolic_bp": (30, 160),
}
# No valid field is longer (user_id: 64; the longest timestamp: ~40). Longer values are cut to this
# before the rules see them: a rule's engine may size its buffers by the longest value in a chunk.
MAX_FIELD_CHARS = 128

# Readings are dated from 2000 up to a day after their upload (a wrong device clock otherwise);
# Athena's partition projection on ``dt`` covers exactly this window.
EARLIEST_EVENT = "2000-01-01T00:00:00+00:00"
LATEST_EVENT_AFTER_UPLOAD_HOURS = 24

# Columns the job adds to every output row.
LINEAGE_FIELDS: tuple[pa.Field, ...] = (
    pa.field("batch_id", pa.string(), nullable=False),
    pa.field("source_line", pa.int64(), nullable=False),
    pa.field("ingested_at", pa.timestamp("us", tz="UTC"), nullable=False),
)

PROCESSED_SCHEMA = pa.schema(
    [
        pa.field("event_time", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("user_id", pa.string(), nullable=False),
        pa.field("heart_rate", pa.int32(), nullable=False),
        pa.field("spo2", pa.int32(), nullable=False),
        pa.field("steps", pa.int32(), nullable=False),
        pa.field("temp_c", pa.float64(), nullable=False),
        pa.field("systolic_bp", pa.int32(), nullable=False),
        pa.field("diastolic_bp", pa.int32(), nullable=False),
        *LINEAGE_FIELDS,
    ]
)

# Rejected rows keep every field as the raw text of the file, so nothing is lost in a cast.
REJECTED_SCHEMA = pa.schema(
    [
        *(pa.field(name, pa.string()) for name in REQUIRED_COLUMNS),
        pa.field("raw_line", pa.string()),
        pa.field("reasons", pa.list_(pa.string()), nullable=False),
        *LINEAGE_FIELDS,
    ]
)


# One marker per committed batch, written right after its manifest: the one object whose presence
# makes a batch's rows visible through the committed views.
COMMIT_SCHEMA = pa.schema(
    [
        pa.field("batch_id", pa.string(), nullable=False),
        pa.field("committed_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("rows_processed", pa.int64(), nullable=False),
        pa.field("rows_rejected", pa.int64(), nullable=False),
        pa.field("source", pa.string()),  # the uploader's feed (vitalflow.sources); older files lack it
        # stored readings of earlier batches this batch replaced (on_conflict=replace); older files lack it
        pa.field("rows_replaced", pa.int64()),
    ]
)

# The anomaly rules of sql/views/flagged_files.sql, each a boolean column there.
ANOMALY_RULES: tuple[str, ...] = ("low_spo2", "abnormal_heart_rate", "fever", "high_blood_pressure")

# One row per analysed batch (``sql/report/batch_summary.sql``), partitioned by ingestion date:
# what later reports read for their history instead of earlier batches' readings.
SUMMARY_SCHEMA = pa.schema(
    [
        pa.field("batch_id", pa.string(), nullable=False),
        pa.field("ingested_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("readings", pa.int64()),
        pa.field("users", pa.int64()),
        pa.field("first_event", pa.timestamp("us", tz="UTC")),
        pa.field("last_event", pa.timestamp("us", tz="UTC")),
        pa.field("anomaly_readings", pa.int64()),
        pa.field("rejected", pa.int64()),
        pa.field("reject_rate", pa.float64()),
        pa.field("source", pa.string()),  # the uploader's feed (vitalflow.sources); older files lack it
        # What the daily digest monitors per source (``sql/digest``): readings per anomaly rule, the
        # batch's distinct reject reasons, and its status (a file failed as a whole gets a row too).
        *(pa.field(rule, pa.int64()) for rule in ANOMALY_RULES),
        pa.field("reject_reasons", pa.list_(pa.string())),
        pa.field("status", pa.string()),
    ]
)


def one_row_parquet(table: pa.Table) -> bytes:
    """A marker or summary as a small Parquet object. Statistics and the Arrow schema copy would
    outweigh the row, and every report reads a few dozen of these."""
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd", write_statistics=False, store_schema=False)
    return buffer.getvalue()
