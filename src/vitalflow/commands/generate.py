"""``vitalflow generate``: a realistic synthetic batch, deterministic per seed."""

from __future__ import annotations

import argparse
from pathlib import Path

from vitalflow.commands._common import console


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "generate",
        help="write a synthetic vitals CSV",
        description="Several users, a daily rhythm, some abnormal episodes and a few invalid rows.",
    )
    parser.add_argument("--rows", type=int, required=True, help="number of data rows")
    parser.add_argument("--out", type=Path, required=True, help="CSV file to write")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument("--users", type=int, default=None, help="number of users (default: rows / 2000)")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from vitalflow.generate import GeneratorOptions, default_start, generate

    if args.rows < 1:
        console().print("[red]--rows must be at least 1[/]")
        return 2
    options = GeneratorOptions(rows=args.rows, seed=args.seed, users=args.users, start=default_start())
    path = generate(options, args.out)
    console().print(f"wrote {args.rows:,} rows to {path}")
    return 0
