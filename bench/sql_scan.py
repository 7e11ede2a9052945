"""How many bytes a report run reads, against the size of the batch's CSV (target: at most 5%).

Two batches go through the real validation job into a fresh lake (the second is measured; the
first gives the history query something to read). The report then runs in this process, and the
bytes it reads are taken from /proc/self/io (``rchar``: every byte read through a system call,
Parquet footers and manifests included), on a second run so that first-use imports are not counted;
the figure is an upper bound.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from vitalflow import stages
from vitalflow.aggregate import build_report
from vitalflow.config import Settings
from vitalflow.generate import GeneratorOptions, generate
from vitalflow.local.object_store import LocalObjectStore
from vitalflow.local.query_engine import DuckDBEngine
from vitalflow.pipeline import ingest
from vitalflow.runtime import local_runtime

HERE = Path(__file__).resolve().parent


def bytes_read() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise RuntimeError("/proc/self/io has no rchar line")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        runtime = local_runtime(Settings(home=root / "lake"))
        manifests = []
        for seed in (1, 2):
            csv = generate(GeneratorOptions(rows=args.rows, seed=seed), root / f"batch-{seed}.csv")
            manifests.append(stages.validate(runtime, ingest(runtime, csv)).manifest)
        measured = manifests[-1]
        csv_bytes = measured.bytes
        parquet_bytes = sum(
            (root / "lake" / k).stat().st_size for k in measured.processed_files + measured.rejected_files
        )
        engine = DuckDBEngine(LocalObjectStore(root / "lake"))
        build_report(measured, engine)  # warm-up: first use imports modules, which rchar would count
        before, started = bytes_read(), time.perf_counter()
        report = build_report(measured, engine)
        read, elapsed = bytes_read() - before, time.perf_counter() - started
    result = {
        "rows": args.rows,
        "csv_bytes": csv_bytes,
        "batch_parquet_bytes": parquet_bytes,
        "report_bytes_read": read,
        "read_vs_csv": round(read / csv_bytes, 4),
        "parquet_vs_csv": round(parquet_bytes / csv_bytes, 4),
        "report_seconds": round(elapsed, 2),
        "history_batches": len(report.history),
    }
    print(json.dumps(result, indent=2))
    print(
        f"\nreport run read {read / 1e6:.1f} MB = {100 * read / csv_bytes:.2f}% "
        f"of the {csv_bytes / 1e6:.1f} MB CSV "
        f"(target <= 5%); the batch's Parquet is {100 * parquet_bytes / csv_bytes:.1f}% of the CSV"
    )
    out = HERE / "results" / f"sql-scan-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
