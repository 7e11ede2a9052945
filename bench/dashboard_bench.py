"""The live dashboard: /api/batches with 10,000 batches in the lake, and event-to-screen latency.

``api``: a lake whose event log holds ``--batches`` batches (each validating, validated, analysed,
emailed; 40 sources over 60 days), served by a real ``vitalflow serve`` process. The baseline is
the cheapest endpoint of the same server (``/dashboard-config.json``), timed alternately with
``/api/batches``, ``/api/batches?source=...``, ``/api/trends``; medians over ``--window`` requests.
Also the server's start (the log folded once) and its peak RSS.

``latency``: Debian's chromium (Playwright, executable_path) opens the dashboard of a fresh lake,
then ``vitalflow run`` in another process runs ``--runs`` small files; for every event the page
applied, screen time (the page's clock when the row was redrawn) minus the event's time in the log.
The median over the 20 batches' ``BatchEmailed`` (and over all their events) is the figure.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from browser import FLAGS, find_chromium  # noqa: E402
from conftest import csv_text, row  # noqa: E402
from dashboard_server import serving  # noqa: E402


def write_history(home: Path, batches: int) -> None:
    """The event log of ``batches`` batches, as the pipeline writes it (one JSON line per event)."""
    start = datetime.now(timezone.utc) - timedelta(days=60)
    path = home / "events" / "events.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for n in range(batches):
            when = start + timedelta(minutes=n * 60 * 24 * 60 / batches)
            name = f"clinic-{n % 40:02d}"
            key = f"raw/{when:%Y-%m-%d}/{name}-{when:%Y-%m-%d}-{n}.csv"
            source = {"key": key, "uri": "", "name": name}
            summary = {"batch_id": f"{n:016x}", "source": source, "rows_in": 1000, "rows_processed": 990}
            summary["rows_rejected"] = 10
            for kind, extra in (
                ("BatchValidating", {"source": source}),
                ("BatchValidated", summary),
                ("BatchAnalyzed", {**summary, "risk_level": "low", "anomaly_readings": n % 17}),
                ("BatchEmailed", summary),
            ):
                line = {"time": when.isoformat(), "detail-type": kind, "detail": extra}
                fh.write(json.dumps(line) + "\n")


def timed(url: str) -> float:
    began = time.perf_counter()
    with urllib.request.urlopen(url, timeout=30) as response:
        response.read()
    return time.perf_counter() - began


def peak_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def bench_api(batches: int, window: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "lake"
        write_history(home, batches)
        began = time.perf_counter()
        with serving(home) as server:
            started = time.perf_counter() - began
            paths = {
                "baseline /dashboard-config.json": "/dashboard-config.json",
                "/api/batches": "/api/batches",
                "/api/batches?source=clinic-07": "/api/batches?source=clinic-07",
                "/api/batches?since=<30 days ago>": "/api/batches?since="
                + (datetime.now(timezone.utc) - timedelta(days=30)).date().isoformat(),
                "/api/trends": "/api/trends",
            }
            times: dict[str, list[float]] = {name: [] for name in paths}
            for _ in range(window):
                for name, path in paths.items():
                    times[name].append(timed(server.base + path))
            rss = peak_rss_kb(server.pid)
        medians = {name: statistics.median(t) * 1000 for name, t in times.items()}
        base = medians["baseline /dashboard-config.json"]
        return {
            "batches": batches,
            "server_start_s": round(started, 2),
            "server_peak_rss_mb": round(rss / 1024, 1),
            "median_ms": {k: round(v, 2) for k, v in medians.items()},
            "ratio_to_baseline": {k: round(v / base, 1) for k, v in medians.items()},
        }


def bench_latency(runs: int) -> dict:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        home, files = Path(tmp) / "lake", []
        for n in range(runs):
            path = Path(tmp) / f"clinic-{n % 3}-2026-11-{n + 1:02d}.csv"
            path.write_text(csv_text([row(user_id=f"u-{n}-{i}") for i in range(50)]))
            files.append(path)
        with serving(home) as server, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=find_chromium(), args=FLAGS)
            page = browser.new_page()
            page.goto(server.base + "/")
            page.wait_for_selector('#conn[data-state="open"]', timeout=15_000)
            command = [sys.executable, "-m", "vitalflow.cli", "--home", str(home), "run", "--json"]
            subprocess.run([*command, *map(str, files)], check=True, capture_output=True, timeout=1800)
            page.wait_for_function(
                f"window.vitalflowApplied.filter(m => m.type === 'BatchEmailed').length >= {runs}",
                timeout=30_000,
            )
            applied = page.evaluate("window.vitalflowApplied")
            browser.close()
        logged = [json.loads(line) for line in (home / "events" / "events.jsonl").read_text().splitlines()]
    return latencies(logged, applied)


def latencies(logged: list[dict], applied: list[dict]) -> dict:
    """Screen time minus event time, matched in order per (row, event type)."""
    screen: dict[tuple[str, str], list[int]] = {}
    for m in applied:
        screen.setdefault((m["batch_id"] or m["id"], m["type"]), []).append(m["at"])
    found: dict[str, list[float]] = {}
    for event in logged:
        detail = event["detail"]
        ident = detail.get("batch_id") or "key:" + detail["source"]["key"]
        shown = screen.get((ident, event["detail-type"]))
        if not shown:
            continue
        at = shown.pop(0)
        sent = datetime.fromisoformat(event["time"]).timestamp() * 1000
        found.setdefault(event["detail-type"], []).append(at - sent)
    every = [x for xs in found.values() for x in xs]
    return {
        "batches": len(found.get("BatchEmailed", [])),
        "events_matched": len(every),
        "median_ms_BatchEmailed": round(statistics.median(found["BatchEmailed"]), 1),
        "median_ms_all_events": round(statistics.median(every), 1),
        "max_ms_all_events": round(max(every), 1),
        "median_ms_by_type": {k: round(statistics.median(v), 1) for k, v in sorted(found.items())},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--batches", type=int, default=10_000)
    parser.add_argument("--window", type=int, default=30)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--only", choices=["api", "latency"])
    args = parser.parse_args()
    result = {}
    if args.only in (None, "api"):
        result["api"] = bench_api(args.batches, args.window)
    if args.only in (None, "latency"):
        result["latency"] = bench_latency(args.runs)
    print(json.dumps(result, indent=2))
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "dashboard_bench.json").write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
