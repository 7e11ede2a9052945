"""``vitalflow query``: Athena-dialect SQL over the local lake, ad hoc or from a stored file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from vitalflow.commands._common import console, settings_from
from vitalflow.exceptions import QueryError

DESCRIPTION = """\
Read-only SQL (Athena dialect) over the local lake's committed batches, as Athena answers it on
AWS. Views of committed batches: processed, rejected, readings_flagged (and anomaly_thresholds,
flagged_files, from sql/views); tables: processed_files, rejected_files (on Athena these also
read a crashed run's files), batch_commits, batch_summaries (one row per analysed batch). Only
read statements run: SELECT (with WITH, VALUES, UNION ...) and DESCRIBE; the query cannot read
or write files, only the tables and views."""

FORMATS_EPILOG = """\
output formats:
  table  a table for reading in the terminal (the default)
  json   one JSON object per row: integers and decimals as numbers, booleans as true/false,
         timestamps and dates as ISO-8601 strings, arrays and rows as nested JSON, NaN as null
  csv    RFC 4180 (CRLF line ends): a header, then one record per row, values as in json;
         text that a spreadsheet would run as a formula (starting with = + - @, a tab or a
         carriage return) gets a leading apostrophe, as in the email report, so it opens as text"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "query",
        help="run read-only Athena SQL against the local lake",
        description=DESCRIPTION,
        epilog=FORMATS_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
    parser.add_argument(
        "--format",
        choices=("table", "csv", "json"),
        default="table",
        help="output format (see below); csv guards spreadsheet formulas",
    )
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from vitalflow.commands.output import print_table, write_csv, write_json_lines
    from vitalflow.local.object_store import LocalObjectStore
    from vitalflow.local.query_engine import DuckDBEngine

    if bool(args.sql) == bool(args.file):
        raise QueryError("give either a SQL statement or --file, not both")
    sql = _read(args.file) if args.file else args.sql
    params = _params(args.param)
    home = Path(settings_from(args).home).expanduser().resolve()
    if not home.is_dir():  # a query reads; it does not create a lake
        raise QueryError(f"no lake at {home}: run `vitalflow run` on a file first, or pass --home")
    engine = DuckDBEngine(LocalObjectStore(home))
    try:
        result = engine.query(sql, params)
    finally:
        engine.close()
    if args.format == "json":
        write_json_lines(result, sys.stdout)
    elif args.format == "csv":
        write_csv(result, sys.stdout)
    else:
        print_table(result, console())
    return 0


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise QueryError(f"cannot read {path}: {exc.strerror if isinstance(exc, OSError) else exc}") from None


def _params(items: list[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise QueryError(f"--param takes NAME=VALUE, not {item!r}")
        params[name.strip()] = int(value) if value.isdigit() else value
    return params
