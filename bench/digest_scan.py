"""What the daily digest costs as the lake ages: Athena bytes scanned and local run time.

Lakes of 31 and 365 days, 100 batches a day (10 sources, 10 batches each), one-row summaries
written straight into the lake (``tests/digest_lake.py``). On Athena, ``batch_summaries`` is
partitioned on ``dt`` with partition projection and every digest query bounds ``dt`` by its
window (``tests/test_digest.py`` checks the SQL), so Athena reads only those partitions' objects:
their total size is the upper bound of what it scans (it reads only the needed column chunks).
Locally the digest runs ``stages.digest`` on the lake (DuckDB over the window's partitions): wall
time (median of three runs after the first, which also sends) and peak memory.

    python bench/digest_scan.py [--ages 31,365] [--per-day 100]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from datetime import time as clock
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from digest_lake import summary, write  # noqa: E402
from vitalflow import lake, stages  # noqa: E402
from vitalflow.aggregate.queries import load_all  # noqa: E402
from vitalflow.config import Settings  # noqa: E402
from vitalflow.runtime import local_runtime  # noqa: E402

DAY = date(2026, 11, 30)
SOURCES = 10


def build(root: Path, age_days: int, per_day: int) -> None:
    for n in range(age_days):
        day = DAY - timedelta(days=age_days - 1 - n)
        for b in range(per_day):
            at = datetime.combine(day, clock(b * 24 // per_day % 24, b % 60), tzinfo=timezone.utc)
            source = f"clinic-{b % SOURCES}"
            row = summary(source, at, rows=1000 + b, reject_rate=0.01, anomaly_rate=0.05)
            write(root, {**row, "batch_id": f"{source}-{n:04d}-{b:03d}"})


def athena_bytes(root: Path, settings: Settings) -> dict[str, int]:
    """Per digest query: the bytes of the partitions its dt window selects."""
    windows = {
        "digest/daily_metrics": settings.digest_window_days,
        "digest/metric_bounds": settings.digest_window_days,
        "digest/new_reject_reasons": settings.digest_window_days,
        "digest/freshness": settings.digest_freshness_days,
    }
    assert set(windows) == {name for name in load_all() if name.startswith("digest/")}
    out = {}
    for name, days in windows.items():
        total = 0
        for n in range(days + 1):
            folder = root / lake.SUMMARIES / f"dt={(DAY - timedelta(days=n)).isoformat()}"
            total += sum(p.stat().st_size for p in folder.glob("*.parquet")) if folder.is_dir() else 0
        out[name] = total
    return out


def measure(age: int, per_day: int) -> dict[str, object]:
    root = Path(tempfile.mkdtemp(prefix=f"digest-{age}d-"))
    started = time.perf_counter()
    build(root, age, per_day)
    built_s = time.perf_counter() - started
    settings = Settings(home=root)
    runtime = local_runtime(settings)
    stages.digest(runtime, DAY)  # the first run also sends the email
    times = []
    for _ in range(3):
        started = time.perf_counter()
        outcome = stages.digest(local_runtime(settings), DAY)
        times.append(time.perf_counter() - started)
    scanned = athena_bytes(root, settings)
    return {
        "lake_days": age,
        "batches": age * per_day,
        "build_s": round(built_s, 1),
        "athena_bytes_per_query": scanned,
        "athena_bytes_total": sum(scanned.values()),
        "local_digest_s_median": round(statistics.median(times), 3),
        "findings": len(outcome.digest.findings),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ages", default="31,365")
    parser.add_argument("--per-day", type=int, default=100)
    args = parser.parse_args()
    results = [measure(int(a), args.per_day) for a in args.ages.split(",")]
    base = results[0]
    for r in results:
        r["athena_bytes_ratio"] = round(int(r["athena_bytes_total"]) / int(base["athena_bytes_total"]), 3)  # type: ignore[call-overload]
        r["local_time_ratio"] = round(
            float(r["local_digest_s_median"]) / float(base["local_digest_s_median"]), 3
        )  # type: ignore[arg-type]
        print(json.dumps(r))


if __name__ == "__main__":
    main()
