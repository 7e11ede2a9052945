"""The lake's readings as Apache Iceberg tables: ``processed_files`` and ``rejected_files``.

The job writes a batch's Parquet files as before (``validate/writer.py``: fast, bounded memory)
and hands them to the table with Iceberg's ``add_files``: one snapshot per batch and table, whose
summary carries the batch id (``vitalflow.batch-id``), so a batch's snapshot can be found and a
rerun after a crash never adds the same batch twice. Readers see a table's current snapshot
only: files of a run that died before its commit are not part of any table.

The catalog is the Glue Data Catalog on AWS (the tables come from Terraform) and a SQLite file in
the lake folder locally (``catalog.db``, tables created on first use). Commits are optimistic: a
commit that lost a race with another job reloads the table and tries again.
"""

from __future__ import annotations

import functools
import logging
import random
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vitalflow import lake
from vitalflow.corrections import rewrites
from vitalflow.exceptions import LakeCommitConflict, StoredReadingsChanged
from vitalflow.lake import PARTITION_COLUMN
from vitalflow.stored_since import ReadAt, stored_since

if TYPE_CHECKING:
    import pyarrow as pa
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table, Transaction
    from pyiceberg.table.snapshots import Snapshot

log = logging.getLogger(__name__)

Reading = tuple[str, str, int]  # a reading's partition and key: (dt, user_id, event time in µs)
BATCH_PROPERTY = "vitalflow.batch-id"
CATALOG_FILE = "catalog.db"
CATALOG_LOCK = ".catalog.lock"  # held while a process opens the catalog (tables made on first use)
NAMESPACE = "vitalflow"
COMMIT_ATTEMPTS = 8  # each after a reload; a conflict only means another job committed first
# Where each table keeps its data and metadata, under the lake's root.
LOCATIONS = {lake.FILES_TABLES["processed"]: "processed", lake.FILES_TABLES["rejected"]: "rejected"}
# What keeps a commit's cost flat as batches accumulate (issue 20), with Iceberg's own table
# properties: every commit writes a manifest list naming each manifest, and a plain append adds one
# manifest per batch, so appends merge the newest manifests into one once 32 accumulate, up to 1 MiB
# each (a merge rewrites at most that; full ones are never rewritten; ``_add_files``); and every
# commit writes the table's metadata.json afresh, listing the earlier versions, so it lists 10 and
# the older files are deleted. The snapshots it lists are bounded by ``upkeep.trim`` after each
# batch. Set on a table's first commit (``writable``): Terraform cannot declare them.
TABLE_PROPERTIES = {
    "commit.manifest-merge.enabled": "true",
    "commit.manifest.min-count-to-merge": "32",
    "commit.manifest.target-size-bytes": str(1024 * 1024),
    "write.metadata.delete-after-commit.enabled": "true",
    "write.metadata.previous-versions-max": "10",
}


def table_schema(name: str) -> pa.Schema:
    """A table's columns: the lake schema plus ``dt``, stored in every file (Iceberg reads no paths)."""
    import pyarrow as pa

    from vitalflow.contract import PROCESSED_SCHEMA, REJECTED_SCHEMA  # pyarrow: the Lambdas have none

    base = PROCESSED_SCHEMA if name == lake.FILES_TABLES["processed"] else REJECTED_SCHEMA
    return base.append(pa.field(PARTITION_COLUMN, pa.string(), nullable=False))


