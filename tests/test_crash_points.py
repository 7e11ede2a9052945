"""kill -9 at every step boundary, then rerun: one committed batch, every row once, and its email.

At least one email per batch, and exactly one unless the kill fell between sending and recording
the send (the one window where a duplicate cannot be avoided).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from vitalflow.config import Settings
from vitalflow.generate import GeneratorOptions, generate
from vitalflow.models import Manifest
from vitalflow.pipeline import run_file
from vitalflow.runtime import local_runtime

DRIVER = Path(__file__).parent / "drivers" / "crash_at.py"
POINTS = [
    "uploaded",
    "first_file_published",
    "manifest_written",
    "validated_announced",
    "analysis_stored",
    "notify_claimed",
    "email_sent",
    "send_recorded",
]


@pytest.mark.slow
@pytest.mark.parametrize("point", POINTS)
def test_kill_at_step_boundary_then_rerun(tmp_path: Path, point: str) -> None:
    source = tmp_path / "batch.csv"
    generate(GeneratorOptions(rows=3000, seed=5), source)
    home = tmp_path / "lake"
    proc = subprocess.run(
        [sys.executable, str(DRIVER), point, str(home), str(source)], capture_output=True, timeout=300
    )
    assert proc.returncode == -9, f"never reached {point}: {proc.stderr.decode()[-1500:]}"

    outcome = run_file(local_runtime(Settings(home=home, chunk_rows=500)), source)
    assert outcome.status in ("processed", "duplicate"), outcome.error
    manifests = [Manifest.model_validate_json(p.read_text()) for p in (home / "manifests").glob("*.json")]
    assert len(manifests) == 1
    (manifest,) = manifests
    lines: list[int] = []
    for key in manifest.processed_files + manifest.rejected_files:
        lines.extend(
            pq.read_table(home / key, columns=["source_line"], partitioning=None).column(0).to_pylist()
        )
    assert len(lines) == len(set(lines)) == manifest.rows_in == 3000
    emails = list((home / "outbox").glob("*.eml"))
    expected = 2 if point == "email_sent" else 1
    assert len(emails) == expected, [e.name for e in emails]

    again = run_file(local_runtime(Settings(home=home)), source)  # a third run changes nothing
    assert again.status == "duplicate"
    assert len(list((home / "outbox").glob("*.eml"))) == expected
