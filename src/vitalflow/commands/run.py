"""``vitalflow run PATH...``: every stage for each file, against the local lake.

Imports what a run needs (Great Expectations, pandas, DuckDB) when it runs, not when the CLI starts.
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from vitalflow.commands._common import console, progress_bar, settings_from
from vitalflow.exceptions import VitalflowError

if TYPE_CHECKING:
    from vitalflow.models import BatchOutcome
    from vitalflow.runtime import Runtime

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run CSV files through the whole pipeline",
        description="Validate, aggregate, analyse and report each CSV file, in the local lake.",
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="CSV files to process")
    parser.add_argument("--json", action="store_true", help="print one JSON object per file, nothing else")
    parser.add_argument(
        "--source",
        metavar="NAME",
        help="the feed these files come from (default: each file's name without extension and date)",
    )
    parser.add_argument(
        "--engine",
        choices=["local", "spark"],
        help="validate in one process (local, the default) or in Spark tasks on local[*] "
        "(spark: one byte range of VITALFLOW_SPLIT_BYTES per task; needs pyspark and Java 17)",
    )
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from vitalflow import sources
    from vitalflow.pipeline import lake_lock
    from vitalflow.runtime import local_runtime

    source = sources.given(args.source) if args.source is not None else None  # a bad name: before any work
    settings = settings_from(args)
    runtime = local_runtime(settings.with_(engine=args.engine) if args.engine else settings)
    assert runtime.home is not None
    outcomes = []
    with lake_lock(runtime.home):
        for path in args.paths:
            with progress_bar(not args.json, path.name) as progress:
                outcome = _run_one(runtime, path, progress, args.debug, source)
            outcomes.append(outcome)
            if args.json:
                print(json.dumps(outcome.model_dump(mode="json")), flush=True)
    if not args.json:
        show(outcomes, runtime.home)
    return 1 if any(o.status == "failed" for o in outcomes) else 0


def _run_one(
    runtime: Runtime,
    path: Path,
    progress: Callable[[int, int], None] | None,
    debug: bool,
    source: str | None = None,
) -> BatchOutcome:
    """One file's outcome, whatever happens: a file that breaks the pipeline must not stop the others."""
    from vitalflow.models import BatchOutcome
    from vitalflow.pipeline import run_file

    try:
        return run_file(runtime, path, progress, source=source)
    except VitalflowError as exc:
        return BatchOutcome(batch_id="", source=str(path), status="failed", error=str(exc))
    except Exception as exc:
        if debug:
            log.exception("internal error on %s", path.name)
        return BatchOutcome(
            batch_id="",
            source=str(path),
            status="failed",
            error=f"internal error ({type(exc).__name__}); nothing was committed for this file. "
            "Rerun with --debug for details, and please report it.",
        )


def show(outcomes: list[BatchOutcome], home: Path) -> None:
    from rich.markup import escape
    from rich.table import Table

    from vitalflow.notify.message import one_line

    out = console()
    table = Table(title=f"vitalflow run - lake {home}", title_justify="left")
    for name in ("file", "batch", "status", "rows in", "processed", "rejected"):
        table.add_column(name, justify="right" if name in ("rows in", "processed", "rejected") else "left")
    for o in outcomes:
        colour = {"processed": "green", "duplicate": "yellow", "failed": "red"}[o.status]
        table.add_row(
            escape(one_line(Path(o.source).name)),
            o.batch_id,
            f"[{colour}]{o.status}[/]",
            f"{o.rows_in:,}",
            f"{o.rows_processed:,}",
            f"{o.rows_rejected:,}",
        )
    out.print(table)
    for o in outcomes:
        if o.error:
            out.print(f"[red]{escape(one_line(Path(o.source).name))}: {escape(o.error)}[/]")
        elif o.rejected_by_reason:
            top = sorted(o.rejected_by_reason.items(), key=lambda kv: -kv[1])[:5]
            out.print(
                f"{escape(one_line(Path(o.source).name))}: top reject reasons: "
                + ", ".join(f"{k} {v}" for k, v in top)
            )
        if o.docs:
            out.print(f"  Data Docs: {escape(o.docs)}")
        if o.report:
            out.print(f"  Report:    {escape(o.report)}")
