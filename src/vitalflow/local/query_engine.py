"""DuckDB over the local lake, answering the same Athena SQL as the deployed pipeline.

The tables are those of the Glue catalog: ``processed_files`` and ``rejected_files`` (here over
exactly the files that committed manifests list, so a crashed batch's files never show, even
there), ``batch_commits`` (the committed batches) and ``batch_summaries`` (one row per analysed
batch). The views in ``sql/views/`` are then created from their translated text, as Athena
creates them: ``processed``, ``rejected`` and ``readings_flagged`` show committed batches only.

A report reads one batch and the summaries of recent days, so ``for_report`` gives it an engine
over just those files: what the report costs does not grow with the lake (no listing of it, no
reading of every manifest).

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
import json
import os
import shutil
import sqlite3
import tempfile
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from sqlglot import tokens
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import SqlglotError

from vitalflow import lake
from vitalflow.aggregate.queries import ATHENA, SQL_DIR, load_all, parameters, translate, view_queries
from vitalflow.commits import commit_columns
from vitalflow.contract import (
    COMMIT_SCHEMA,
    PARTITION_COLUMN,
    PROCESSED_SCHEMA,
    REJECTED_SCHEMA,
    SUMMARY_SCHEMA,
)
from vitalflow.exceptions import QueryError
from vitalflow.local.object_store import LocalObjectStore
from vitalflow.manifests import committed_manifests
from vitalflow.models import Manifest
from vitalflow.tables import CATALOG_FILE, NAMESPACE, LakeTables

ALLOWED = "only read statements can run here: SELECT (with WITH, VALUES, UNION ...) or DESCRIBE"
# How a read statement may start, in Athena SQL; DuckDB then confirms it is a SELECT.
_READ_STARTS = {
    tokens.TokenType.SELECT,
    tokens.TokenType.WITH,
    tokens.TokenType.VALUES,
    tokens.TokenType.L_PAREN,
    tokens.TokenType.DESCRIBE,
}


@dataclass(frozen=True)
class Tables:
    """The files (lake keys) behind each catalog table, and the committed batches (batch_commits)."""

    processed: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    summaries: list[str] = field(default_factory=list)
    commits: list[Manifest] = field(default_factory=list)  # the committed batches


class DuckDBEngine:
    def __init__(
        self,
        store: LocalObjectStore,
        *,
        sql_root: Path = SQL_DIR,
        threads: int | None = None,
        tables: Tables | None = None,
    ) -> None:
        """``tables``: a fixed set of files (``for_report``); by default the whole committed lake."""
        self.store = store
        self.sql_root = sql_root
        self.threads = threads
        self._fixed = tables
        # DuckDB may spill to disk; its temp folder is the one place it can still write, so it is private
        self._tmp = tempfile.mkdtemp(prefix="vitalflow-duckdb-")
        self._cleanup = weakref.finalize(self, shutil.rmtree, self._tmp, ignore_errors=True)
        self._con: duckdb.DuckDBPyConnection | None = None
        self._seen: tuple[int, int] | None = None
        self.tables = LakeTables.for_store(store)
        load_all(sql_root)  # a statement that does not parse or translate fails here, not mid-report

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The connection, made on first use: an engine only used ``for_report`` never lists the lake."""
        if self._con is None or self._manifests_version() != self._seen:  # a batch was committed since
            self.refresh()
        assert self._con is not None
        return self._con

    def for_report(self, manifest: Manifest, since: date) -> DuckDBEngine:
        """An engine over this batch's files and the summaries of ingestion days ``since`` to its own.

        The report's queries filter on the batch and on those days, so they answer exactly as over
        the whole lake; the engine just never lists or opens anything else.
        """
        until = manifest.started_at.astimezone(timezone.utc).date()
        tables = Tables(
            processed=list(manifest.processed_files),
            rejected=list(manifest.rejected_files),
            summaries=self._summary_keys(since, until),
            commits=[manifest],
        )
        return DuckDBEngine(self.store, sql_root=self.sql_root, threads=self.threads, tables=tables)

    def for_summaries(self, since: date, until: date) -> DuckDBEngine:
        """An engine over the summaries of ingestion days ``since`` to ``until`` and nothing else:
        the digest lists a few partitions, never the lake or its manifests."""
        tables = Tables(summaries=self._summary_keys(since, until))
        return DuckDBEngine(self.store, sql_root=self.sql_root, threads=self.threads, tables=tables)

    def _summary_keys(self, since: date, until: date) -> list[str]:
        """The summary objects of ingestion days ``since`` to ``until``, one listing per day."""
        days = [since + timedelta(days=n) for n in range((until - since).days + 1)]
        return [
            key
            for day in days
            for key in self.store.list_keys(f"{lake.SUMMARIES}dt={day.isoformat()}/")
            if key.endswith(".parquet")
        ]

    def refresh(self) -> None:
        """A new locked connection whose tables cover the committed lake, plus ``sql/views``."""
        self._seen = self._manifests_version()
        tables = self._fixed if self._fixed is not None else self._committed()
        paths = {
            name: [str(self.store.path(k)) for k in keys]
            for name, keys in (
                ("processed", tables.processed),
                ("rejected", tables.rejected),
                ("summaries", tables.summaries),
            )
        }
        con = duckdb.connect(":memory:")
        try:
            con.execute("SET TimeZone = 'UTC'")  # Athena's session time zone
            if self.threads:
                con.execute("SET threads = ?", [self.threads])
            con.execute("SET temp_directory = ?", [self._tmp])
            con.execute("SET allowed_paths = ?", [sorted(p for files in paths.values() for p in files)])
            columns = _columns(COMMIT_SCHEMA)
            con.execute(  # from Python values, not an Arrow table: building one would import pandas
                f"CREATE TABLE {lake.COMMITS_TABLE} AS SELECT "
                + ", ".join(
                    f"unnest(${i + 1}::{kind}[]) AS {name}" for i, (name, kind) in enumerate(columns)
                ),
                list(commit_columns(tables.commits).values()),
            )
            self._view(con, lake.FILES_TABLES["processed"], paths["processed"], PROCESSED_SCHEMA)
            self._view(con, lake.FILES_TABLES["rejected"], paths["rejected"], REJECTED_SCHEMA)
            self._view(con, lake.SUMMARIES_TABLE, paths["summaries"], SUMMARY_SCHEMA)
            for query in view_queries(self.sql_root):
                if query.duckdb:
                    con.execute(query.duckdb)
            con.execute("SET enable_external_access = false")
            con.execute("SET lock_configuration = true")
        except BaseException:
            con.close()
            raise
        if self._con is not None:
            self._con.close()
        self._con = con

    def _live_keys(self, table: str) -> list[str]:
        """The table's current files, kept beside the catalog under the table's metadata location.

        Loading a table imports pyiceberg and its catalog (about a second, most of ``vitalflow query``'s
        time); every commit changes the metadata location, so while it is the same the kept list is
        the table's files, read from one small file without pyiceberg.
        """
        location = _metadata_location(self.store.path(CATALOG_FILE), table)
        if location is None:
            return []  # no table yet: no batch committed
        kept_at = self.store.path(f"{FILES_CACHE}{table}.json")
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            kept = json.loads(kept_at.read_text(encoding="utf-8"))
            if kept["metadata_location"] == location:
                return [str(k) for k in kept["keys"]]
        keys = self.tables.live_keys(table)
        with contextlib.suppress(OSError):  # a lake folder we may not write: no cache, same answer
            kept_at.parent.mkdir(parents=True, exist_ok=True)
            partial = kept_at.with_name(f".{kept_at.name}.{os.getpid()}")
            partial.write_text(json.dumps({"metadata_location": location, "keys": keys}), encoding="utf-8")
            os.replace(partial, kept_at)
        return keys

    def _committed(self) -> Tables:
        """The Iceberg tables' current files, the batches valid manifests commit, and their summaries.

        As on Athena, the tables hold every batch committed to Iceberg, and the views keep those
        whose manifest (here) or marker (there) exists: a batch dead between its Iceberg commits
        and its manifest stays out of what users query. A batch with a data file gone from the
        folder is left out whole (and reported), rather than failing every query.
        """
        present = {*self.store.list_keys(lake.PROCESSED), *self.store.list_keys(lake.REJECTED)}
        commits = [m for m in committed_manifests(self.store, present=present) if m.status == "processed"]
        summaries = [k for k in self.store.list_keys(lake.SUMMARIES) if _is_partition_file(k)]
        processed, rejected = (
            [k for k in self._live_keys(lake.FILES_TABLES[t]) if k in present]
            for t in ("processed", "rejected")
        )
        return Tables(
            processed=processed,
            rejected=rejected,
            summaries=summaries,
            commits=commits,
        )

    @staticmethod
    def _view(con: duckdb.DuckDBPyConnection, name: str, files: list[str], schema: pa.Schema) -> None:
        """The Iceberg tables' files hold ``dt`` as a column (Iceberg reads no paths; a processed
        file holds a month of dates), so their folders are not read; summaries' ``dt`` is their
        folder's: read as Hive partitions, a filter on it skips whole files unopened."""
        columns = [*_columns(schema), (PARTITION_COLUMN, "VARCHAR")]
        typed = ", ".join(f"CAST(NULL AS {kind}) AS {column}" for column, kind in columns)
        parts = [f"SELECT {typed} WHERE false"]  # the table's columns, no rows
        # Summaries written before a column was added lack it: read those by name, as Athena does (which
        # opens each one's footer), the current ones as they are; every column is there either way.
        legacy = sorted(f for f in files if name == lake.SUMMARIES_TABLE and not lake.is_current_summary(f))
        current = sorted(set(files) - set(legacy))
        for group, by_name in ((current, "false"), (legacy, "true")):
            if group:
                # dt stays a string, as in the Glue table; filters on it still prune whole files.
                part = f"_{name}_{'by_name' if by_name == 'true' else 'files'}"
                hive = (
                    "hive_partitioning = true, hive_types = {'dt': 'VARCHAR'}"
                    if name == lake.SUMMARIES_TABLE
                    else "hive_partitioning = false"
                )
                con.sql(
                    f"SELECT * FROM read_parquet($files, {hive}, union_by_name = {by_name})",
                    params={"files": group},
                ).create_view(part, replace=True)
                parts.append(f"SELECT * FROM {part}")
        con.execute(f"CREATE OR REPLACE VIEW {name} AS " + " UNION ALL BY NAME ".join(parts))

    def _manifests_version(self) -> tuple[int, int]:
        """Changes when a manifest is written or a table gets a snapshot (the catalog file changes)."""
        if self._fixed is not None:
            return (0, 0)  # a fixed set of files never changes
        stamps = []
        for path in (self.store.path(lake.MANIFESTS), self.store.path(CATALOG_FILE)):
            stamps.append(path.stat().st_mtime_ns if path.exists() else 0)
        return (stamps[0], stamps[1])

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        """Run one Athena-dialect read statement with named parameters (``:name``)."""
        _require_read(sql)
        con = self.con
        wanted = parameters(sql)
        given = dict(params or {})
        missing = sorted(wanted - given.keys())
        if missing:
            raise QueryError("missing query parameter(s): " + ", ".join(missing))
        translated = translate(sql)
        _require_read_duckdb(translated)
        try:
            relation = con.sql(translated, params={k: given[k] for k in wanted})
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
        if self._con is not None:
            self._con.close()
        self._cleanup()


