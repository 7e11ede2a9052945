"""kill -9 at any point, then rerun: the batch completes once, with no partial or doubled rows."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pyarrow.parquet as pq
import pytest

from vitalflow.generate import GeneratorOptions, generate
from vitalflow.models import Manifest


def start(source, home):
    env = {**os.environ, "VITALFLOW_CHUNK_ROWS": "5000"}
    return subprocess.Popen(
        [sys.executable, "-m", "vitalflow.cli", "--home", str(home), "run", str(source), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )


def visible_state(home):
    """What a reader would see: committed manifests, and every file they list."""
    manifests = [Manifest.model_validate_json(p.read_text()) for p in (home / "manifests").glob("*.json")]
    for m in manifests:
        for key in m.processed_files + m.rejected_files:
            assert (home / key).is_file(), f"manifest lists a missing file {key}"
    return manifests


@pytest.mark.slow
def test_kill_at_many_points_then_rerun(tmp_path):
    source = tmp_path / "big.csv"
    generate(GeneratorOptions(rows=60_000, seed=11), source)
    home = tmp_path / "lake"
    delays = [0.3, 0.8, 1.5, 2.5, 3.5, 4.5, 6.0, 8.0]
    for delay in delays:
        proc = start(source, home)
        time.sleep(delay)
        finished = proc.poll() is not None
        if not finished:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
        state = visible_state(home)
        assert all(m.status == "processed" for m in state)  # all or nothing: never a partial manifest
        if finished:
            break
    proc = start(source, home)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.decode()
    (manifest,) = visible_state(home)
    assert manifest.rows_processed + manifest.rows_rejected == manifest.rows_in == 60_000
    listed = set(manifest.processed_files + manifest.rejected_files)
    on_disk = {
        p.relative_to(home).as_posix()
        for table in ("processed", "rejected")
        for p in (home / table).rglob("*.parquet")
    }
    assert on_disk == listed  # nothing orphaned by the killed attempts
    lines = []
    for key in listed:
        lines.extend(
            pq.read_table(home / key, columns=["source_line"], partitioning=None).column(0).to_pylist()
        )
    assert len(lines) == len(set(lines)) == 60_000