class LakeTables:
    """The two readings tables of one lake, in one catalog."""

    def __init__(
        self,
        connect: Callable[[], Catalog],
        namespace: str,
        root_uri: str,
        *,
        create: bool,
        detached: Callable[[], Callable[[], LakeTables]] | None = None,
    ) -> None:
        """``connect``: makes the catalog client, on first use (the Lambdas never import pyiceberg);
        ``root_uri``: the lake's root (a folder, or ``s3://bucket``); ``create``: make missing tables;
        ``detached``: gives a picklable maker of the same tables, for another process (a Spark task)."""
        self._connect = connect
        self._detached = detached
        self._catalog: Catalog | None = None
        self.namespace = namespace
        self.root = root_uri.rstrip("/")
        self.create = create

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            with warnings.catch_warnings():  # pyiceberg's imports warn of its libraries' renames: noise
                warnings.simplefilter("ignore")
                self._catalog = self._connect()
        return self._catalog

    @classmethod
    def local(cls, home: Path) -> LakeTables:
        root = home.resolve()

        def connect() -> Catalog:
            from pyiceberg.catalog.sql import SqlCatalog

            from vitalflow.local.file_lock import exclusive

            # Opening a new lake's catalog makes its tables and namespace, each checked for, then
            # made: processes opening one at once failed on what the other had just made.
            with exclusive(root / CATALOG_LOCK):
                uri = f"sqlite:///{root / CATALOG_FILE}"
                catalog = SqlCatalog("vitalflow", uri=uri, warehouse=root.as_uri())
                catalog.create_namespace_if_not_exists(NAMESPACE)
            return catalog

        elsewhere = functools.partial(cls.local, home)
        return cls(connect, NAMESPACE, str(root), create=True, detached=lambda: elsewhere)

    def detached(self) -> Callable[[], LakeTables]:
        """A picklable way to these tables from another process (a Spark task)."""
        if self._detached is None:
            raise TypeError("these tables cannot be opened from another process")
        return self._detached()

    @classmethod
    def for_store(cls, store: Any) -> LakeTables:
        """The tables of a local lake, from its object store (tests and local tools)."""
        root = getattr(store, "root", None)
        if root is None:
            raise TypeError("a lake on S3 needs its tables passed in (LakeTables.glue)")
        return cls.local(Path(root))

    @classmethod
    def glue(
        cls,
        database: str,
        bucket: str,
        *,
        boto3_session: Any = None,
        kms_key_id: str = "",
        create: bool = False,
    ) -> LakeTables:
        """The Glue catalog's tables (Terraform creates them; ``create``: tests do)."""

        def connect() -> Catalog:
            import boto3

            from vitalflow.aws.iceberg_io import BotoGlueCatalog

            session = boto3_session or boto3.Session()
            return BotoGlueCatalog("vitalflow", session.client("glue"), session.client("s3"), kms_key_id)

        def elsewhere() -> Callable[[], LakeTables]:  # asked for by the Spark engine only: clients then
            return functools.partial(
                _glue_elsewhere, database, bucket, kms_key_id, create, _endpoints(boto3_session)
            )

        return cls(connect, database, f"s3://{bucket}", create=create, detached=elsewhere)

    def uri(self, key: str) -> str:
        return f"{self.root}/{key}"

    def key(self, uri: str) -> str:
        """A data file's lake key from the path the table records."""
        prefix = self.root + "/"
        return uri[len(prefix) :] if uri.startswith(prefix) else uri

    def table(self, name: str) -> Table:
        """The table as committed now (a fresh load: what another job committed is included)."""
        from pyiceberg.exceptions import NoSuchTableError

        try:
            table = self.catalog.load_table((self.namespace, name))
        except NoSuchTableError:
            if not self.create:
                raise
            return self._create(name)
        return table

    def writable(self, name: str) -> Table:
        """The table with its current partitioning and ``TABLE_PROPERTIES``, set first if it lacks
        them, in one commit by whichever job commits first: Terraform's Glue resource can declare
        neither, and tables made earlier have an older spec (processed was by day until the month
        partitioning) or no properties. Files added earlier keep the spec they were written with;
        compaction rewrites them into the current one. Readers never change a table (``vitalflow
        query`` may read a lake it cannot write)."""
        from pyiceberg.exceptions import CommitFailedException

        table = self.table(name)
        source, transform, wanted = _PARTITIONS[name]
        respec = [f.name for f in table.spec().fields] != [wanted]
        missing = {k: v for k, v in TABLE_PROPERTIES.items() if table.properties.get(k) != v}
        if not respec and not missing:
            return table
        try:
            with table.transaction() as tx:
                if missing:
                    tx.set_properties(missing)
                if respec:
                    with tx.update_spec() as spec:
                        for earlier in table.spec().fields:
                            spec.remove_field(earlier.name)
                        spec.add_field(source, transform(), wanted)
        except CommitFailedException:  # another job committed meanwhile (perhaps this very change)
            pass
        return self.catalog.load_table(table.name())

    def _create(self, name: str) -> Table:
        from pyiceberg.exceptions import TableAlreadyExistsError

        self.catalog.create_namespace_if_not_exists(self.namespace)
        schema, spec = _schema_and_spec(name, table_schema(name))
        try:
            return self.catalog.create_table(
                (self.namespace, name),
                schema=schema,
                location=self.uri(LOCATIONS[name]),
                partition_spec=spec,
                properties={"format-version": "2", "write.parquet.compression-codec": "zstd"},
            )
        except TableAlreadyExistsError:  # another job made it first
            return self.catalog.load_table((self.namespace, name))

    def commit_files(
        self,
        name: str,
        batch_id: str,
        keys: list[str],
        replace: Sequence[Reading] = (),
        read_at: ReadAt | None = None,
    ) -> bool:
        """Add a batch's files to the table as one snapshot; False when the batch was already there.

        ``replace``: stored readings the batch corrects, deleted in the same commit (the delete's
        snapshot first, then the batch's; both land or neither). Idempotent on the batch id, and
        retried when another job committed in between. ``read_at``: what the batch's rows were
        classified against; raises ``StoredReadingsChanged`` (nothing committed) when a snapshot
        committed since may hold readings of those dates (``stored_since.py``).
        """
        from pyiceberg.exceptions import CommitFailedException

        if not keys and not replace:  # nothing to add: the batch's rows are all in the other table
            return False
        for attempt in range(COMMIT_ATTEMPTS):
            table = self.writable(name)
            if batch_snapshot(table, batch_id) is not None:
                return False
            if read_at is not None and stored_since(table, read_at):
                raise StoredReadingsChanged(
                    f"other uploads stored readings of the same dates while batch {batch_id} was "
                    "being validated; nothing of it was committed"
                )
            try:
                with table.transaction() as tx:
                    if replace:
                        replace_files(tx, rewrites(table, replace, batch_id), {BATCH_PROPERTY: batch_id})
                    _add_files(tx, [self.uri(k) for k in keys], {BATCH_PROPERTY: batch_id})
                return True
            except CommitFailedException:
                log.info("commit of batch %s to %s lost a race; retrying", batch_id, name)
                time.sleep(min(2.0, 0.05 * 2**attempt) * (0.5 + random.random()))
        raise LakeCommitConflict(
            f"could not commit batch {batch_id} to {name} after {COMMIT_ATTEMPTS} attempts; rerun the batch"
        )

    def batch_keys(self, name: str, batch_id: str) -> list[str] | None:
        """The files the batch's snapshot added to the table; None when the batch is not there."""
        table = self.table(name)
        snapshot = batch_snapshot(table, batch_id)
        if snapshot is None:
            return None
        keys = []
        for manifest in snapshot.manifests(table.io):
            if manifest.added_snapshot_id != snapshot.snapshot_id:
                continue
            for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=True):
                keys.append(self.key(entry.data_file.file_path))
        return sorted(keys)

    def live_keys(self, name: str) -> list[str]:
        """The data files of the table's current snapshot, as lake keys (none before its first batch)."""
        if not self.exists(name):
            return []
        table = self.table(name)
        if table.current_snapshot() is None:
            return []
        return sorted(self.key(task.file.file_path) for task in table.scan().plan_files())

    def version(self) -> str:
        """Changes whenever a table gets a new snapshot: the local engine's cue to refresh."""
        return "|".join(
            str(self.table(name).metadata_location) for name in sorted(LOCATIONS) if self.exists(name)
        )

    def exists(self, name: str) -> bool:
        return bool(self.catalog.table_exists((self.namespace, name)))


