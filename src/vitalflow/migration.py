"""``vitalflow lake migrate``: a lake written by the earlier layout, converted once to Iceberg tables.

The earlier layout kept each batch's Parquet files under ``processed/dt=.../`` and
``rejected/dt=.../`` with ``dt`` in the folder name only, and the manifests said which files count.
Each committed batch's files get their ``dt`` column (rewritten in place: no table references them
yet) and are added to the tables in one snapshot per batch and table, with the batch id, as the job
does now. Rows are counted before (the files' footers) and after (the tables' own record counts);
a difference stops the migration with an error. Batches already in the tables are skipped, so a
migration that stopped can be run again.
"""

from __future__ import annotations

from dataclasses import dataclass

from vitalflow import lake
from vitalflow.contract import PARTITION_COLUMN
from vitalflow.exceptions import MigrationMismatch
from vitalflow.manifests import committed_manifests
from vitalflow.ports import ObjectStore
from vitalflow.tables import LakeTables


@dataclass(frozen=True)
class Migrated:
    batches: int
    rows_before: int
    rows_after: int


def migrate(store: ObjectStore, tables: LakeTables) -> Migrated:
    before = table_rows(tables)
    moved = batches = 0
    for manifest in committed_manifests(store):
        if manifest.status != "processed":
            continue
        done = False
        for prefix, keys in (("processed", manifest.processed_files), ("rejected", manifest.rejected_files)):
            name = lake.FILES_TABLES[prefix]
            if tables.batch_keys(name, manifest.batch_id) is not None or not keys:
                continue
            moved += sum(_with_dt(store, key) for key in keys)
            tables.commit_files(name, manifest.batch_id, keys)
            done = True
        batches += done
    after = table_rows(tables)
    if after != before + moved:
        raise MigrationMismatch(
            f"the tables hold {after} rows after migrating, expected {before} + {moved}: check the lake"
        )
    return Migrated(batches=batches, rows_before=before + moved, rows_after=after)


def table_rows(tables: LakeTables) -> int:
    """Rows in both tables, by Iceberg's own record counts."""
    total = 0
    for name in lake.FILES_TABLES.values():
        if tables.exists(name):
            total += sum(task.file.record_count for task in tables.table(name).scan().plan_files())
    return total


def _with_dt(store: ObjectStore, key: str) -> int:
    """Give a file of the earlier layout its ``dt`` column (from its folder); its row count."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    with store.local_copy(key) as path:
        table = pq.read_table(path, partitioning=None)
        copy = path.with_name(path.name + ".dt")
        if PARTITION_COLUMN not in table.column_names:
            dt = key.split(f"{PARTITION_COLUMN}=", 1)[1].split("/", 1)[0]
            column = pa.repeat(pa.scalar(dt, pa.string()), table.num_rows)
            table = table.append_column(pa.field(PARTITION_COLUMN, pa.string(), nullable=False), column)
            pq.write_table(table, copy, compression="zstd")
            store.put_file(copy, key)
            copy.unlink()
        return int(table.num_rows)
