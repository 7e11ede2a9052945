"""Athena through awswrangler: the deployed QueryEngine.

The report queries read the views in ``sql/views``. Terraform creates the tables; the views are
created by the engine itself, once per process, before its first query (``CREATE OR REPLACE VIEW``:
idempotent, no data scanned). So a deployment needs no step by hand, Athena derives the views'
column types itself, and a changed view file takes effect with the next deployment of the code.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timezone
from typing import Any

import awswrangler as wr
import pyarrow as pa

from vitalflow.aggregate.queries import parameters, view_queries
from vitalflow.config import Settings
from vitalflow.exceptions import QueryError
from vitalflow.models import Manifest


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

    def for_report(self, manifest: Manifest, since: date) -> AthenaEngine:
        """The same engine: the report's own predicates (batch, dt) bound what Athena scans."""
        return self

    def for_summaries(self, since: date, until: date) -> AthenaEngine:
        """Itself: the digest's predicates on ``dt`` prune Athena's partitions."""
        return self

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


def _athena_value(value: Any) -> Any:
    """awswrangler renders literals itself; Athena timestamps are naive UTC, so drop the zone."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    return value