_DUCKDB_TYPES = {
    pa.string(): "VARCHAR",
    pa.int32(): "INTEGER",
    pa.int64(): "BIGINT",
    pa.float64(): "DOUBLE",
    pa.timestamp("us", tz="UTC"): "TIMESTAMPTZ",
    pa.list_(pa.string()): "VARCHAR[]",
}


def _columns(schema: pa.Schema) -> list[tuple[str, str]]:
    """A lake schema's columns with their DuckDB types."""
    return [(f.name, _DUCKDB_TYPES[f.type]) for f in schema]


FILES_CACHE = "_cache/table-files/"  # per table: its current files, under its metadata location


def _metadata_location(catalog: Path, table: str) -> str | None:
    """The table's current metadata file, from the SQL catalog's own table (the Iceberg JDBC layout)."""
    if not catalog.is_file():
        return None
    try:
        with contextlib.closing(sqlite3.connect(f"{catalog.as_uri()}?mode=ro", uri=True)) as con:
            row = con.execute(
                "SELECT metadata_location FROM iceberg_tables WHERE table_namespace = ? AND table_name = ?",
                (NAMESPACE, table),
            ).fetchone()
    except sqlite3.Error:
        return None
    return str(row[0]) if row and row[0] else None


def _is_partition_file(key: str) -> bool:
    """``<table>/dt=YYYY-MM-DD/<name>.parquet``: what a Hive-partitioned Glue table reads."""
    parts = key.split("/")
    return len(parts) == 3 and parts[1].startswith("dt=") and parts[2].endswith(".parquet")


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
