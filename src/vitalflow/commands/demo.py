"""``vitalflow demo``: generate a sample batch, run it, and show where everything went."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vitalflow.commands._common import console, progress_bar, settings_from


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo", help="run the pipeline on a generated sample batch", description=__doc__
    )
    parser.add_argument("--rows", type=int, default=20_000, help="rows in the sample batch (default 20,000)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from vitalflow.generate import GeneratorOptions, default_start, generate
    from vitalflow.pipeline import lake_lock, run_file
    from vitalflow.runtime import local_runtime

    runtime = local_runtime(settings_from(args))
    home = runtime.home
    assert home is not None
    out = console()
    sample = home / "samples" / f"vitals-sample-{args.seed}.csv"
    generate(GeneratorOptions(rows=args.rows, seed=args.seed, start=default_start()), sample)
    out.print(f"Generated {args.rows:,} readings: {sample}")
    with lake_lock(home), progress_bar(True, sample.name) as progress:
        outcome = run_file(runtime, sample, progress)
    if outcome.status == "failed":
        out.print(f"[red]The sample batch failed: {outcome.error}[/]")
        return 1
    verb = "was already processed" if outcome.status == "duplicate" else "processed"
    out.print(
        f"\nBatch [bold]{outcome.batch_id}[/] {verb}: {outcome.rows_in:,} rows in, "
        f"{outcome.rows_processed:,} processed, {outcome.rows_rejected:,} rejected."
    )
    out.print("\n[bold]Where to look[/]")
    rows = [
        ("Processed Parquet", home / "processed"),
        ("Rejected rows (with reasons)", home / "rejected"),
        ("Batch manifest", home / "manifests" / f"{outcome.batch_id}.json"),
        ("Data Docs site", home / "docs" / "index.html"),
        ("This batch's Data Docs page", Path(outcome.docs) if outcome.docs else None),
        ("Email report", Path(outcome.report) if outcome.report else None),
    ]
    for label, path in rows:
        if path is not None:
            out.print(f"  {label:<30} {path}")
    command = (Path(sys.argv[0]).name == "vitalflow" and sys.argv[0]) or "vitalflow"
    out.print(
        f"\nTry: [bold]{command} query --home {home} "
        '"SELECT dt, count(*) AS readings FROM processed GROUP BY dt"[/]'
    )
    return 0
