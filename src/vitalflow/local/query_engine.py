"""DuckDB over the local lake, answering the same Athena SQL as the deployed pipeline.

``processed`` and ``rejected`` are views over exactly the files that committed manifests list, so
a batch becomes visible to queries all at once, and a crashed batch's files never do. The views
in ``sql/views/`` are then created from their translated text, as Athena creates them.

The engine plays Athena's role for ``vitalflow query``, where the SQL comes from a user, so it is
read-only in two independent ways. Only read statements are accepted (checked on the Athena text
and again on DuckDB's own parse of the translation). And once the views exist, the connection's
file access is cut down to the committed files (``allowed_paths``), external access is disabled
and the configuration is locked, so not even a statement that slipped past the check could read
``/etc/passwd``, glob an uncommitted batch's files, or write a file anywhere. A newly committed
batch therefore needs a new connection: ``refresh`` builds one.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from sqlglot import tokens
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import SqlglotError

from vitalflow import lake
from vitalflow.aggregate.queries import ATHENA, SQL_DIR, load_all, parameters, translate
from vitalflow.contract import PARTITION_COLUMN, PROCESSED_SCHEMA, REJECTED_SCHEMA
from vitalflow.exceptions import QueryError
from vitalflow.local.object_store import LocalObjectStore
from vitalflow.manifests import committed_manifests

ALLOWED = "only read statements can run here: SELECT (with WITH, VALUES, UNION ...) or DESCRIBE"
# How a read statement may start, in Athena SQL; DuckDB then confirms it is a SELECT.
_READ_STARTS = {
    tokens.TokenType.SELECT,
    tokens.TokenType.WITH,
    tokens.TokenType.VALUES,
    tokens.TokenType.L_PAREN,
    tokens.TokenType.DESCRIBE,
}


class DuckDBEngine:
    def __init__(
        self, store: LocalObjectStore, *, sql_root: Path = SQL_DIR, threads: int | None = None
    ) -> None:
        self.store = store
        self.sql_root = sql_root
        self.threads = threads
        # DuckDB may spill to disk; its temp folder is the one place it can still write, so it is private
        self._tmp = tempfile.mkdtemp(prefix="vitalflow-duckdb-")
        self._cleanup = weakref.finalize(self, shutil.rmtree, self._tmp, ignore_errors=True)
        self.con: duckdb.DuckDBPyConnection | None = None
        self._keep: list[Any] = []  # arrow tables backing empty views must outlive the views
        self._seen: int | None = None
        self.refresh()

    def refresh(self) -> None:
        """A new locked connection whose table views cover the committed manifests, plus ``sql/views``."""
        self._seen = self._manifests_version()
        processed, rejected = self._committed_files()
        con = duckdb.connect(":memory:")
        try:
            con.execute("SET TimeZone = 'UTC'")  # Athena's session time zone
            if self.threads:
                con.execute("SET threads = ?", [self.threads])
            con.execute("SET temp_directory = ?", [self._tmp])
            con.execute("SET allowed_paths = ?", [sorted(processed + rejected)])
            keep = [
                self._view(con, "processed", processed, PROCESSED_SCHEMA),
                self._view(con, "rejected", rejected, REJECTED_SCHEMA),
            ]
            for query in load_all(self.sql_root).values():
                if query.name.startswith("views/") and query.duckdb:
                    con.execute(query.duckdb)
            con.execute("SET enable_external_access = false")
            con.execute("SET lock_configuration = true")
        except BaseException:
            con.close()
            raise
        if self.con is not None:
            self.con.close()
        self.con = con
        self._keep = [table for table in keep if table is not None]

    def _committed_files(self) -> tuple[list[str], list[str]]:
        """Local paths of the files that valid manifests of processed batches list."""
        processed: list[str] = []
        rejected: list[str] = []
        present = {*self.store.list_keys(lake.PROCESSED), *self.store.list_keys(lake.REJECTED)}
        for manifest in committed_manifests(self.store, present=present):
            if manifest.status == "processed":
                processed += [str(self.store.path(k)) for k in manifest.processed_files]
                rejected += [str(self.store.path(k)) for k in manifest.rejected_files]
        return processed, rejected

    @staticmethod
    def _view(con: duckdb.DuckDBPyConnection, name: str, files: list[str], schema: pa.Schema) -> Any:
        empty = None
        if files:
            # dt stays a string, as in the Glue table; filters on it still prune whole files
            relation = con.sql(
                "SELECT * FROM read_parquet("
                "$files, hive_partitioning = true, hive_types = {'dt': 'VARCHAR'})",
                params={"files": sorted(files)},
            )
        else:
            empty = schema.append(pa.field(PARTITION_COLUMN, pa.string())).empty_table()
            relation = con.from_arrow(empty)
        relation.create_view(name, replace=True)
        return empty

    def _manifests_version(self) -> int:
        folder = self.store.path(lake.MANIFESTS)
        return folder.stat().st_mtime_ns if folder.is_dir() else 0

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        """Run one Athena-dialect read statement with named parameters (``:name``)."""
        _require_read(sql)
        if self._manifests_version() != self._seen:  # a batch was committed since the views were made
            self.refresh()
        assert self.con is not None
        wanted = parameters(sql)
        given = dict(params or {})
        missing = sorted(wanted - given.keys())
        if missing:
            raise QueryError("missing query parameter(s): " + ", ".join(missing))
        translated = translate(sql)
        _require_read_duckdb(translated)
        try:
            relation = self.con.sql(translated, params={k: given[k] for k in wanted})
            if relation is None:  # unreachable for a SELECT; never run anything else
                raise QueryError(ALLOWED)
            return _athena_integers(relation.to_arrow_table(), [str(t) for t in relation.types])
        except duckdb.PermissionException as exc:
            raise QueryError(
                "query failed: queries read the lake's tables and views, not files "
                f"({_detail(exc).split(' - ')[0]})"
            ) from None
        except duckdb.Error as exc:
            raise QueryError(f"query failed: {_detail(exc)}") from None

    def run(self, name: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        """A stored query by name, e.g. ``report/batch_overview``."""
        queries = load_all(self.sql_root)
        if name not in queries:
            raise QueryError(f"no stored query {name!r}; known: {', '.join(sorted(queries))}")
        return self.query(queries[name].athena, params)

    def close(self) -> None:
        if self.con is not None:
            self.con.close()
        self._cleanup()


def _require_read(sql: str) -> None:
    """Refuse anything but a read statement before parsing it (the parser would log noise about it)."""
    try:
        found = Dialect.get_or_raise(ATHENA).tokenize(sql)
    except SqlglotError:
        return  # not SQL at all: parsing reports it with its position
    first = next((token for token in found if token.text), None)  # Athena marks Hive DDL with an empty token
    if first is None:
        raise QueryError(f"no SQL statement given; {ALLOWED}")
    if first.token_type not in _READ_STARTS:
        raise QueryError(f"{ALLOWED}, not {first.text.upper()}")


def _require_read_duckdb(sql: str) -> None:
    """The authoritative check: DuckDB's own classification of exactly what it would run."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryError(f"query failed: {_detail(exc)}") from None
    if len(statements) != 1:
        raise QueryError(f"expected one SQL statement, found {len(statements)}")
    kind = statements[0].type
    if kind.name != "SELECT":  # by name: the enum's stubs differ between DuckDB versions
        raise QueryError(f"{ALLOWED}, not {kind.name}")


def _athena_integers(table: pa.Table, types: list[str]) -> pa.Table:
    """DuckDB's sum and count_if of integers are HUGEINT (a decimal in Arrow); Athena's are BIGINT."""
    for i, kind in enumerate(types):
        if kind in ("HUGEINT", "UHUGEINT") and i < table.num_columns:
            with contextlib.suppress(pa.ArrowInvalid):  # beyond BIGINT: keep the exact decimal
                table = table.set_column(i, table.field(i).name, table.column(i).cast(pa.int64()))
    return table


def _detail(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
