"""Write a lake by hand (Parquet, Iceberg commits, manifests), independent of the job, for SQL tests."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from vitalflow import lake
from vitalflow.aggregate import summarize
from vitalflow.local.object_store import LocalObjectStore
from vitalflow.local.query_engine import DuckDBEngine, Tables
from vitalflow.manifests import write_manifest
from vitalflow.models import Manifest, SourceRef
from vitalflow.tables import LakeTables, table_schema
from vitalflow.validate.commit import mark_committed


def reading(
    user: str,
    at: datetime,
    hr: int = 72,
    spo2: int = 98,
    temp: float = 36.7,
    sys: int = 120,
    dia: int = 80,
    steps: int = 10,
) -> dict[str, Any]:
    return {
        "event_time": at,
        "user_id": user,
        "heart_rate": hr,
        "spo2": spo2,
        "steps": steps,
        "temp_c": temp,
        "systolic_bp": sys,
        "diastolic_bp": dia,
    }


def write_batch(
    root: Path,
    batch_id: str,
    readings: list[dict[str, Any]],
    rejected: list[dict[str, Any]] | None = None,
    *,
    ingested_at: datetime,
    commit: bool = True,
    in_tables: bool | None = None,
    summarize_batch: bool = True,
    by_day: bool = False,
) -> Manifest:
    """A batch as the job commits it (files, manifest, commit marker) and, unless told otherwise,
    with the summary row the analyze stage stores (computed by the real SQL).

    ``commit=False``: a job killed before its Iceberg commits (files only), or, with
    ``in_tables=True``, one killed after them but before its manifest and marker. ``by_day``: processed
    files per event date in ``dt=`` folders, as the layout before the month partitioning wrote them."""
    store = LocalObjectStore(root)
    by_month: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for i, r in enumerate(readings):
        dt = r["event_time"].astimezone(timezone.utc).strftime("%Y-%m-%d")
        lineage = {"batch_id": batch_id, "source_line": i + 2, "ingested_at": ingested_at, "dt": dt}
        by_month[dt if by_day else dt[:7]].append({**r, **lineage})
    processed_files = []
    for month, rows in sorted(by_month.items()):
        key = (
            f"processed/dt={month}/{batch_id}.parquet"
            if by_day
            else lake.data_key("processed", month, batch_id)
        )
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(rows, schema=table_schema("processed_files")), root / key)
        processed_files.append(key)
    rejected_files = []
    if rejected:
        dt = ingested_at.strftime("%Y-%m-%d")
        key = lake.data_key("rejected", dt, batch_id)
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        rows = [
            {
                "raw_line": None,
                **{
                    c: None
                    for c in (
                        "event_time",
                        "user_id",
                        "heart_rate",
                        "spo2",
                        "steps",
                        "temp_c",
                        "systolic_bp",
                        "diastolic_bp",
                    )
                },
                **r,
                "batch_id": batch_id,
                "source_line": 1000 + i,
                "ingested_at": ingested_at,
                "dt": dt,
            }
            for i, r in enumerate(rejected)
        ]
        pq.write_table(pa.Table.from_pylist(rows, schema=table_schema("rejected_files")), root / key)
        rejected_files.append(key)
    manifest = Manifest(
        batch_id=batch_id,
        source=SourceRef(key=f"raw/{batch_id}.csv"),
        sha256=batch_id * 4,
        bytes=1000,
        status="processed",
        rows_in=len(readings) + len(rejected or []),
        rows_processed=len(readings),
        rows_rejected=len(rejected or []),
        partitions=sorted({row["dt"] for rows in by_month.values() for row in rows}),
        processed_files=processed_files,
        rejected_files=rejected_files,
        started_at=ingested_at,
        finished_at=ingested_at,
    )
    if commit if in_tables is None else in_tables:
        tables = LakeTables.for_store(store)
        tables.commit_files("processed_files", batch_id, processed_files)
        tables.commit_files("rejected_files", batch_id, rejected_files)
    if commit:
        write_manifest(store, manifest)
        mark_committed(store, manifest)
        if summarize_batch:
            only_this = Tables(processed=processed_files, rejected=rejected_files, commits=[manifest])
            summarize(manifest, DuckDBEngine(store, tables=only_this), store)
    return manifest
