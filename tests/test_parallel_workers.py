"""Worker processes for the row rules change nothing but the time: same verdicts, same Parquet, same manifest.

The real suite in real worker processes (``VITALFLOW_WORKERS``): a clean and a dirty file, several
chunks each, against one process; auto never picks workers where memory or cores are short; and a
worker that dies fails the batch with a message and commits nothing.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from conftest import row
from test_row_exactness import _missing_column, edited_suite
from test_verdict_digest import FILES, PINNED, digests  # the pinned verdicts of one process
from vitalflow import stages
from vitalflow.config import Settings
from vitalflow.exceptions import ConfigurationError, OutOfMemoryBudget, SuiteError
from vitalflow.generate import GeneratorOptions, generate
from vitalflow.manifests import read_manifest
from vitalflow.pipeline import ingest, run_file
from vitalflow.runtime import local_runtime
from vitalflow.validate.memory import SHARE, MemoryGuard, resident_mb
from vitalflow.validate.parallel import WorkerCrashed, processes_for

CHUNK = 3_000  # 7 chunks of the 20,000-row files: every worker gets several, in flight together


def _outputs(home: Path, source: Path, workers: int) -> tuple[dict, dict]:
    runtime = local_runtime(Settings(home=home, chunk_rows=CHUNK, workers=workers))
    manifest = stages.validate(runtime, ingest(runtime, source)).manifest
    assert manifest.status == "processed", manifest.error
    tables = {
        key: pq.read_table(home / key).drop(["ingested_at"])
        for key in manifest.processed_files + manifest.rejected_files
    }
    kept = manifest.model_dump(
        exclude={
            "started_at": True,
            "finished_at": True,
            "timings": True,
            "docs": True,
            "source": {"received_at"},
        }
    )
    return tables, kept


@pytest.mark.parametrize("name", sorted(FILES))
def test_workers_give_the_verdicts_and_parquet_of_one_process(
    tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    source = generate(FILES[name], tmp_path / f"{name}.csv")
    alone, alone_manifest = _outputs(tmp_path / "one", source, workers=1)
    with caplog.at_level(logging.INFO, logger="vitalflow.validate"):  # 3: two worker processes
        rejected, processed, _ = digests(tmp_path / "digest", source, CHUNK, workers=3)
        shared, shared_manifest = _outputs(tmp_path / "three", source, workers=3)
    assert (rejected, processed) == PINNED[name]
    assert "worker processes' peak RSS" in caplog.text  # the workers did run
    assert shared_manifest == alone_manifest
    assert sorted(shared) == sorted(alone)  # the same files, named the same
    for key, table in alone.items():
        assert shared[key].equals(table), key  # same rows, same order, same values


def test_auto_starts_no_workers() -> None:
    """Measured: with each distinct row checked once, a worker no longer pays (see processes_for)."""
    assert processes_for(0) == 1
    assert processes_for(1) == 1
    assert processes_for(3) == 3  # a setting wins


def test_workers_setting() -> None:
    assert Settings.from_env({}).workers == 0
    assert Settings.from_env({"VITALFLOW_WORKERS": "2"}).workers == 2
    assert Settings.from_env({"VITALFLOW_WORKERS": "1"}).workers == 1
    for bad in ("-1", "two"):
        with pytest.raises(ConfigurationError, match="VITALFLOW_WORKERS"):
            Settings.from_env({"VITALFLOW_WORKERS": bad})


def test_memory_guard_counts_the_workers() -> None:
    own = max(resident_mb(), 1)
    guard = MemoryGuard(int(own * 1.5 / SHARE), 1_000)
    guard.check(1_000)  # this process alone fits
    with pytest.raises(OutOfMemoryBudget, match="VITALFLOW_WORKERS=1"):
        guard.check(1_000, (os.getpid(),))  # with a worker as large as itself it does not


def _workers_of(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as fh:
        children = [int(c) for c in fh.read().split()]
    found = []
    for child in children:
        with open(f"/proc/{child}/cmdline", "rb") as fh:
            if b"vitalflow.validate.parallel" in fh.read():
                found.append(child)
    return found


def test_a_worker_that_dies_fails_the_batch_and_commits_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = generate(GeneratorOptions(rows=20_000, seed=3), tmp_path / "clean.csv")
    home = tmp_path / "lake"
    runtime = local_runtime(Settings(home=home, chunk_rows=CHUNK, workers=2))
    ref = ingest(runtime, source)
    killed: list[int] = []

    def kill_a_worker(done: int, size: int) -> None:
        if not killed:
            (pid,) = _workers_of(os.getpid())
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    with pytest.raises(WorkerCrashed, match=r"killed by signal 9.*nothing was committed"):
        stages.validate(runtime, ref, progress=kill_a_worker)
    assert killed
    assert not _workers_of(os.getpid())  # no worker left behind
    assert not list((home / "processed").rglob("*.parquet"))
    assert not list((home / "rejected").rglob("*.parquet"))
    assert not list((home / "manifests").glob("*.json"))

    runtime.settings = runtime.settings.with_(workers=1)
    manifest = stages.validate(runtime, ref).manifest  # the rerun commits the batch
    assert manifest.status == "processed", manifest.error
    assert read_manifest(runtime.store, manifest.batch_id) is not None


def test_an_error_in_a_worker_is_the_batch_error_it_is_in_one_process(
    tmp_path: Path, write_csv: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = local_runtime(
        Settings(
            home=tmp_path / "lake",
            chunk_rows=2,
            workers=2,
            suite_path=edited_suite(tmp_path, _missing_column),
        )
    )
    with pytest.raises(SuiteError, match="could not be evaluated"):
        run_file(runtime, write_csv([row(), row(user_id="bad id", heart_rate="10"), row(), row(), row()]))
    assert not list((tmp_path / "lake").rglob("*.parquet"))
    assert not list((tmp_path / "lake").glob("manifests/*.json"))