def _add_files(tx: Transaction, uris: list[str], properties: dict[str, str]) -> None:
    """``Transaction.add_files`` (without its scan of every file for duplicates: the batch id says
    it), as a merging append: pyiceberg's own always appends one more manifest, whatever the table's
    ``commit.manifest-merge.enabled`` says."""
    from pyiceberg.table import _parquet_files_to_data_files

    if tx.table_metadata.name_mapping() is None:  # how Iceberg reads files written without field ids
        mapping = tx.table_metadata.schema().name_mapping.model_dump_json()
        tx.set_properties({"schema.name-mapping.default": mapping})
    with tx.update_snapshot(snapshot_properties=properties).merge_append() as append:
        for data_file in _parquet_files_to_data_files(tx.table_metadata, uris, tx._table.io):
            append.append_data_file(data_file)


def replace_files(tx: Any, changed: list[tuple[Any, Any]], properties: dict[str, str]) -> None:
    """One ``overwrite`` snapshot: each file out, its rewrite (if any) in: the rows are exactly those
    of the files' rewrites (corrections, compaction), so no filter is evaluated over the table."""
    if not changed:
        return
    with tx.update_snapshot(snapshot_properties=properties).overwrite() as overwrite:
        for old, new in changed:
            overwrite.delete_data_file(old)
            if new is not None:
                overwrite.append_data_file(new)


