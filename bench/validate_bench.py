"""Validation job vs pyarrow's CSV->Parquet on the same file, in one run: ratio, stages, peak RSS, rows/s.

Each side runs in its own child process. Peak RSS is that child's ``ru_maxrss``; ``tree peak`` is
the largest sum of the process tree's resident sizes sampled every 20 ms. The job child times its
stages by wrapping the validation functions.

Cases (``--cases``):
  clean      generated readings, about 1% invalid
  dirty      more than half of the rows rejected (the ratio to ``clean`` should stay within 1.5)
  rejected   every row rejected (memory must not grow with rejected rows)
  dates      readings spread over every day from 2000 to today (thousands of partitions)
  ulimit     the clean file with ``ulimit -n 256``
  wide       the clean file plus rows with a 16 MB field (the longest record accepted)

    python bench/validate_bench.py --rows 2000000 --cases clean,dirty
    python bench/validate_bench.py --rows 10000000 --cases clean,rejected,dates,ulimit,wide
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BASELINE = """
import sys, pyarrow as pa, pyarrow.csv as csv, pyarrow.parquet as pq
names = "event_time,user_id,heart_rate,spo2,steps,temp_c,systolic_bp,diastolic_bp".split(",")
reader = csv.open_csv(
    sys.argv[1],
    read_options=csv.ReadOptions(block_size=int(sys.argv[3])),  # must hold the longest row
    parse_options=csv.ParseOptions(invalid_row_handler=lambda row: "skip"),
    convert_options=csv.ConvertOptions(column_types={c: pa.string() for c in names}),
)
with pq.ParquetWriter(sys.argv[2], reader.schema, compression="zstd") as writer:
    for batch in reader:
        writer.write_batch(batch)
"""

JOB = """
import collections, json, sys, time
from pathlib import Path
started = time.perf_counter()
from vitalflow import stages
from vitalflow.config import Settings
from vitalflow.pipeline import ingest
from vitalflow.runtime import local_runtime
import vitalflow.validate.batch as V
import vitalflow.validate.duplicates as D
import vitalflow.validate.prepare as P
import vitalflow.validate.suite as S
stage = collections.Counter()
stage["imports"] = time.perf_counter() - started

def timed(owner, name, label):
    original = getattr(owner, name)
    def wrapper(*args, **kwargs):
        t = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            stage[label] += time.perf_counter() - t
    setattr(owner, name, wrapper)

def timed_iter(owner, name, label):
    original = getattr(owner, name)
    def wrapper(*args, **kwargs):
        it = original(*args, **kwargs)
        while True:
            t = time.perf_counter()
            try:
                item = next(it)
            except StopIteration:
                return
            finally:
                stage[label] += time.perf_counter() - t
            yield item
    setattr(owner, name, wrapper)

timed(V, "scan_file", "hash + encoding check")
timed_iter(V, "iter_chunks", "record parsing")
timed(P, "check_frame", "value parsing")
timed(S.BatchRules, "check_rows", "GE row rules")
timed(S.BatchRules, "check_final", "GE duplicate rule")
timed(D.Repeats, "mark", "duplicate tracking")
timed(P, "processed_table", "typed table + contract")
timed(P, "rejected_table", "rejected table")
timed(V.PartitionedWriter, "write", "parquet write")
timed(V, "publish_docs", "data docs")
timed(V, "publish", "commit")
runtime = local_runtime(Settings.from_env(home=Path(sys.argv[1]), chunk_rows=int(sys.argv[3])))
result = stages.validate(runtime, ingest(runtime, Path(sys.argv[2])))
m = result.manifest
assert m.status == "processed", m.error
stage["total"] = time.perf_counter() - started
print(json.dumps({"stages": stage, "rows_in": m.rows_in, "rejected": m.rows_rejected,
                  "partitions": len(m.partitions), "files": len(m.processed_files)}))
"""


def tree_rss_mb(pid: int) -> float:
    """Resident MB of ``pid`` and its descendants now (/proc; 0 for processes gone meanwhile)."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/statm") as fh:
                total += int(fh.read().split()[1])
            with open(f"/proc/{current}/task/{current}/children") as fh:
                todo.extend(int(c) for c in fh.read().split())
        except (OSError, ValueError, IndexError):
            continue
    return total * os.sysconf("SC_PAGE_SIZE") / (1 << 20)


