"""Registers a committed batch's partitions in the Glue Data Catalog (awswrangler).

The tables use partition projection, so Athena needs no registration to query a new partition;
registering anyway keeps the catalog browsable (Glue console, Lake Formation, other engines).
"""

from __future__ import annotations

from typing import Any

from vitalflow.config import Settings
from vitalflow.lake import FILES_TABLES
from vitalflow.models import Manifest


class GlueCatalog:
    def __init__(self, settings: Settings, *, boto3_session: Any = None) -> None:
        self.database = settings.glue_database
        self.bucket = settings.data_bucket
        self.session = boto3_session

    def register(self, manifest: Manifest) -> None:
        import awswrangler as wr  # the Glue job only; the Lambdas' runtimes never register

        for prefix, keys in (("processed", manifest.processed_files), ("rejected", manifest.rejected_files)):
            table = FILES_TABLES[prefix]
            partitions = sorted({key.split("dt=", 1)[1].split("/", 1)[0] for key in keys})
            if not partitions:
                continue
            existing = set(
                wr.catalog.get_partitions(database=self.database, table=table, boto3_session=self.session)
            )
            wanted = {f"s3://{self.bucket}/{prefix}/dt={dt}/": [dt] for dt in partitions}
            new = {location: values for location, values in wanted.items() if location not in existing}
            if new:
                wr.catalog.add_parquet_partitions(
                    database=self.database, table=table, partitions_values=new, boto3_session=self.session
                )
