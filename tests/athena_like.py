"""The lake as Athena's tables read it, on DuckDB, then the views of sql/views: the Iceberg tables
(processed_files, rejected_files) as their current snapshot holds them, read from the SQL catalog
in the lake folder (the Glue catalog's stand-in), and the Hive tables (batch_commits,
batch_summaries) as every Parquet file under their prefix, committed or not.

moto runs no SQL, so this is how a test sees what a user of the deployment would: the same view
statements Athena is given, over the same files, with Athena's reading rule for tables.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from vitalflow.aggregate.queries import view_queries
from vitalflow.contract import COMMIT_SCHEMA, PROCESSED_SCHEMA, REJECTED_SCHEMA, SUMMARY_SCHEMA
from vitalflow.tables import LakeTables

# The Glue tables over the lake and the prefix each reads (terraform/main.tf, lake_tables).
LAKE_TABLES = {
    "processed_files": "processed",
    "rejected_files": "rejected",
    "batch_commits": "commits",
    "batch_summaries": "summaries",
}
SCHEMAS = {
    "processed_files": PROCESSED_SCHEMA,
    "rejected_files": REJECTED_SCHEMA,
    "batch_commits": COMMIT_SCHEMA,
    "batch_summaries": SUMMARY_SCHEMA,
}
PARTITIONED = {"processed_files", "rejected_files", "batch_summaries"}
ICEBERG = {"processed_files", "rejected_files"}  # dt is a column of their files, not of paths


def athena_like(root: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    tables = LakeTables.local(root)
    for table, prefix in LAKE_TABLES.items():
        if table in ICEBERG:
            files = [str(root / key) for key in tables.live_keys(table)]
        else:
            files = sorted(
                str(p) for p in (root / prefix).rglob("*.parquet") if not p.name.startswith((".", "_"))
            )
        if files:
            hive = "true" if table in PARTITIONED and table not in ICEBERG else "false"
            sql = f"SELECT * FROM read_parquet($files, hive_partitioning = {hive}, hive_types_autocast = 0)"
            con.sql(sql, params={"files": files}).create_view(table)
        else:
            schema = SCHEMAS[table]
            if table in PARTITIONED:
                schema = schema.append(pa.field("dt", pa.string()))
            con.register("empty", schema.empty_table())
            con.execute(f"CREATE TABLE {table} AS SELECT * FROM empty")
            con.unregister("empty")
    for query in view_queries():
        con.execute(query.duckdb)
    return con


def count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    (n,) = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(n)
