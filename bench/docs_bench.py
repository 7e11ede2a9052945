"""Data Docs publishing cost at the 1st vs the 1,000th batch, in one run.

A real Great Expectations result is captured once from the validation of a generated batch; it is
then published as batch after batch into a local lake until it holds 999. The baseline is the
first batch of a fresh lake, the measurement the 1,000th batch of the filled one; the two are
timed alternately, ``--window`` times each, and compared by their medians. Besides wall time it
counts store operations and the keys listings returned (what S3 bills and what grows with
history), and peak Python memory of one publish.

Two histories: ``steady`` (a batch every 45 minutes, so 1,000 batches span three weeks) and
``one-day`` (1,000 batches a minute apart, all on one day). Cost is meant to be independent of
history; only the page of a day grows with the batches of that day, which ``one-day`` shows.
Templates are compiled by a warm-up before anything is timed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from unittest import mock

HERE = Path(__file__).resolve().parent


class CountingStore:
    """A store that counts what a publish asks of it."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.ops = 0
        self.listed = 0

    def reset(self) -> tuple[int, int]:
        counts = (self.ops, self.listed)
        self.ops = self.listed = 0
        return counts

    def list_keys(self, prefix: str):
        self.ops += 1
        for key in self.inner.list_keys(prefix):
            self.listed += 1
            yield key

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if callable(attr):

            def counted(*args: Any, **kwargs: Any) -> Any:
                self.ops += 1
                return attr(*args, **kwargs)

            return counted
        return attr


def capture_result(workdir: Path) -> Any:
    from vitalflow import stages
    from vitalflow.config import Settings
    from vitalflow.datadocs import publish
    from vitalflow.generate import GeneratorOptions, generate
    from vitalflow.pipeline import ingest
    from vitalflow.runtime import local_runtime

    runtime = local_runtime(Settings(home=workdir / "capture"))
    source = generate(GeneratorOptions(rows=5000, seed=3), workdir / "clinic.csv")
    captured: list[Any] = []
    real = publish.publish_docs

    def spy(result: Any, **kwargs: Any) -> str:
        captured.append(result)
        return real(result, **kwargs)

    with mock.patch("vitalflow.validate.batch.publish_docs", spy):
        stages.validate(runtime, ingest(runtime, source))
    if not captured:
        raise SystemExit("the validation published no result")
    return captured[0]


def run(result: Any, history: str, batches: int, window: int, workdir: Path) -> dict[str, Any]:
    """Fill a store with ``batches - 1`` batches, then time, interleaved, a first batch in a fresh store
    and the next batch in the filled one (interleaving cancels drift in the machine's load)."""
    from vitalflow.datadocs.page import DocsFacts
    from vitalflow.datadocs.publish import publish_docs
    from vitalflow.local.object_store import LocalObjectStore

    step = timedelta(minutes=45 if history == "steady" else 1)
    start = datetime(2026, 10, 1, tzinfo=timezone.utc)

    def publish(store: CountingStore, i: int, memory: bool = False) -> dict[str, float]:
        facts = DocsFacts(
            rows_in=5000, rows_processed=4990, rows_rejected=10, source=f"raw/2026-10-01/clinic-{i}.csv"
        )
        if memory:
            tracemalloc.start()
        store.reset()
        began = time.perf_counter()
        publish_docs(
            result,
            batch_id=f"{i:016x}",
            run_time=start + i * step,
            data_store=store,
            docs_store=store,
            facts=facts,
        )
        sample = {"s": time.perf_counter() - began}
        sample["ops"], sample["listed"] = store.reset()
        if memory:
            sample["peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        return sample

    filled = CountingStore(LocalObjectStore(workdir / history / "filled"))
    for i in range(batches - 1):
        publish(filled, i)
    first: list[dict[str, float]] = []
    last: list[dict[str, float]] = []
    for k in range(window):
        fresh = CountingStore(LocalObjectStore(workdir / history / f"fresh-{k}"))
        first.append(publish(fresh, 0, memory=k == 0))
        last.append(publish(filled, batches - 1 + k, memory=k == 0))

    def median(rows: list[dict[str, float]], key: str) -> float:
        return statistics.median(r[key] for r in rows)

    return {
        "history": history,
        "batches": batches,
        "first_ms": round(1000 * median(first, "s"), 2),
        "last_ms": round(1000 * median(last, "s"), 2),
        "ratio": round(median(last, "s") / median(first, "s"), 2),
        "first_ops": median(first, "ops"),
        "last_ops": median(last, "ops"),
        "first_keys_listed": median(first, "listed"),
        "last_keys_listed": median(last, "listed"),
        "first_peak_mb": round(first[0]["peak_mb"], 2),
        "last_peak_mb": round(last[0]["peak_mb"], 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=1000)
    parser.add_argument("--window", type=int, default=25, help="batches in each median")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vitalflow-docs-bench-") as tmp:
        workdir = Path(tmp)
        result = capture_result(workdir)
        run(result, "warm-up", 5, 2, workdir)
        rows = [run(result, h, args.batches, args.window, workdir) for h in ("steady", "one-day")]
    print(
        f"Data Docs publish cost: the 1st batch vs the {args.batches}th "
        f"(medians of {args.window}, interleaved)"
    )
    print(
        f"{'history':<10} {'1st ms':>8} {'Nth ms':>8} {'ratio':>6} {'ops':>9} "
        f"{'keys listed':>13} {'peak MB':>11}"
    )
    for r in rows:
        print(
            f"{r['history']:<10} {r['first_ms']:>8} {r['last_ms']:>8} {r['ratio']:>6} "
            f"{r['first_ops']:>4g}/{r['last_ops']:<4g} "
            f"{r['first_keys_listed']:>6g}/{r['last_keys_listed']:<6g} "
            f"{r['first_peak_mb']:>5}/{r['last_peak_mb']:<5}"
        )
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "docs_bench.json").write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
