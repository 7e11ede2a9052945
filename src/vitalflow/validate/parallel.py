"""The row rules of a file's chunks, in worker processes when ``VITALFLOW_WORKERS`` asks for them.

Great Expectations costs a fixed few milliseconds of Python per expectation per chunk, and each
chunk's row phase (value parsing and the row rules) is independent of every other's. Since GE
checks each distinct row once (``distinct``), that phase is a small share of the job for the
packaged suite and auto starts no workers (see :func:`processes_for`); they remain for suites
whose rules GE must evaluate row by row.

With ``processes`` > 1 the job's own process keeps reading the file, tracking duplicates, writing
Parquet and publishing (and parses the values of a chunk whose worker is busy); ``processes - 1``
workers run the row rules, and their results are merged strictly in chunk order, so verdicts and
outputs are the ones of a run in one process. Everything that
depends on order (the first valid reading of a key wins) stays in the job's process.

A worker is a fresh interpreter (as multiprocessing's spawn, but without re-running ``__main__``:
it imports this package and Great Expectations, not the CLI or the Glue script), talks to the job
over two pipes, and exits when its pipe closes: a job that dies leaves no worker.
A worker that dies fails the batch with :class:`WorkerCrashed`; an error a worker raises (a suite
that cannot be evaluated) is raised again in the job, as it would be without workers.
"""

from __future__ import annotations

import logging
import os
import queue
import resource
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from vitalflow.exceptions import SuiteError, VitalflowError, WorkerCrashed
from vitalflow.validate import prepare
from vitalflow.validate.memory import map_large_allocations, release_free_memory
from vitalflow.validate.reader import RawChunk
from vitalflow.validate.suite import ChunkVerdict, HealthSuite

log = logging.getLogger(__name__)
_STOP = object()
_WORKER_CODE = "from vitalflow.validate.parallel import serve; serve()"


@dataclass
class RowPhase:
    """One chunk's row rules, and what the in-order part of the job needs of its frame."""

    verdict: ChunkVerdict
    candidates: np.ndarray  # rows that passed every row rule (they may still be duplicates)
    kept: pd.DataFrame  # those rows: only the columns the duplicate check and the processed table read
    final: pd.DataFrame  # every row: only the columns the after-row-checks rules read


def row_phase(suite: HealthSuite, table: pa.Table, lines: np.ndarray, parameters: dict[str, Any]) -> RowPhase:
    """Parse the values and run the row rules; independent of every other chunk."""
    return rules_phase(suite, prepare.check_frame(table, lines), lines, parameters)


def rules_phase(
    suite: HealthSuite, frame: pd.DataFrame, lines: np.ndarray, parameters: dict[str, Any]
) -> RowPhase:
    """The row rules on a chunk's parsed frame (what a worker does)."""
    verdict = suite.verdict()
    suite.check_rows(frame, verdict, parameters)
    candidates = ~verdict.failed(lines)
    kept = frame.loc[candidates, prepare.kept_columns(suite.duplicate_key)].copy()
    final = frame[suite.final_columns(list(frame.columns))].copy()
    return RowPhase(verdict, candidates, kept, final)


def processes_for(configured: int) -> int:
    """How many processes validate a file: ``configured``, or one when it is 0 (auto).

    Auto starts no workers. Measured on 2 cores (bench/validate_bench.py, 2026-12-01), once Great
    Expectations checked each distinct row once (``distinct``), a worker no longer paid: 10M
    rows took 34.7 s with one and 34.2 s without, 2M rows 10.9 s and 9.8 s, and a suite with a
    row-condition rule (whose group GE checks row by row) 11.4 s and 10.8 s; each worker adds
    about 400 MB. ``VITALFLOW_WORKERS=N`` still starts ``N - 1`` for suites that make GE read
    every row of many rules, on machines with cores and memory to spare.
    """
    return configured if configured > 0 else 1


DEPTH = 2  # chunks a worker holds: the one it checks and the next, so it never waits for the job


@dataclass
class _Entry:
    chunk: RawChunk
    phase: RowPhase | None = None
    worker: Worker | None = None  # the worker it was sent to, until its result came back


