"""A fake Athena endpoint on 127.0.0.1 for a function running in another interpreter.

moto records Athena calls but runs no SQL, and a packaged Lambda cannot be handed a DuckDB engine.
So this server speaks Athena's JSON protocol (the real awswrangler and boto3 call it through
``AWS_ENDPOINT_URL_ATHENA``): StartQueryExecution runs the statement on the local engine (the same
``sql/`` translated to DuckDB, over a fresh copy of the lake the test's S3 holds) and writes the
result where Athena would, as Athena's CSV, into that S3; DDL (the views) succeeds without running,
since the local engine creates the views itself.
"""

from __future__ import annotations

import io
import json
import threading
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pyarrow as pa
import sqlglot

ATHENA_TYPES = [
    (pa.types.is_boolean, "boolean"),
    (pa.types.is_int8, "tinyint"),
    (pa.types.is_int16, "smallint"),
    (pa.types.is_int32, "integer"),
    (pa.types.is_integer, "bigint"),
    (pa.types.is_floating, "double"),
    (pa.types.is_timestamp, "timestamp"),
    (pa.types.is_date, "date"),
    (pa.types.is_decimal, "decimal"),
]


def athena_type(kind: pa.DataType) -> str:
    return next((name for test, name in ATHENA_TYPES if test(kind)), "varchar")


def athena_csv(table: pa.Table) -> str:
    """Athena's result file: a header, every value quoted, NULL as nothing, timestamps with a space."""
    out = io.StringIO()
    out.write(",".join(f'"{n}"' for n in table.column_names) + "\n")
    for record in table.to_pylist():
        cells = []
        for value in record.values():
            if value is None:
                cells.append("")
                continue
            if isinstance(value, datetime):
                value = value.astimezone(timezone.utc).replace(tzinfo=None) if value.tzinfo else value
                value = value.isoformat(sep=" ", timespec="milliseconds")
            elif isinstance(value, bool):
                value = str(value).lower()
            cells.append('"' + str(value).replace('"', '""') + '"')
        out.write(",".join(cells) + "\n")
    return out.getvalue()


class FakeAthena:
    def __init__(self, engine: Callable[[], Any], s3: Any, output: str) -> None:
        """``engine()`` gives a query engine over the lake as it is now; ``s3`` is a boto3 client of the
        test's S3; ``output`` the workgroup's result location (``s3://bucket/prefix/``)."""
        self.engine, self.s3, self.output = engine, s3, output
        self.executions: dict[str, dict[str, Any]] = {}
        self.statements: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                action = self.headers.get("X-Amz-Target", "").rsplit(".", 1)[-1]
                try:
                    status, payload = 200, getattr(fake, action)(body)
                except Exception as exc:  # answered as Athena does, so the client raises it
                    status, payload = 400, {"__type": "InvalidRequestException", "Message": str(exc)}
                data = json.dumps(payload, default=str).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeAthena:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- the API -------------------------------------------------------------------------------
    def GetWorkGroup(self, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "WorkGroup": {
                "Name": body["WorkGroup"],
                "State": "ENABLED",
                "Configuration": {
                    "ResultConfiguration": {"OutputLocation": self.output},
                    "EnforceWorkGroupConfiguration": True,
                },
            }
        }

    def StartQueryExecution(self, body: dict[str, Any]) -> dict[str, Any]:
        sql, query_id = body["QueryString"], str(uuid.uuid4())
        self.statements.append(sql)
        location = f"{self.output}{query_id}.csv"
        columns: list[dict[str, Any]] = []
        ddl = isinstance(sqlglot.parse_one(sql, read="trino"), sqlglot.exp.Create)
        if not ddl:
            table = self.engine().query(sql)
            columns = [
                {"Name": f.name, "Label": f.name, "Type": athena_type(f.type), "Nullable": "UNKNOWN",
                 "CatalogName": "hive", "SchemaName": "", "TableName": "", "Precision": 0, "Scale": 0,
                 "CaseSensitive": False}
                for f in table.schema
            ]  # fmt: skip
            bucket, key = location[len("s3://") :].split("/", 1)
            self.s3.put_object(Bucket=bucket, Key=key, Body=athena_csv(table).encode())
        self.executions[query_id] = {"sql": sql, "location": location, "columns": columns, "ddl": ddl}
        return {"QueryExecutionId": query_id}

    def GetQueryExecution(self, body: dict[str, Any]) -> dict[str, Any]:
        query_id = body["QueryExecutionId"]
        run = self.executions[query_id]
        now = datetime.now(timezone.utc).timestamp()
        return {
            "QueryExecution": {
                "QueryExecutionId": query_id,
                "Query": run["sql"],
                "StatementType": "DDL" if run["ddl"] else "DML",
                "ResultConfiguration": {"OutputLocation": run["location"]},
                "Status": {"State": "SUCCEEDED", "SubmissionDateTime": now, "CompletionDateTime": now},
                "Statistics": {"EngineExecutionTimeInMillis": 1, "DataScannedInBytes": 0},
            }
        }

    def GetQueryResults(self, body: dict[str, Any]) -> dict[str, Any]:
        run = self.executions[body["QueryExecutionId"]]
        header = {"Data": [{"VarCharValue": c["Name"]} for c in run["columns"]]}
        return {"ResultSet": {"Rows": [header], "ResultSetMetadata": {"ColumnInfo": run["columns"]}}}

    def StopQueryExecution(self, body: dict[str, Any]) -> dict[str, Any]:
        return {}
