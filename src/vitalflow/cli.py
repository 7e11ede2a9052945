"""The ``vitalflow`` command: a thin shell over the library; every command is a module in ``commands/``."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from pathlib import Path

from vitalflow import __version__
from vitalflow.exceptions import VitalflowError

COMMANDS = ("run", "generate", "demo", "query", "docs", "digest", "serve", "live-link", "erase", "lake")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vitalflow",
        description="Batch analytics for health-vitals CSVs: validate, aggregate, analyse, report.",
    )
    parser.add_argument("--version", action="version", version=f"vitalflow {__version__}")
    parser.add_argument(
        "--home", type=Path, default=None, help="local lake folder (default: $VITALFLOW_HOME or ./lake)"
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:  # each module imports what its command needs when it runs, not here
        importlib.import_module(f"vitalflow.commands.{name.replace('-', '_')}").register(subparsers)
    for sub in subparsers.choices.values():  # `vitalflow run --home DIR ...` works as well
        sub.add_argument("--home", type=Path, default=argparse.SUPPRESS, help="local lake folder")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args))
    except VitalflowError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "interrupted; rerun the same command to finish (completed batches are not redone)",
            file=sys.stderr,
        )
        return 130
    except Exception as exc:
        if args.debug:
            raise
        print(
            f"internal error: {type(exc).__name__}: {exc}\n"
            "(rerun with --debug for details, and please report it)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
