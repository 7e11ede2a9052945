"""``vitalflow docs``: housekeeping of the Data Docs site in the local lake.

On AWS, S3 lifecycle rules expire old validation pages and results; locally nothing expires by
itself, so ``vitalflow docs prune --older-than 90d`` is the same retention as a command (run it
from cron, or by hand). ``vitalflow docs rebuild`` rewrites the month pages and the index from the
index entries, e.g. after a job died between writing its entry and its index.
"""

from __future__ import annotations

import argparse
import re
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from vitalflow.commands._common import console, settings_from

if TYPE_CHECKING:
    from vitalflow.local.object_store import LocalObjectStore

_UNITS = {"d": "days", "w": "weeks", "h": "hours"}


def age(text: str) -> timedelta:
    """``90d``, ``12w`` or ``36h``: how old a batch must be to go."""
    match = re.fullmatch(r"\s*(\d+)\s*([dwh])\s*", text.lower())
    if not match or int(match.group(1)) < 1:
        raise argparse.ArgumentTypeError(f"expected an age such as 90d, 12w or 36h, not {text!r}")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "docs",
        help="prune or rebuild the Data Docs site",
        description="Housekeeping of the Data Docs site under <home>/docs.",
    )
    actions = parser.add_subparsers(dest="docs_command", metavar="ACTION", required=True)
    prune = actions.add_parser(
        "prune",
        help="delete validation pages and results older than an age",
        description="Delete the Data Docs pages, index entries and Great Expectations results of "
        "batches validated longer ago than --older-than, then rewrite the index.",
    )
    prune.add_argument("--older-than", type=age, required=True, metavar="AGE", help="e.g. 90d, 12w, 36h")
    prune.add_argument("--dry-run", action="store_true", help="only say what would be deleted")
    prune.set_defaults(func=main_prune)
    rebuild = actions.add_parser("rebuild", help="rewrite the day pages and the index from the entries")
    rebuild.set_defaults(func=main_rebuild)
    for action in (prune, rebuild):  # `vitalflow docs prune --home DIR` as with the other commands
        action.add_argument("--home", type=Path, default=argparse.SUPPRESS, help="local lake folder")


def _lake(args: argparse.Namespace) -> LocalObjectStore:
    """The local lake, which also holds the Data Docs site (no runtime: it would start DuckDB)."""
    from vitalflow.local.object_store import LocalObjectStore

    return LocalObjectStore(Path(settings_from(args).home).expanduser().resolve())


def main_prune(args: argparse.Namespace) -> int:
    from vitalflow.datadocs.prune import prune_docs

    store = _lake(args)
    report = prune_docs(store, store, older_than=args.older_than, dry_run=args.dry_run)
    verb = "would delete" if args.dry_run else "deleted"
    console().print(
        f"{verb} {len(report.batches)} batches validated before {report.cutoff:%Y-%m-%d %H:%M} UTC "
        f"({report.objects} objects)"
    )
    return 0


def main_rebuild(args: argparse.Namespace) -> int:
    from vitalflow.datadocs.site import rebuild_site

    days, shown = rebuild_site(_lake(args))
    console().print(f"rebuilt the pages of {days} days; the index lists {shown} batches")
    return 0