def row_phases(
    chunks: Iterator[RawChunk], suite: HealthSuite, parameters: dict[str, Any], pool: WorkerPool
) -> Generator[tuple[RawChunk, RowPhase | None], None, None]:
    """Each chunk with its row phase (None for a chunk without rows), in file order.

    With workers, each chunk goes to the worker holding the fewest chunks; a worker holds up to
    ``DEPTH`` (the one it checks and the next), so it rarely waits for this process. Who parses
    the values (a quarter of the row phase) balances the two sides: this process, when the worker
    has work; the worker, when it has none (this process is then the slower side). When every
    worker holds ``DEPTH`` chunks, or ``workers * DEPTH + 1`` chunks wait to be merged, this
    process waits for the oldest chunk's result: memory stays bounded.
    """
    if not pool.workers:
        for chunk in chunks:
            yield (
                chunk,
                (row_phase(suite, chunk.table, chunk.lines, parameters) if chunk.table.num_rows else None),
            )
            release_free_memory()  # the chunk's frames are gone: their pages too, before the next peak
        return
    limit = len(pool.workers) * DEPTH + 1
    pending: deque[_Entry] = deque()
    for chunk in chunks:
        entry = _Entry(chunk)
        if chunk.table.num_rows:
            for worker in pool.workers:
                while worker.held and worker.ready():
                    worker.collect()
            worker = min(pool.workers, key=lambda w: len(w.held))
            if len(worker.held) >= DEPTH or len(pending) >= limit:
                worker = next(e.worker for e in pending if e.worker is not None)  # the oldest's
                worker.collect()
            if worker.held:  # it has work: parse the values here, so it only runs the rules
                task = (prepare.check_frame(chunk.table, chunk.lines), chunk.lines, parameters)
            else:  # it waits for this process: let it parse the values itself
                task = (chunk.table, chunk.lines, parameters)
            worker.send(entry, task)
        pending.append(entry)
        while pending and pending[0].worker is None:
            done = pending.popleft()
            yield done.chunk, done.phase
            del done
            release_free_memory()
    while pending:
        done = pending.popleft()
        while done.worker is not None:
            done.worker.collect()
        yield done.chunk, done.phase


class Worker:
    """One worker process, its two pipes, and a thread that writes its tasks.

    Writing a chunk to the pipe takes as long as the worker takes to read it; the thread lets the
    job go on meanwhile, and lets the job queue a chunk while the worker checks another (a worker
    replies before it reads its next task, so a blocking write could wait for the job's own read).
    """

    def __init__(self, suite: HealthSuite) -> None:
        task_r, task_w = os.pipe()
        result_r, result_w = os.pipe()
        env = dict(os.environ)  # the job's own sys.path, as multiprocessing's spawn passes it
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        try:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    _WORKER_CODE,
                    str(task_r),
                    str(result_w),
                    str(suite.path),
                    suite.sha256,
                ],
                pass_fds=(task_r, result_w),
                stdin=subprocess.DEVNULL,
                env=env,
            )
        finally:
            os.close(task_r)
            os.close(result_w)
        self.pid = self.process.pid
        for fd in (task_w, result_r):
            _widen(fd)
        self._tasks = Connection(task_w, readable=False)
        self._results = Connection(result_r, writable=False)
        self._queue: queue.Queue[Any] = queue.Queue()
        self._writer = threading.Thread(target=self._write, name=f"vitalflow-worker-{self.pid}", daemon=True)
        self._writer.start()
        self.held: deque[_Entry] = deque()  # chunks sent, oldest first
        self.used = False
        self.stats: dict[str, float] = {}

    def _write(self) -> None:
        while True:
            task = self._queue.get()
            if task is _STOP:
                return
            try:
                self._tasks.send(task)
            except (OSError, ValueError):  # the worker is gone: its reader sees why
                return

    def ready(self) -> bool:
        """Its next result (or its end) can be read without waiting."""
        return self._results.poll()

    def send(self, entry: _Entry, task: Any) -> None:
        entry.worker = self
        self.held.append(entry)
        self.used = True
        self._queue.put(task)

    def collect(self) -> None:
        """The oldest held chunk's row phase, or the error the worker raised on it."""
        entry = self.held[0]
        entry.phase = self._receive()
        entry.worker = None
        self.held.popleft()

    def _receive(self) -> Any:
        try:
            kind, value = self._results.recv()
        except (EOFError, OSError):
            raise self._crashed() from None
        if kind == "error":
            raise value
        if kind == "failed":  # an error that could not cross the pipe as itself
            raise SuiteError(value) if value.startswith("SuiteError") else VitalflowError(value)
        return value

    def _crashed(self) -> WorkerCrashed:
        try:
            code = self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
        hint = (
            " (signal 9 is usually the kernel ending a process that ran out of memory)" if code == -9 else ""
        )
        return WorkerCrashed(
            f"a validation worker process (pid {self.pid}) {how}{hint} while checking rows; nothing was "
            "committed. Run the batch again; set VITALFLOW_WORKERS=1 to validate without worker processes."
        )

    def close(self, clean: bool) -> None:
        """Stop the worker: asked to (its stats come back) when ``clean`` and idle, else killed."""
        if clean and self.used and not self.held and self.process.poll() is None:
            self._queue.put(None)
            try:
                kind, value = self._results.recv()
                if kind == "stats":
                    self.stats = value
            except (OSError, EOFError, ValueError):
                pass
        elif self.process.poll() is None:
            self.process.kill()  # its chunks are of no use any more, or it never got one
        self._queue.put(_STOP)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._writer.join(timeout=10)  # its pipe's reader is gone: a blocked write fails
        self._tasks.close()
        self._results.close()


