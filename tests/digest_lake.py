"""Batch summaries written by hand for the digest's tests: ninety days of three sources (one steady,
one whose reject rate climbs, one that falls silent) and one that started three days ago."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa

from vitalflow import lake
from vitalflow.contract import SUMMARY_SCHEMA, one_row_parquet

DAY = date(2026, 11, 30)  # the digest's day: the last of the ninety
HOURS = (1, 7, 13, 19)  # each source's upload times, every six hours


def summary(
    source: str, at: datetime, *, rows: int, reject_rate: float, anomaly_rate: float, **extra: Any
) -> dict[str, Any]:
    rejected = round(rows * reject_rate)
    readings = rows - rejected
    anomalies = round(readings * anomaly_rate)
    return {
        "batch_id": f"{source}-{at:%Y%m%d%H%M}",
        "source": source,
        "ingested_at": at,
        "readings": readings,
        "users": 50,
        "first_event": at - timedelta(hours=6),
        "last_event": at,
        "anomaly_readings": anomalies,
        "rejected": rejected,
        "reject_rate": rejected / rows,
        "low_spo2": anomalies // 2,
        "abnormal_heart_rate": anomalies // 4,
        "fever": anomalies // 8,
        "high_blood_pressure": anomalies - anomalies // 2 - anomalies // 4 - anomalies // 8,
        "reject_reasons": ["heart_rate:out_of_range"] if rejected else [],
        "status": "processed",
        **extra,
    }


def write(root: Path, row: dict[str, Any]) -> None:
    day = row["ingested_at"].date().isoformat()
    path = root / lake.summary_key(day, row["batch_id"])
    path.parent.mkdir(parents=True, exist_ok=True)
    full = {name: row.get(name) for name in SUMMARY_SCHEMA.names}
    path.write_bytes(one_row_parquet(pa.Table.from_pylist([full], schema=SUMMARY_SCHEMA)))


def climbing_rate(day_index: int) -> float:
    """1% for 84 days, then 2, 3.5, 5, 7 and 9% over the last five."""
    return {85: 0.02, 86: 0.035, 87: 0.05, 88: 0.07, 89: 0.09}.get(day_index, 0.01)


def ninety_days(
    root: Path, *, batches_per_day: int = 4, rows: int = 1000, seed: int = 7
) -> list[dict[str, Any]]:
    """Write the summaries; return them. Values vary a little from batch to batch, as real ones do."""
    rng = random.Random(seed)
    written = []
    first = DAY - timedelta(days=89)
    for n in range(90):
        day = first + timedelta(days=n)
        for hour in HOURS[:batches_per_day]:
            at = datetime.combine(day, time(hour, rng.randrange(60)), tzinfo=timezone.utc)
            noise = {"rows": rows + rng.randrange(-30, 31), "anomaly_rate": 0.05 + rng.uniform(-0.004, 0.004)}
            plans = [("steady", 0.01), ("climbing", climbing_rate(n))]
            if n < 86:
                plans.append(("silent", 0.01))  # its last batch: four days before the digest's day
            if n >= 86:
                plans.append(("newcomer", 0.01))  # three days of history, then the digest's day
            for source, rate in plans:
                row = summary(source, at, reject_rate=rate + rng.uniform(-0.001, 0.001), **noise)
                write(root, row)
                written.append(row)
    return written
