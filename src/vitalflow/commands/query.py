"""``vitalflow query``: Athena-dialect SQL over the local lake, ad hoc or from a stored file."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
from rich.table import Table

from vitalflow.commands._common import console, settings_from
from vitalflow.exceptions import QueryError
from vitalflow.local.query_engine import DuckDBEngine
from vitalflow.runtime import local_runtime


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "query",
        help="run Athena SQL against the local lake",
        description="Tables: processed, rejected, and the views in sql/views (readings_flagged).",
    )
    parser.add_argument("sql", nargs="?", help="the SQL statement (Athena dialect)")
    parser.add_argument("--file", type=Path, help="run the statement in this .sql file instead")
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a named parameter (:NAME); repeatable",
    )
    parser.add_argument("--format", choices=("table", "csv", "json"), default="table", help="output format")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    if bool(args.sql) == bool(args.file):
        raise QueryError("give either a SQL statement or --file, not both")
    sql = args.file.read_text(encoding="utf-8") if args.file else args.sql
    params = _params(args.param)
    runtime = local_runtime(settings_from(args))
    engine = DuckDBEngine(runtime.store)  # type: ignore[arg-type]
    try:
        result = engine.query(sql, params)
    finally:
        engine.close()
    _print(result, args.format)
    return 0


def _params(items: list[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise QueryError(f"--param takes NAME=VALUE, not {item!r}")
        params[name.strip()] = int(value) if value.isdigit() else value
    return params


def _print(result: pa.Table, fmt: str) -> None:
    rows = result.to_pylist()
    if fmt == "json":
        for row in rows:
            print(json.dumps(row, default=str))
    elif fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(result.column_names)
        writer.writerows([[_text(row[c]) for c in result.column_names] for row in rows])
    else:
        table = Table(*result.column_names)
        for row in rows:
            table.add_row(*(_text(row[c]) for c in result.column_names))
        console().print(table)
        console().print(f"{len(rows)} row(s)")


def _text(value: Any) -> str:
    return "" if value is None else str(value)
