"""``vitalflow digest [--date D] [--json]``: the daily data-quality digest of the local lake.

Writes the digest email to the outbox once per date (a rerun prints the findings again and sends
nothing) and prints what needs attention. The deployed pipeline runs the same core on a schedule.
"""

from __future__ import annotations

import argparse
import json
from datetime import date, datetime, timedelta, timezone

from vitalflow.commands._common import settings_from


def day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date such as 2026-11-30, not {text!r}") from None


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "digest",
        help="the daily data-quality digest: each source's day against its own history",
        description="Judge each source's day (ingestion date, UTC) against its earlier days, write the "
        "digest email to the outbox (once per date) and print the findings.",
    )
    parser.add_argument(
        "--date", type=day, metavar="YYYY-MM-DD", help="the day to digest (default: yesterday, UTC)"
    )
    parser.add_argument("--json", action="store_true", help="print the digest as one JSON object")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from vitalflow import stages
    from vitalflow.notify.render import render_digest
    from vitalflow.pipeline import lake_lock
    from vitalflow.runtime import local_runtime

    runtime = local_runtime(settings_from(args))
    assert runtime.home is not None
    when = args.date or datetime.now(timezone.utc).date() - timedelta(days=1)
    with lake_lock(runtime.home):
        outcome = stages.digest(runtime, when)
    if args.json:
        document = {
            **outcome.digest.model_dump(mode="json"),
            "findings": [f.model_dump(mode="json") for f in outcome.digest.findings],
            "risk_level": outcome.digest.risk_level,
            "email": outcome.sent,
            "published": outcome.published,
        }
        print(json.dumps(document))
        return 0
    text, _ = render_digest(outcome.digest)
    print(text)
    print(f"email: {outcome.sent}" if outcome.sent else f"the digest of {when.isoformat()} was sent before")
    return 0
