"""The Spark engine against the single-process engine on the same file, in one run.

Reports, each engine in its own child process on a fresh local lake:

* rows/s per core: the single-process engine (one core) vs Spark on local[2] (two), as a ratio
  (issue 23's target: >= 0.7);
* local[1] vs local[2] wall time (target: local[2] >= 1.6x faster on 2 cores);
* peak resident memory of one Spark Python worker (an executor's task process) for each split size,
  the kernel's high-water mark (VmHWM) read as the run ends, against the split size;
* equality: the manifests' counts, and every processed and rejected row (all columns but the run's
  ``ingested_at``) of the Spark run against the single-process run.

    python bench/spark_engine.py --rows 10000000 --splits 33554432,134217728
    python bench/spark_engine.py --rows 2000000 --splits 8388608   # the 2M-row equality case
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from validate_bench import source

RUN = """
import json, os, sys, time
from pathlib import Path
engine, home, path, master = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
split = int(sys.argv[5])
workers_s = 0.0
if engine == "spark":
    os.environ["PYSPARK_PYTHON"] = sys.executable
    from vitalflow.validate.spark_engine import spark_session, warm_workers
    spark = spark_session(master)  # the session `vitalflow run --engine spark` starts
    # Each engine's processes started, with their imports done, before the clock (as this process
    # imports the validator below): a job's start-up is reported apart (Glue's job starts the
    # workers while it fetches the upload: validate_spark.py).
    clock = time.perf_counter()
    warm_workers(spark)
    workers_s = time.perf_counter() - clock
from vitalflow import stages
from vitalflow.config import Settings
from vitalflow.pipeline import ingest
from vitalflow.runtime import local_runtime
import vitalflow.validate.batch  # both engines' imports (Great Expectations) before the clock
runtime = local_runtime(Settings(home=home, engine=engine, split_bytes=split))
ref = ingest(runtime, path)
started = time.perf_counter()  # the engine's work only: from the upload in the lake to the commit
m = stages.validate(runtime, ref).manifest
assert m.status == "processed", m.error
validate_s = round(time.perf_counter() - started, 2)
# The Python workers' peak resident size, from the kernel (VmHWM): exact, and no sampling thread
# taking a share of the two cores the run is measured on. The workers are reused: all still alive.
peak_kb = 0
for entry in Path("/proc").iterdir():
    try:
        if entry.name.isdigit() and b"vitalflow.validate.spark_daemon" in (entry / "cmdline").read_bytes():
            status = (entry / "status").read_text()
            peak_kb = max(peak_kb, int(status.split("VmHWM:")[1].split()[0]))
    except (OSError, IndexError):
        continue
print(json.dumps({"validate_s": validate_s, "rows_in": m.rows_in, "worker_peak_mb": round(peak_kb / 1024, 1),
                  "workers_start_s": round(workers_s, 2),
                  "counts": [m.rows_in, m.rows_processed, m.rows_rejected, m.rejected_by_reason,
                             m.blank_lines],
                  "processed": m.processed_files, "rejected": m.rejected_files}))
"""


def run(engine: str, path: Path, home: Path, master: str = "local[1]", split: int = 128 << 20) -> dict:
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", RUN, engine, str(home), str(path), master, str(split)],
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if out.returncode != 0:
        raise SystemExit(f"{engine} {master} failed:\n{out.stderr[-3000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result.update(wall_s=round(wall, 2))
    result["home"] = str(home)
    return result


def rows_of(result: dict, kind: str):  # -> pyarrow.Table sorted by line, without ingested_at
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables = [pq.read_table(Path(result["home"]) / key, partitioning=None) for key in result[kind]]
    table = pa.concat_tables(tables).drop(["ingested_at"])
    return table.sort_by([("source_line", "ascending")])


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--splits", default=str(16 << 20), help="split sizes in bytes, comma-separated")
    parser.add_argument("--masters", default="local[1],local[2]", help="Spark masters, comma-separated")
    args = parser.parse_args()
    path = source(args.rows, args.seed, "dirty")
    splits = [int(s) for s in args.splits.split(",")]
    size = path.stat().st_size
    with tempfile.TemporaryDirectory(prefix="spark-bench-") as tmp:
        local = run("local", path, Path(tmp) / "local")
        results = {"file_bytes": size, "rows": local["rows_in"], "local": local}
        for split in splits:
            for master in args.masters.split(","):
                one = run("spark", path, Path(tmp) / f"{master}-{split}", master, split)
                same_counts = one["counts"] == local["counts"]
                same_rows = all(rows_of(one, k).equals(rows_of(local, k)) for k in ("processed", "rejected"))
                one.update(same_counts=same_counts, same_rows=same_rows)
                results[f"{master} split {split >> 20} MiB"] = one
    report(results, splits, args.masters.split(","))
    out = Path(__file__).resolve().parent / "results" / "spark_engine.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str))
    return 0


def report(results: dict, splits: list[int], masters: list[str]) -> None:
    local, rows = results["local"], results["rows"]
    single = rows / local["validate_s"]
    print(f"{rows:,} rows, {results['file_bytes'] / (1 << 20):.0f} MiB")
    print(f"single-process: {local['validate_s']} s validate, {single:,.0f} rows/s (1 core)")
    for split in splits:
        runs = {m: results[f"{m} split {split >> 20} MiB"] for m in masters}
        for master, one in runs.items():
            cores = int(master.removeprefix("local[").split(",")[0].rstrip("]"))
            per_core = rows / one["validate_s"] / cores
            print(
                f"split {split >> 20} MiB, {master}: {one['validate_s']} s; per core {per_core:,.0f} "
                f"rows/s = {per_core / single:.2f} of single-process; worker peak "
                f"{one['worker_peak_mb']} MB; same counts {one['same_counts']}, "
                f"same rows {one['same_rows']}; "
                f"workers started in {one['workers_start_s']} s before the clock"
            )
        if "local[1]" in runs and "local[2]" in runs:
            ratio = runs["local[1]"]["validate_s"] / runs["local[2]"]["validate_s"]
            print(f"split {split >> 20} MiB: local[2] is x{ratio:.2f} faster than local[1]")


if __name__ == "__main__":
    sys.exit(main())
