"""Athena through awswrangler: the deployed QueryEngine, and the catalog DDL from ``sql/ddl``.

The report queries read the views in ``sql/views``. Terraform creates the tables; the views are
created by the engine itself, once per process, before its first query (``CREATE OR REPLACE VIEW``:
idempotent, no data scanned). So a deployment needs no step by hand, Athena derives the views'
column types itself, and a changed view file takes effect with the next deployment of the code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import awswrangler as wr
import pyarrow as pa

from vitalflow.aggregate.queries import Query, load_all, parameters
from vitalflow.config import Settings
from vitalflow.exceptions import QueryError


class AthenaEngine:
    """Runs the same Athena SQL the local engine translates; parameters are bound by awswrangler."""

    def __init__(self, settings: Settings, boto3_session: Any = None) -> None:
        settings.require("glue_database", "athena_workgroup")
        self.settings = settings
        self.session = boto3_session
        self._views_ready = False

    def ensure_views(self) -> list[str]:
        """Create or replace the views the report reads; returns the query execution ids."""
        ids = []
        for query in view_queries():
            ids.append(
                wr.athena.start_query_execution(
                    query.athena,
                    database=self.settings.glue_database,
                    workgroup=self.settings.athena_workgroup,
                    s3_output=self.settings.athena_output or None,
                    wait=True,
                    boto3_session=self.session,
                )["QueryExecutionId"]
            )
        self._views_ready = True
        return ids

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        if not self._views_ready:
            self.ensure_views()
        wanted = parameters(sql)
        given = dict(params or {})
        missing = sorted(wanted - given.keys())
        if missing:
            raise QueryError("missing query parameter(s): " + ", ".join(missing))
        frame = wr.athena.read_sql_query(
            sql,
            database=self.settings.glue_database,
            workgroup=self.settings.athena_workgroup,
            s3_output=self.settings.athena_output or None,
            params={k: _athena_value(given[k]) for k in wanted},
            paramstyle="named",
            ctas_approach=False,
            boto3_session=self.session,
        )
        return pa.Table.from_pandas(frame, preserve_index=False)


def view_queries() -> list[Query]:
    """The views in dependency order: a view that reads another comes after it."""
    views = {q.name.split("/", 1)[1]: q for q in load_all().values() if q.name.startswith("views/")}
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


def create_catalog(settings: Settings, boto3_session: Any = None) -> list[str]:
    """Create the tables (partition projection) and views; returns the query execution ids."""
    location = f"s3://{settings.data_bucket}/"
    ids = []
    for query in load_all().values():
        if not (query.name.startswith("ddl/") or query.name.startswith("views/")):
            continue
        table = query.name.split("/", 1)[1]
        params = {"location": f"{location}{table}/", "location_template": f"{location}{table}/dt=${{dt}}/"}
        ids.append(
            wr.athena.start_query_execution(
                query.athena,
                database=settings.glue_database,
                workgroup=settings.athena_workgroup,
                params={k: params[k] for k in query.params},
                paramstyle="named",
                wait=True,
                boto3_session=boto3_session,
            )["QueryExecutionId"]
        )
    return ids


def _athena_value(value: Any) -> Any:
    """awswrangler renders literals itself; Athena timestamps are naive UTC, so drop the zone."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    return value
