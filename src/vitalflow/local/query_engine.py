"""DuckDB over the local lake, answering the same Athena SQL as the deployed pipeline.

``processed`` and ``rejected`` are views over exactly the files that committed manifests list, so
a batch becomes visible to queries all at once, and a crashed batch's files never do. The views
in ``sql/views/`` are then created from their translated text, as Athena creates them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from vitalflow import lake
from vitalflow.aggregate.queries import SQL_DIR, load_all, parameters, translate
from vitalflow.contract import PARTITION_COLUMN, PROCESSED_SCHEMA, REJECTED_SCHEMA
from vitalflow.exceptions import QueryError
from vitalflow.local.object_store import LocalObjectStore
from vitalflow.models import Manifest


class DuckDBEngine:
    def __init__(
        self, store: LocalObjectStore, *, sql_root: Path = SQL_DIR, threads: int | None = None
    ) -> None:
        self.store = store
        self.sql_root = sql_root
        self.con = duckdb.connect(":memory:")
        self.con.execute("SET TimeZone = 'UTC'")  # Athena's session time zone
        if threads:
            self.con.execute("SET threads = ?", [threads])
        self._keep: list[Any] = []  # arrow tables backing empty views must outlive the views
        self._seen: int | None = None
        self.refresh()

    def refresh(self) -> None:
        """(Re)build the table views from the committed manifests, then the views of ``sql/views``."""
        self._seen = self._manifests_version()
        processed: list[str] = []
        rejected: list[str] = []
        for key in self.store.list_keys(lake.MANIFESTS):
            if not key.endswith(".json"):
                continue
            manifest = Manifest.model_validate_json(self.store.get_bytes(key))
            if manifest.status == "processed":
                processed += [str(self.store.path(k)) for k in manifest.processed_files]
                rejected += [str(self.store.path(k)) for k in manifest.rejected_files]
        self._view("processed", processed, PROCESSED_SCHEMA)
        self._view("rejected", rejected, REJECTED_SCHEMA)
        for query in load_all(self.sql_root).values():
            if query.name.startswith("views/") and query.duckdb:
                self.con.execute(query.duckdb)

    def _view(self, name: str, files: list[str], schema: pa.Schema) -> None:
        if files:
            # dt stays a string, as in the Glue table; filters on it still prune whole files
            relation = self.con.sql(
                "SELECT * FROM read_parquet("
                "$files, hive_partitioning = true, hive_types = {'dt': 'VARCHAR'})",
                params={"files": sorted(files)},
            )
        else:
            empty = schema.append(pa.field(PARTITION_COLUMN, pa.string())).empty_table()
            self._keep.append(empty)
            relation = self.con.from_arrow(empty)
        relation.create_view(name, replace=True)

    def _manifests_version(self) -> int:
        folder = self.store.path(lake.MANIFESTS)
        return folder.stat().st_mtime_ns if folder.is_dir() else 0

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        """Run one Athena-dialect statement with named parameters (``:name``)."""
        if self._manifests_version() != self._seen:  # a batch was committed since the views were made
            self.refresh()
        wanted = parameters(sql)
        given = dict(params or {})
        missing = sorted(wanted - given.keys())
        if missing:
            raise QueryError("missing query parameter(s): " + ", ".join(missing))
        try:
            relation = self.con.sql(translate(sql), params={k: given[k] for k in wanted})
        except duckdb.Error as exc:
            raise QueryError(f"query failed: {str(exc).splitlines()[0]}") from None
        if relation is None:  # a statement without a result set
            return pa.table({})
        try:
            return relation.to_arrow_table()
        except duckdb.Error as exc:
            raise QueryError(f"query failed: {str(exc).splitlines()[0]}") from None

    def run(self, name: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        """A stored query by name, e.g. ``report/batch_overview``."""
        queries = load_all(self.sql_root)
        if name not in queries:
            raise QueryError(f"no stored query {name!r}; known: {', '.join(sorted(queries))}")
        return self.query(queries[name].athena, params)

    def close(self) -> None:
        self.con.close()
