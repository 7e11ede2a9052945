"""The SQL in ``sql/``: loaded once, parsed as Athena SQL, and translated for DuckDB up front.

Translating at load time means a statement the local engine cannot run identically fails when the
engine starts (``TranslationError``), not silently with a different answer in the middle of a report.
"""

from __future__ import annotations

import re
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
    duckdb: str  # the translation
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
    params = parameters(text, source=str(path))
    return Query(
        name=name,
        path=path,
        athena=text,
        duckdb=translate(text, source=str(path)),
        params=params,
    )


@lru_cache(maxsize=4)
def load_all(root: Path = SQL_DIR) -> dict[str, Query]:
    """Every statement under ``root``, by name; fails on the first that does not parse or translate."""
    return {q.name: q for q in (load(p, root) for p in sorted(root.rglob("*.sql")))}


def view_queries(root: Path = SQL_DIR) -> list[Query]:
    """The views of ``sql/views`` in dependency order: a view that reads another comes after it."""
    views = {q.name.split("/", 1)[1]: q for q in load_all(root).values() if q.name.startswith("views/")}
    ordered: list[Query] = []

    def visit(name: str, path: tuple[str, ...] = ()) -> None:
        if name in path:
            raise QueryError(f"views read each other in a cycle: {' -> '.join((*path, name))}")
        if views[name] in ordered:
            return
        for other in views:
            if other != name and re.search(rf"\b{re.escape(other)}\b", _code(views[name].athena)):
                visit(other, (*path, name))
        ordered.append(views[name])

    for name in sorted(views):
        visit(name)
    return ordered


def _code(sql: str) -> str:
    """The SQL without its comments (a comment may name another view)."""
    return "\n".join(line.split("--", 1)[0] for line in sql.splitlines())


def _first(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