def child(cmd: list[str], nofile: int | None = None) -> dict:
    """Run one child; its own rusage (os.wait4) gives its peak RSS, not the max over all children."""

    def limit() -> None:
        if nofile:
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, preexec_fn=limit)
    tree_peak = [0.0]
    done = threading.Event()

    def sample() -> None:  # the process tree's resident total, every 20 ms
        while not done.wait(0.02):
            tree_peak[0] = max(tree_peak[0], tree_rss_mb(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out = proc.stdout.read() if proc.stdout else b""
    done.set()
    sampler.join()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"benchmark child failed: {cmd[:3]}")
    result: dict = {
        "wall_s": round(wall, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "tree_peak_rss_mb": round(tree_peak[0], 1),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
    }
    lines = out.decode().strip().splitlines()
    if lines:
        result.update(json.loads(lines[-1]))
    return result


def source(rows: int, seed: int, case: str) -> Path:
    data = (
        HERE
        / "data"
        / f"vitals-{case if case in ('dirty', 'rejected', 'dates', 'wide') else 'clean'}-{rows}-{seed}.csv"
    )
    if data.exists():
        return data
    data.parent.mkdir(exist_ok=True)
    print(f"generating {case} file of {rows:,} rows into {data} (once)...", flush=True)
    from vitalflow.generate import GeneratorOptions, generate

    if case == "dirty":
        generate(GeneratorOptions(rows=rows, seed=seed, invalid_rate=0.6), data)
        return data
    clean = source(rows, seed, "clean") if case != "clean" else None
    if clean is None:
        generate(GeneratorOptions(rows=rows, seed=seed), data)
        return data
    tmp = data.with_suffix(".tmp")
    with clean.open("rb") as src, tmp.open("wb") as out:
        out.write(src.readline())
        for number, line in enumerate(src):
            if case == "rejected":
                fields = line.split(b",", 3)
                fields[2] = b"n/a"  # heart_rate: not a number, every row
                line = b",".join(fields)
            elif case == "dates":
                day = number % 9_800  # every day from 2000-01-01 on: the whole accepted window
                stamp = time.strftime(
                    "%Y-%m-%dT%H:%M:%SZ", time.gmtime(946_684_800 + day * 86_400 + number % 86_400)
                )
                line = stamp.encode() + line[line.index(b",") :]
            out.write(line)
        if case == "wide":
            for i in range(3):
                out.write(
                    b"2026-11-20T08:00:0%dZ," % i + b"u" * (16_000_000 - 60) + b",72,98,1,36.6,118,76\n"
                )
    tmp.rename(data)
    return data


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--chunk-rows", type=int, default=None, help="default: the job's own default")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cases", default="clean,dirty")
    args = parser.parse_args()
    from vitalflow.config import Settings

    chunk_rows = args.chunk_rows or Settings().chunk_rows
    results = {}
    for case in args.cases.split(","):
        data = source(args.rows, args.seed, case)
        with tempfile.TemporaryDirectory() as scratch:
            block = str(32 << 20 if case == "wide" else 1 << 20)  # pyarrow's default is 1 MiB
            base = child([sys.executable, "-c", BASELINE, str(data), str(Path(scratch) / "b.parquet"), block])
            job = child(
                [sys.executable, "-c", JOB, str(Path(scratch) / "lake"), str(data), str(chunk_rows)],
                nofile=256 if case == "ulimit" else None,
            )
        results[case] = {"baseline": base, "job": job, "ratio": round(job["wall_s"] / base["wall_s"], 2)}
        print(f"\n== {case}: {args.rows:,} rows, {data.stat().st_size / 1e6:,.0f} MB, chunk {chunk_rows:,}")
        print(f"{'':<26}{'wall s':>9}{'peak RSS MB':>13}{'tree peak MB':>14}{'rows/s':>12}")
        for name, r in (("baseline (pyarrow)", base), ("validation job", job)):
            print(
                f"{name:<26}{r['wall_s']:>9}{r['peak_rss_mb']:>13}{r['tree_peak_rss_mb']:>14}"
                f"{args.rows / r['wall_s']:>12,.0f}"
            )
        print(
            f"ratio job/baseline: {results[case]['ratio']}; rejected {job['rejected']:,}; "
            f"partitions {job['partitions']:,} in {job['files']:,} files"
        )
        for label, seconds in sorted(job["stages"].items(), key=lambda kv: -kv[1]):
            print(f"  {label:<24}{seconds:>8.2f} s")
    if "clean" in results and "dirty" in results:
        print(
            f"\ndirty/clean time: {results['dirty']['job']['wall_s'] / results['clean']['job']['wall_s']:.2f}"
        )
    out = HERE / "results" / f"validate-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"rows": args.rows, "chunk_rows": chunk_rows, "cases": results}, indent=2))
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
