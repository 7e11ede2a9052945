"""``vitalflow erase --user-id ID [--dry-run]``: erase one person's data from the local lake.

The same core (``vitalflow.erasure``) serves an operator on AWS; what is removed and what is kept
is described there and in the README.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from vitalflow.commands._common import console, settings_from


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "erase",
        help="erase a user's readings, rejected rows and raw lines (right to erasure)",
        description="Remove every row and raw upload line of one user, expire the table snapshots that "
        "still hold them, and write an audit entry that names the user only by a hash.",
    )
    parser.add_argument("--user-id", required=True, help="the user_id whose data goes")
    parser.add_argument("--dry-run", action="store_true", help="only say what would be removed")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from vitalflow.erasure import erase_user
    from vitalflow.local.object_store import LocalObjectStore
    from vitalflow.pipeline import lake_lock
    from vitalflow.tables import LakeTables

    home = Path(settings_from(args).home).expanduser().resolve()
    with lake_lock(home):
        result = erase_user(
            LocalObjectStore(home), LakeTables.local(home), args.user_id, dry_run=args.dry_run
        )
    verb = "would remove" if result.dry_run else "removed"
    rows = ", ".join(f"{n} row(s) from {table}" for table, n in result.rows.items())
    console().print(
        f"{verb} {rows}; {len(result.raw_files)} raw upload(s) "
        + ("to rewrite" if result.dry_run else "rewritten")
    )
    if not result.dry_run:
        console().print(f"expired {result.snapshots_expired} snapshot(s); audit entry: {result.audit}")
    return 0
