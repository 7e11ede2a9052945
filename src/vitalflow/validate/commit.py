"""Make a batch's outputs visible all at once, and survive a crash at any point.

Protocol: (1) an intent record lists every key this attempt may write, together with the keys a
crashed earlier attempt had announced; (2) per table (processed, then rejected) the Parquet files
are published and added to the Iceberg table in one snapshot carrying the batch id; a table that
already holds the batch (an earlier attempt got that far) keeps the files it has and gets nothing
new; (3) keys announced earlier but in no table now are deleted; (4) the manifest is written;
(5) the commit marker is written (``commits/<batch>.parquet``, one object). Iceberg commits one
table at a time, so the views users query (``processed``, ``rejected``, ``readings_flagged``)
show a batch only once its marker exists: its processed and rejected rows appear together, at
once; (6) the intent record is removed; (7) each table's oldest snapshots may be expired
(``upkeep.trim``: the batch's manifest now stands for its snapshot).

A crash anywhere before (5) leaves nothing users see; a rerun picks up from what the tables hold
and writes the rest. A crash between (4) and (5) leaves a committed batch the views do not show
yet: a rerun finds the manifest, writes the marker (``mark_committed``) and announces the batch.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from vitalflow import lake
from vitalflow.commits import marker_bytes
from vitalflow.exceptions import StoredReadingsChanged
from vitalflow.manifests import write_manifest
from vitalflow.models import Manifest
from vitalflow.ports import ObjectStore
from vitalflow.stored_since import ReadAt
from vitalflow.tables import LakeTables, Reading
from vitalflow.upkeep import trim
from vitalflow.validate.writer import WrittenFile


def intent_key(batch_id: str) -> str:
    return f"{lake.STAGING}{batch_id}.intent.json"


def publish(
    store: ObjectStore,
    tables: LakeTables,
    files: dict[str, list[WrittenFile]],
    manifest: Manifest,
    replace: Sequence[Reading] = (),
    read_at: ReadAt | None = None,
) -> Manifest:
    """Publish and commit the batch's files (``files``: per lake prefix); the manifest as committed.

    ``replace``: stored readings this batch corrects, deleted from processed in its commit.
    ``read_at``: what its rows were classified against; when other jobs stored readings of its
    dates since, the processed commit refuses (``StoredReadingsChanged``) and the files this
    attempt published are deleted before the error goes on, so the batch can be validated again.
    """
    batch_id = manifest.batch_id
    key = intent_key(batch_id)
    earlier: set[str] = set()
    if store.exists(key):
        earlier = set(json.loads(store.get_bytes(key)).get("keys", []))
    produced = {f.key for written in files.values() for f in written}
    staged = {f.staged for written in files.values() for f in written if f.staged}
    produced |= staged
    store.put_bytes(key, json.dumps({"keys": sorted(produced | earlier)}).encode(), "application/json")
    committed: dict[str, list[str]] = {}
    for prefix, written in files.items():
        table = lake.FILES_TABLES[prefix]
        kept = tables.batch_keys(table, batch_id)
        if kept is None:
            kept = _commit_table(store, tables, prefix, written, batch_id, replace, read_at)
        committed[prefix] = kept
    store.delete(sorted((earlier | staged) - {k for keys in committed.values() for k in keys}))
    manifest = manifest.model_copy(
        update={"processed_files": committed["processed"], "rejected_files": committed["rejected"]}
    )
    write_manifest(store, manifest)
    mark_committed(store, manifest)
    store.delete([key])
    for table in lake.FILES_TABLES.values():  # the tables' snapshots stay bounded (upkeep.py)
        trim(store, tables, table)
    return manifest


def _commit_table(
    store: ObjectStore,
    tables: LakeTables,
    prefix: str,
    written: list[WrittenFile],
    batch_id: str,
    replace: Sequence[Reading],
    read_at: ReadAt | None,
) -> list[str]:
    """Publish one table's files and add them in one snapshot; the keys added."""
    keys = [one.key for one in written]
    for one in written:
        if one.staged:  # put in the store by a Spark task, on whichever machine ran it
            store.copy(one.staged, one.key)
        else:
            store.put_file(one.path, one.key)
    processed = prefix == "processed"
    try:
        tables.commit_files(
            lake.FILES_TABLES[prefix],
            batch_id,
            keys,
            replace if processed else (),
            read_at if processed else None,
        )
    except StoredReadingsChanged:
        store.delete(keys)  # in no table: a retry in this process must not find them (nor a reader)
        raise
    return keys


def mark_committed(store: ObjectStore, manifest: Manifest) -> bool:
    """Write the batch's commit marker unless it exists; True when it was written now."""
    key = lake.commit_key(manifest.batch_id)
    if store.exists(key):
        return False
    store.put_bytes(key, marker_bytes(manifest), "application/vnd.apache.parquet")
    return True
