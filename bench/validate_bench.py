"""Validation job vs a CSV->Parquet baseline, whole-process wall time and peak RSS, in one run.

Each side runs in its own child process; peak RSS is the child's ru_maxrss (the job runs in one
process). The ratio is job / baseline, measured on the same file on the same machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BASELINE = """
import sys, pyarrow as pa, pyarrow.csv as csv, pyarrow.parquet as pq
names = "event_time,user_id,heart_rate,spo2,steps,temp_c,systolic_bp,diastolic_bp".split(",")
reader = csv.open_csv(
    sys.argv[1],
    parse_options=csv.ParseOptions(invalid_row_handler=lambda row: "skip"),
    convert_options=csv.ConvertOptions(column_types={c: pa.string() for c in names}),
)
with pq.ParquetWriter(sys.argv[2], reader.schema, compression="zstd") as writer:
    for batch in reader:
        writer.write_batch(batch)
"""


JOB = """
import sys
from pathlib import Path
from vitalflow import stages
from vitalflow.config import Settings
from vitalflow.pipeline import ingest
from vitalflow.runtime import local_runtime
runtime = local_runtime(Settings(home=Path(sys.argv[1]), chunk_rows=int(sys.argv[3])))
result = stages.validate(runtime, ingest(runtime, Path(sys.argv[2])))
assert result.manifest.status == "processed", result.manifest.error
"""


def child(cmd: list[str]) -> dict[str, float]:
    """Run one child; its own rusage (os.wait4) gives its peak RSS, not the max over all children."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"benchmark child failed: {cmd[:3]}")
    return {
        "wall_s": round(wall, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--chunk-rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    data = HERE / "data" / f"vitals-{args.rows}-{args.seed}.csv"
    if not data.exists():
        print(f"generating {args.rows:,} rows into {data} (once)...", flush=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "vitalflow.cli",
                "generate",
                "--rows",
                str(args.rows),
                "--out",
                str(data),
                "--seed",
                str(args.seed),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    size_mb = data.stat().st_size / 1e6
    with tempfile.TemporaryDirectory() as scratch:
        base = child([sys.executable, "-c", BASELINE, str(data), str(Path(scratch) / "baseline.parquet")])
        lake = Path(scratch) / "lake"
        job = child([sys.executable, "-c", JOB, str(lake), str(data), str(args.chunk_rows)])
    ratio = job["wall_s"] / base["wall_s"]
    result = {
        "rows": args.rows,
        "csv_mb": round(size_mb, 1),
        "chunk_rows": args.chunk_rows,
        "baseline": base,
        "job": job,
        "ratio": round(ratio, 2),
    }
    print(f"\n{'':<22}{'wall s':>10}{'peak RSS MB':>14}{'rows/s':>14}")
    for name, r in (("baseline (pyarrow)", base), ("validation job", job)):
        print(f"{name:<22}{r['wall_s']:>10}{r['peak_rss_mb']:>14}{args.rows / r['wall_s']:>14,.0f}")
    print(
        f"\nratio job/baseline: {ratio:.2f} (target <= 3); "
        f"job peak RSS {job['peak_rss_mb']} MB (target <= 1024)"
    )
    out = HERE / "results" / f"validate-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
