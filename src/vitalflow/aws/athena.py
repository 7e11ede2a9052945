"""Athena through awswrangler: the deployed QueryEngine, and the catalog DDL from ``sql/ddl``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import awswrangler as wr
import pyarrow as pa

from vitalflow.aggregate.queries import load_all, parameters
from vitalflow.config import Settings
from vitalflow.exceptions import QueryError


class AthenaEngine:
    """Runs the same Athena SQL the local engine translates; parameters are bound by awswrangler."""

    def __init__(self, settings: Settings, boto3_session: Any = None) -> None:
        settings.require("glue_database", "athena_workgroup")
        self.settings = settings
        self.session = boto3_session

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
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
