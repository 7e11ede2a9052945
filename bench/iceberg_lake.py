"""The Iceberg lake's costs (issue 20): commits as the lake grows, compaction, a backfill's partitions.

python bench/iceberg_lake.py commits [--batches 1,100,1000]
    Bytes and time of one batch's commit (processed + rejected, each an Iceberg snapshot, then the
    snapshot trim) and of its each-reading-once check, on a lake of N earlier batches (tiny
    batches on 30 dates, each published as the job does: files, commits, manifest, marker, trim;
    the mean time and metadata bytes of the last 50 of those too, as merges and trims come in
    steps). Ratios against the first lake of the run. Then the largest lake is compacted: file
    count and a report query's time (median of 5) before/after.
python bench/iceberg_lake.py backfill [--rows 2000000] [--dates 1,365,9800]
    Whole-process time and peak memory of `vitalflow run` on a file of that many rows spread
    over that many event dates, each in a fresh lake; ratios against the first.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa

from vitalflow.compaction import compact
from vitalflow.contract import PROCESSED_SCHEMA, REJECTED_SCHEMA
from vitalflow.local.object_store import LocalObjectStore
from vitalflow.local.query_engine import DuckDBEngine
from vitalflow.manifests import write_manifest
from vitalflow.models import Manifest, SourceRef
from vitalflow.tables import LOCATIONS, LakeTables
from vitalflow.upkeep import trim
from vitalflow.validate.commit import publish
from vitalflow.validate.loaded import LoadedReadings
from vitalflow.validate.writer import PartitionedWriter, WrittenFile

DAY0 = datetime(2026, 10, 1, tzinfo=timezone.utc)
REPORT = "SELECT dt, count(*) AS n, avg(heart_rate) AS hr, count_if(low_spo2) AS low " + (
    "FROM readings_flagged GROUP BY 1"
)


def readings(n: int, batch_id: str, seed: int, dates: int = 30) -> tuple[pa.Table, np.ndarray]:
    rng = np.random.default_rng(seed)
    stamps = np.datetime64(DAY0.replace(tzinfo=None), "us") + rng.integers(0, dates * 86_400, n).astype(
        "timedelta64[s]"
    )
    columns = {
        "event_time": pa.array(stamps, pa.timestamp("us", tz="UTC")),
        "user_id": pa.array([f"u{seed}-{i % 50}" for i in range(n)]),
        **{
            c: pa.array(rng.integers(60, 100, n).astype(np.int32))
            for c in ("heart_rate", "spo2", "steps", "systolic_bp")
        },
        "temp_c": pa.array(np.full(n, 36.6)),
        "diastolic_bp": pa.array(np.full(n, 50, np.int32)),
        "batch_id": pa.array([batch_id] * n),
        "source_line": pa.array(np.arange(2, n + 2)),
        "ingested_at": pa.array(np.full(n, np.datetime64("2026-11-01", "us")), pa.timestamp("us", tz="UTC")),
    }
    return pa.table(columns, schema=PROCESSED_SCHEMA), stamps.astype("datetime64[D]")


def add_batch(root: Path, batch_id: str, rows: int, seed: int) -> dict[str, list[WrittenFile]]:
    """A batch's files, written as the job writes them (not yet published)."""
    work = root.parent / "work" / batch_id
    processed = PartitionedWriter(work, "processed", PROCESSED_SCHEMA, batch_id)
    table, days = readings(rows, batch_id, seed)
    processed.write(table, days)
    rejected = PartitionedWriter(work, "rejected", REJECTED_SCHEMA, batch_id)
    bad = {f.name: pa.array([None] * 3, f.type) for f in REJECTED_SCHEMA}
    bad.update(
        reasons=pa.array([["x"]] * 3), batch_id=pa.array([batch_id] * 3), source_line=pa.array([1, 2, 3])
    )
    bad["ingested_at"] = pa.array([DAY0] * 3, pa.timestamp("us", tz="UTC"))
    rejected.write(pa.table(bad, schema=REJECTED_SCHEMA), "2026-11-01")
    return {"processed": processed.close(), "rejected": rejected.close()}


def record(batch_id: str) -> Manifest:
    return Manifest(
        batch_id=batch_id,
        source=SourceRef(key=f"raw/2026-11-01/{batch_id}.csv"),
        sha256=batch_id * 4,
        bytes=0,
        status="processed",
        started_at=DAY0,
    )


class MetadataFiles:
    """Bytes of metadata written since the last call: new files under the tables' metadata
    folders (old ones may be deleted by then) and the catalog's growth."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.seen: set[Path] = set()
        self.catalog = 0
        self.written()

    def written(self) -> int:
        files = {p for p in self.root.glob("*/metadata/*") if p.is_file()}
        new = sum(p.stat().st_size for p in files - self.seen)
        self.seen = files
        catalog = (self.root / "catalog.db").stat().st_size if (self.root / "catalog.db").exists() else 0
        grown, self.catalog = catalog - self.catalog, catalog
        return new + grown


def one_commit(root: Path, tables: LakeTables, batch_id: str, meta: MetadataFiles) -> dict[str, float]:
    """The table side of one batch's commit (both tables, then the snapshot trim), as publish does it."""
    files = add_batch(root, batch_id, 5000, seed=999_999)
    table, days = readings(5000, batch_id, 999_999)
    clock = time.perf_counter()
    loaded = LoadedReadings(tables, batch_id)
    loaded.classify(table, days)
    checked = time.perf_counter() - clock
    store = LocalObjectStore(root)
    for written in files.values():
        for f in written:
            store.put_file(f.path, f.key)
    meta.written()
    clock = time.perf_counter()
    tables.commit_files(
        "processed_files", batch_id, [f.key for f in files["processed"]], (), loaded.read_at()
    )
    tables.commit_files("rejected_files", batch_id, [f.key for f in files["rejected"]])
    took = time.perf_counter() - clock
    write_manifest(store, record(batch_id))
    clock = time.perf_counter()
    for name in LOCATIONS:
        trim(store, tables, name)
    return {
        "commit_s": took + time.perf_counter() - clock,
        "commit_bytes": meta.written(),
        "check_s": checked,
    }