def write_data_file(table: Table, rows: pa.Table, path: str) -> Any:
    """``rows`` written as a Parquet file at ``path`` through the table's own file access, and its
    Iceberg data file (statistics and partition read from the footer), for ``replace_files``."""
    import pyarrow.parquet as pq
    from pyiceberg.io.pyarrow import parquet_file_to_data_file

    with table.io.new_output(path).create(overwrite=True) as out:
        pq.write_table(rows, out, compression="zstd", row_group_size=1 << 20)
    return parquet_file_to_data_file(table.io, table.metadata, path)


def on_dates(dates: Sequence[str]) -> Any:
    """Rows of these event dates (sorted): ``dt`` for the files' bounds, the event time's range for
    the month partitions (a filter on ``dt`` alone cannot prune those)."""
    from pyiceberg.expressions import And, GreaterThanOrEqual, In, LessThan

    first = date.fromisoformat(dates[0])
    after = date.fromisoformat(dates[-1]) + timedelta(days=1)
    return And(
        In(PARTITION_COLUMN, list(dates)),
        And(
            GreaterThanOrEqual("event_time", f"{first}T00:00:00+00:00"),
            LessThan("event_time", f"{after}T00:00:00+00:00"),
        ),
    )


def batch_snapshot(table: Table, batch_id: str) -> Snapshot | None:
    """The snapshot that added the batch to the table, among those the table still keeps."""
    for snapshot in history(table):
        if snapshot.summary is not None and snapshot.summary[BATCH_PROPERTY] == batch_id:
            return snapshot
    return None


def history(table: Table) -> Iterator[Snapshot]:
    """The current snapshot and its ancestors, newest first."""
    from pyiceberg.table.snapshots import ancestors_of

    current = table.current_snapshot()
    if current is not None:
        yield from ancestors_of(current, table.metadata)


def _month() -> Any:
    from pyiceberg.transforms import MonthTransform

    return MonthTransform()


def _identity() -> Any:
    from pyiceberg.transforms import IdentityTransform

    return IdentityTransform()


# Per table: the partition's source column, transform and name (``lake.PARTITION_FIELDS``).
_PARTITIONS: dict[str, tuple[str, Callable[[], Any], str]] = {
    lake.FILES_TABLES["processed"]: ("event_time", _month, lake.MONTH_PARTITION),
    lake.FILES_TABLES["rejected"]: (PARTITION_COLUMN, _identity, PARTITION_COLUMN),
}


def _schema_and_spec(name: str, arrow: pa.Schema) -> tuple[Any, Any]:
    """The Iceberg schema of an Arrow one, and the table's partitioning."""
    from pyiceberg.catalog import Catalog
    from pyiceberg.partitioning import PartitionField, PartitionSpec
    from pyiceberg.schema import assign_fresh_schema_ids

    # Field ids as the table will have them (an Arrow schema converts with none, all -1)
    schema = assign_fresh_schema_ids(Catalog._convert_schema_if_needed(arrow))
    column, transform, field_name = _PARTITIONS[name]
    source = schema.find_field(column).field_id
    spec = PartitionSpec(PartitionField(source, 1000, transform(), field_name))
    return schema, spec


def _endpoints(session: Any) -> tuple[str | None, str | None, str | None]:
    """The region and the Glue and S3 endpoints a session's clients use (another process uses them too)."""
    import boto3

    session = session or boto3.Session()
    glue, s3 = session.client("glue"), session.client("s3")
    return session.region_name, glue.meta.endpoint_url, s3.meta.endpoint_url


def _glue_elsewhere(
    database: str,
    bucket: str,
    kms_key_id: str,
    create: bool,
    where: tuple[str | None, str | None, str | None],
) -> LakeTables:
    """``LakeTables.glue`` in another process (a Spark task): its own clients, with its host's credentials."""
    import boto3

    from vitalflow.aws.iceberg_io import BotoGlueCatalog

    region, glue_endpoint, s3_endpoint = where

    def connect() -> Catalog:
        session = boto3.Session(region_name=region)
        glue = session.client("glue", endpoint_url=glue_endpoint)
        return BotoGlueCatalog("vitalflow", glue, session.client("s3", endpoint_url=s3_endpoint), kms_key_id)

    return LakeTables(connect, database, f"s3://{bucket}", create=create)