@dataclass
class WorkerPool:
    """``count`` workers (none: 0) for one batch; closing them collects their peak memory and stage times."""

    count: int
    suite: HealthSuite
    workers: list[Worker] = field(default_factory=list)
    stats: list[dict[str, float]] = field(default_factory=list)

    def __enter__(self) -> WorkerPool:
        if self.count:
            map_large_allocations()
        try:
            for _ in range(self.count):
                self.workers.append(Worker(self.suite))
        except BaseException:
            self.close(clean=False)
            raise
        return self

    def __exit__(self, kind: Any, *_: Any) -> None:
        self.close(clean=kind is None)

    @property
    def pids(self) -> tuple[int, ...]:
        return tuple(w.pid for w in self.workers)

    def close(self, clean: bool) -> None:
        for worker in self.workers:
            worker.close(clean)
        if self.workers and not self.stats:
            self.stats = [w.stats for w in self.workers if w.stats]
            if self.stats:
                log.info("worker processes' peak RSS: %s MB", [round(s["peak_rss_mb"]) for s in self.stats])
        self.workers = []


def _widen(fd: int) -> None:
    """A 1 MiB pipe (Linux's default limit) instead of 64 KiB: a chunk crosses in a few wake-ups."""
    try:
        import fcntl

        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (ImportError, OSError):
        pass


def serve() -> None:
    """A worker's main loop: row phases for (frame or table, lines, parameters) until None or EOF."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the job handles Ctrl-C and closes its workers
    map_large_allocations()
    task_fd, result_fd, suite_path, sha256 = sys.argv[1:5]
    tasks = Connection(int(task_fd), writable=False)
    results = Connection(int(result_fd), readable=False)
    stats = {"value parsing": 0.0, "GE row rules": 0.0, "chunks": 0.0}
    clock = time.perf_counter

    def timed(owner: Any, name: str, label: str) -> None:
        original = getattr(owner, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = clock()
            try:
                return original(*args, **kwargs)
            finally:
                stats[label] += clock() - started

        setattr(owner, name, wrapper)

    timed(prepare, "check_frame", "value parsing")
    timed(HealthSuite, "check_rows", "GE row rules")
    try:
        suite = HealthSuite(Path(suite_path))
        if suite.sha256 != sha256:
            raise SuiteError(f"{suite_path} changed while the batch was being validated; run it again")
    except BaseException as exc:
        _reply(results, exc)
        return
    while True:
        try:
            task = tasks.recv()
        except (EOFError, OSError):
            return
        if task is None:
            stats["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            results.send(("stats", stats))
            return
        try:
            data, lines, parameters = task
            frame = data if isinstance(data, pd.DataFrame) else prepare.check_frame(data, lines)
            phase = rules_phase(suite, frame, lines, parameters)
            stats["chunks"] += 1
        except Exception as exc:
            _reply(results, exc)
            continue
        results.send(("ok", phase))
        del phase, task, data, frame, lines
        release_free_memory()


def _reply(results: Connection, exc: BaseException) -> None:
    try:
        results.send(("error", exc))
    except Exception:  # an exception that does not pickle: its text
        results.send(("failed", f"{type(exc).__name__}: {exc}"))