def manifests_planned(tables: LakeTables) -> int:
    """Manifests a scan of the processed table reads: those its current snapshot lists."""
    table = tables.table("processed_files")
    snapshot = table.current_snapshot()
    return 0 if snapshot is None else len(snapshot.manifests(table.io))


def report_time(root: Path) -> float:
    times = []
    for _ in range(6):
        engine = DuckDBEngine(LocalObjectStore(root))
        clock = time.perf_counter()
        engine.query(REPORT)
        times.append(time.perf_counter() - clock)
        engine.close()
    return statistics.median(times[1:])


def commits(sizes: list[int]) -> None:
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "lake"
        tables = LakeTables.local(root)
        store = LocalObjectStore(root)
        meta = MetadataFiles(root)
        done, clock = 0, time.perf_counter()
        window: list[tuple[float, int]] = []
        for size in sizes:
            while done < size:  # the lake of ``size`` batches, each published as the job does
                batch_id = f"{done:016x}"
                batch = add_batch(root, batch_id, 20, seed=done)
                meta.written()
                started = time.perf_counter()
                publish(store, tables, batch, record(batch_id))
                window = [*window[-49:], (time.perf_counter() - started, meta.written())]
                done += 1
            results[size] = one_commit(root, tables, f"f{size:015x}", meta)
            done += 1
            built = {
                "built_s": round(time.perf_counter() - clock, 1),
                "last_50_publish_s_mean": round(statistics.mean(t for t, _ in window), 4) if window else 0,
                "last_50_publish_bytes_mean": round(statistics.mean(b for _, b in window)) if window else 0,
                "manifests_planned": manifests_planned(tables),
                "snapshots": len(tables.table("processed_files").metadata.snapshots),
            }
            print(
                json.dumps({"batches": size, **{k: round(v, 4) for k, v in results[size].items()}, **built}),
                flush=True,
            )
        base = results[sizes[0]]
        for size in sizes:
            ratios = {k: round(results[size][k] / base[k], 2) for k in base}
            print(json.dumps({"batches": size, "ratio_vs_first": ratios}))
        files = sum(len(tables.live_keys(n)) for n in ("processed_files", "rejected_files"))
        slow = report_time(root)
        compact(LocalObjectStore(root), tables, retention=timedelta(0))
        after = sum(len(tables.live_keys(n)) for n in ("processed_files", "rejected_files"))
        fast = report_time(root)
        print(
            json.dumps(
                {
                    "compaction": {
                        "files_before": files,
                        "files_after": after,
                        "report_s_before": round(slow, 4),
                        "report_s_after": round(fast, 4),
                    }
                }
            )
        )
        maintained = one_commit(root, tables, "e" * 16, meta)  # snapshots expired, one file a partition
        print(
            json.dumps(
                {"batches": sizes[-1], "after_compaction": {k: round(v, 4) for k, v in maintained.items()}}
            )
        )


def backfill_file(path: Path, rows: int, dates: int) -> None:
    rng = np.random.default_rng(5)
    start = np.datetime64("2000-01-02T00:00:00", "s")
    day = rng.integers(0, dates, rows)
    stamps = start + (day * 86_400 + rng.integers(0, 86_400, rows)).astype("timedelta64[s]")
    order = np.argsort(stamps, kind="stable")
    with path.open("w") as fh:
        fh.write("event_time,user_id,heart_rate,spo2,steps,temp_c,systolic_bp,diastolic_bp\n")
        text = np.datetime_as_string(stamps[order], unit="s")
        users = rng.integers(0, 1000, rows)
        for i in range(rows):
            fh.write(f"{text[i]}Z,user-{users[i]},72,97,{i % 9000},36.6,120,80\n")


def backfill(rows: int, date_counts: list[int]) -> None:
    base = None
    for dates in date_counts:
        with tempfile.TemporaryDirectory() as tmp:
            source = Path(tmp) / f"backfill-{dates}.csv"
            backfill_file(source, rows, dates)
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            clock = time.perf_counter()
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "vitalflow.cli",
                    "--home",
                    str(Path(tmp) / "lake"),
                    "run",
                    str(source),
                ],
                check=True,
                capture_output=True,
            )
            wall = time.perf_counter() - clock
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            files = len(list((Path(tmp) / "lake" / "processed").rglob("*.parquet")))
            out = {
                "dates": dates,
                "rows": rows,
                "wall_s": round(wall, 2),
                "sys_s": round(after.ru_stime - before.ru_stime, 2),
                "peak_rss_mb": round(after.ru_maxrss / 1024),
                "processed_files": files,
            }
            base = base or out
            out["ratio_vs_first"] = round(wall / base["wall_s"], 2)
            print(json.dumps(out), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["commits", "backfill"])
    parser.add_argument("--batches", default="1,100,300")
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--dates", default="1,365,9800")
    args = parser.parse_args()
    if args.what == "commits":
        commits([int(n) for n in args.batches.split(",")])
    else:
        backfill(args.rows, [int(n) for n in args.dates.split(",")])


if __name__ == "__main__":
    main()
