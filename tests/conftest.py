"""Shared fixtures: a fresh local lake per test, and one loaded GE suite per worker (loading is slow)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from vitalflow.config import Settings
from vitalflow.contract import REQUIRED_COLUMNS
from vitalflow.runtime import Runtime, local_runtime
from vitalflow.validate.suite import HealthSuite

REPO = Path(__file__).resolve().parent.parent
GOOD_ROW = {
    "event_time": "2026-11-20T08:00:00Z",
    "user_id": "u-001",
    "heart_rate": "72",
    "spo2": "98",
    "steps": "120",
    "temp_c": "36.7",
    "systolic_bp": "118",
    "diastolic_bp": "76",
}


@pytest.fixture(scope="session")
def suite() -> HealthSuite:
    return HealthSuite(REPO / "expectations" / "health_vitals.json")


@pytest.fixture
def runtime(tmp_path: Path) -> Runtime:
    return local_runtime(Settings(home=tmp_path / "lake", chunk_rows=1000))


def csv_text(rows: Sequence[dict[str, str]], columns: Sequence[str] = REQUIRED_COLUMNS) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[..., Path]:
    counter = iter(range(10_000))

    def write(rows: Sequence[dict[str, str]] | str | bytes, name: str | None = None) -> Path:
        path = tmp_path / "in" / (name or f"batch-{next(counter)}.csv")
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(rows, bytes):
            path.write_bytes(rows)
        elif isinstance(rows, str):
            path.write_text(rows, encoding="utf-8")
        else:
            path.write_text(csv_text(rows), encoding="utf-8")
        return path

    return write


def row(**changes: str) -> dict[str, str]:
    return {**GOOD_ROW, **changes}


def outputs(runtime: Runtime, batch_id: str) -> tuple[list[dict], list[dict]]:
    """Processed and rejected rows of a committed batch, read back from the Parquet its manifest lists."""
    import pyarrow.parquet as pq

    from vitalflow.manifests import read_manifest

    manifest = read_manifest(runtime.store, batch_id)
    assert manifest is not None, "no manifest"
    assert runtime.home is not None

    def read(keys: list[str]) -> list[dict]:
        rows: list[dict] = []
        for key in keys:
            rows.extend(pq.read_table(runtime.home / key).to_pylist())
        return rows

    return read(manifest.processed_files), read(manifest.rejected_files)
