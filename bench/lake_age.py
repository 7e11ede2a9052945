"""What a report costs as the lake ages: bytes read and analyze time for the 1st, 100th and 1,000th batch.

One lake grows to 1,000 batches (three a day, so the 1,000th comes after nearly a year). The
measured batches are generated files run through the real validation job; the batches between
them are small ones written straight into the lake (``tests/lakefixture.py``: Parquet, manifest,
commit marker, and the summary row computed by the real SQL). For each measured batch the
analyze stage (report queries, rules analyst, stored record) runs in this process once to warm
up, then five times, measured (the median): wall time, and bytes read from /proc/self/io
(``rchar``, an upper bound). Figures are ratios against the 1st batch of the same run.

    python bench/lake_age.py [--rows 50000] [--batches 1,100,1000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from lakefixture import reading, write_batch  # noqa: E402
from vitalflow import stages  # noqa: E402
from vitalflow.config import Settings  # noqa: E402
from vitalflow.generate import GeneratorOptions, generate  # noqa: E402
from vitalflow.pipeline import ingest  # noqa: E402
from vitalflow.runtime import local_runtime  # noqa: E402


def bytes_read() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise RuntimeError("/proc/self/io has no rchar line")


def filler(root: Path, n: int, at: datetime) -> None:
    rows = [reading(f"u{j}", at + timedelta(minutes=j), spo2=89 if j % 7 == 0 else 97) for j in range(50)]
    write_batch(root, f"f{n:015x}", rows, [{"reasons": ["spo2:missing"]}], ingested_at=at, in_tables=False)


def measure(home: Path, csv: Path, repeats: int) -> dict[str, float]:
    """Validate the batch, analyze it once to warm up, then ``repeats`` times from scratch: the median."""
    runtime = local_runtime(Settings(home=home))
    batch_id = stages.validate(runtime, ingest(runtime, csv)).manifest.batch_id
    stages.analyze(runtime, batch_id)
    runs = []
    for _ in range(repeats):
        (home / "results" / "vitalflow.db").unlink()  # else the analysis is a replay
        runtime = local_runtime(Settings(home=home))
        before, started = bytes_read(), time.perf_counter()
        record = stages.analyze(runtime, batch_id)
        runs.append((time.perf_counter() - started, bytes_read() - before))
    return {
        "analyze_s": statistics.median(t for t, _ in runs),
        "bytes_read": statistics.median(b for _, b in runs),
        "history": len(record.report.history),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=50_000, help="rows of each measured batch")
    parser.add_argument("--batches", default="1,100,1000", help="which batches to measure")
    parser.add_argument("--repeats", type=int, default=5, help="measured analyses per batch (median)")
    args = parser.parse_args()
    marks = sorted(int(b) for b in args.batches.split(","))
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        home = root / "lake"
        made = 0
        for position, mark in enumerate(marks):
            # the batches before this one, three a day up to an hour ago (the lake ages by them)
            count = mark - position - 1 - made
            last = datetime.now(timezone.utc) - timedelta(hours=1)
            for k in range(count):
                filler(home, made, last - timedelta(hours=8 * (count - 1 - k)))
                made += 1
            csv = generate(GeneratorOptions(rows=args.rows, seed=mark), root / f"batch-{mark}.csv")
            figures = measure(home, csv, args.repeats)
            results.append({"batch": mark, **figures})
            took, read = figures["analyze_s"], figures["bytes_read"] / 1e6
            print(f"batch {mark:>5}: analyze {took:.2f} s, read {read:.2f} MB")
    base = results[0]
    print(f"\n{'batch':>6} {'analyze s':>10} {'ratio':>6} {'MB read':>8} {'ratio':>6} {'history':>8}")
    for r in results:
        r["time_ratio"] = round(r["analyze_s"] / base["analyze_s"], 2)
        r["bytes_ratio"] = round(r["bytes_read"] / base["bytes_read"], 2)
        print(
            f"{r['batch']:>6} {r['analyze_s']:>10.2f} {r['time_ratio']:>6.2f} "
            f"{r['bytes_read'] / 1e6:>8.2f} {r['bytes_ratio']:>6.2f} {r['history']:>8}"
        )
    out = HERE / "results" / f"lake-age-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"rows": args.rows, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
