"""``vitalflow lake compact`` and ``vitalflow lake migrate``: upkeep of the local lake's tables."""

from __future__ import annotations

import argparse
from datetime import timedelta
from pathlib import Path

from vitalflow.commands._common import console, settings_from
from vitalflow.commands.docs import age

ACTIONS = {  # name: (help, description)
    "compact": (
        "pack each partition's small files into fewer, expire old snapshots",
        "Pack every partition's files under 128 MB into files of up to 128 MB (sorted by event time), "
        "then expire snapshots older than --retain and delete the files nothing references any more.",
    ),
    "migrate": (
        "convert a lake of the earlier layout to Iceberg tables, once",
        "Add every committed batch's files to the Iceberg tables, checking row counts.",
    ),
}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("lake", help="compact or migrate the lake's Iceberg tables")
    actions = parser.add_subparsers(dest="lake_command", metavar="ACTION", required=True)
    handlers = {"compact": main_compact, "migrate": main_migrate}
    for name, (summary, description) in ACTIONS.items():
        action = actions.add_parser(name, help=summary, description=description)
        action.set_defaults(func=handlers[name])
        action.add_argument("--home", type=Path, default=argparse.SUPPRESS, help="local lake folder")
        if name == "compact":
            action.add_argument(
                "--retain", type=age, default=timedelta(days=7), metavar="AGE", help="default 7d"
            )


def main_compact(args: argparse.Namespace) -> int:
    from vitalflow.compaction import compact
    from vitalflow.local.object_store import LocalObjectStore
    from vitalflow.pipeline import lake_lock
    from vitalflow.tables import LakeTables

    home = Path(settings_from(args).home).expanduser().resolve()
    with lake_lock(home):
        result = compact(LocalObjectStore(home), LakeTables.local(home), retention=args.retain)
    for name, before in result.files_before.items():
        console().print(
            f"{name}: {before} -> {result.files_after[name]} files "
            f"({result.partitions[name]} partition(s) rewritten)"
        )
    console().print(f"expired {result.snapshots_expired} snapshot(s)")
    return 0


def main_migrate(args: argparse.Namespace) -> int:
    from vitalflow.local.object_store import LocalObjectStore
    from vitalflow.migration import migrate
    from vitalflow.pipeline import lake_lock
    from vitalflow.tables import LakeTables

    home = Path(settings_from(args).home).expanduser().resolve()
    with lake_lock(home):
        result = migrate(LocalObjectStore(home), LakeTables.local(home))
    console().print(
        f"migrated {result.batches} batch(es); rows: {result.rows_before} expected, "
        f"{result.rows_after} in the tables"
    )
    return 0
