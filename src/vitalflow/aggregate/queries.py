"""The SQL in ``sql/``: loaded once, parsed as Athena SQL, and translated for DuckDB up front.

Translating at load time means a statement the local engine cannot run identically fails when the
engine starts (``TranslationError``), not silently with a different answer in the middle of a report.
DDL under ``sql/ddl/`` is Athena-only (locally the tables are views over committed files), so it is
parsed but not translated.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, SqlglotError

from vitalflow.exceptions import QueryError, TranslationError

SQL_DIR = Path(__file__).resolve().parent.parent / "resources" / "sql"
ATHENA = "athena"
DUCKDB = "duckdb"


@dataclass(frozen=True)
class Query:
    name: str  # e.g. "report/batch_overview"
    path: Path
    athena: str  # the file's text, as Athena runs it
    duckdb: str | None  # the translation, None for Athena-only DDL
    params: frozenset[str]  # named parameters (":batch_id" -> "batch_id")


def translate(sql: str, *, source: str = "<query>") -> str:
    """Athena SQL -> DuckDB SQL; raise TranslationError for anything without an exact equivalent."""
    try:
        statements = sqlglot.transpile(sql, read=ATHENA, write=DUCKDB, unsupported_level=ErrorLevel.RAISE)
    except SqlglotError as exc:
        raise TranslationError(f"{source}: cannot run this Athena SQL on DuckDB: {_first(exc)}") from None
    if len(statements) != 1:
        raise QueryError(f"{source}: expected one SQL statement, found {len(statements)}")
    return statements[0]


def parameters(sql: str, *, source: str = "<query>") -> frozenset[str]:
    try:
        tree = sqlglot.parse_one(sql, read=ATHENA)
    except SqlglotError as exc:
        raise QueryError(f"{source}: not valid Athena SQL: {_first(exc)}") from None
    return frozenset(str(p.this) for p in tree.find_all(exp.Placeholder) if p.this)


def load(path: Path, root: Path = SQL_DIR) -> Query:
    text = path.read_text(encoding="utf-8")
    name = path.relative_to(root).with_suffix("").as_posix() if path.is_relative_to(root) else path.stem
    athena_only = path.parent.name == "ddl"
    params = parameters(text, source=str(path))
    return Query(
        name=name,
        path=path,
        athena=text,
        duckdb=None if athena_only else translate(text, source=str(path)),
        params=params,
    )


@lru_cache(maxsize=4)
def load_all(root: Path = SQL_DIR) -> dict[str, Query]:
    """Every statement under ``root``, by name; fails on the first that does not parse or translate."""
    return {q.name: q for q in (load(p, root) for p in sorted(root.rglob("*.sql")))}


def _first(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
