"""Shared fixtures: a fresh local lake per test, one loaded GE suite per worker (loading is slow),
fake AWS credentials for moto, a real GE result for the Data Docs tests, and headless Chromium."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from vitalflow.config import Settings
from vitalflow.contract import REQUIRED_COLUMNS
from vitalflow.runtime import Runtime, local_runtime
from vitalflow.validate.suite import HealthSuite

REPO = Path(__file__).resolve().parent.parent
AWS_REGION = "eu-west-1"
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
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> str:
    """Fake credentials and one region for moto, so no test can reach a real account; the region."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", AWS_REGION)
    return AWS_REGION


@pytest.fixture(scope="module")
def real_result(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The GE result a real pipeline run hands to Data Docs, for a batch failing most kinds of rule."""
    from docs_pages import capture_result, mixed_rows

    result, _outcome, _runtime = capture_result(tmp_path_factory.mktemp("result"), mixed_rows())
    return result


@pytest.fixture(scope="session")
def chromium() -> str:
    from browser import find_chromium

    return find_chromium()


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
            rows.extend(pq.read_table(runtime.home / key, partitioning=None).to_pylist())
        return rows

    return read(manifest.processed_files), read(manifest.rejected_files)
