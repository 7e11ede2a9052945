"""Make a batch's outputs visible all at once, and survive a crash at any point.

Protocol: (1) an intent record lists every key this attempt may write, together with the keys a
crashed earlier attempt had announced; (2) the Parquet files are published under names fixed by
batch id and partition, so a rerun overwrites rather than adds; (3) keys announced earlier but
not produced now are deleted; (4) the manifest is written: this single-object write is the commit
point, and readers only trust files a manifest lists; (5) the commit marker is written
(``commits/<batch>.parquet``, one object): on Athena the tables read every file under their
prefix, and the views users query (``processed``, ``rejected``, ``readings_flagged``) show a batch
only once its marker exists, so the batch appears there all at once; (6) the intent record is removed.

A crash between (4) and (5) leaves a committed batch that the views do not show yet: a rerun finds
the manifest, writes the marker (``mark_committed``) and announces the batch again.
"""

from __future__ import annotations

import json

from vitalflow import lake
from vitalflow.commits import marker_bytes
from vitalflow.manifests import write_manifest
from vitalflow.models import Manifest
from vitalflow.ports import ObjectStore
from vitalflow.validate.writer import WrittenFile


def intent_key(batch_id: str) -> str:
    return f"{lake.STAGING}{batch_id}.intent.json"


def publish(store: ObjectStore, batch_id: str, files: list[WrittenFile], manifest: Manifest) -> None:
    key = intent_key(batch_id)
    earlier: set[str] = set()
    if store.exists(key):
        earlier = set(json.loads(store.get_bytes(key)).get("keys", []))
    produced = {f.key for f in files}
    store.put_bytes(key, json.dumps({"keys": sorted(produced | earlier)}).encode(), "application/json")
    for written in files:
        store.put_file(written.path, written.key)
    store.delete(sorted(earlier - produced))
    write_manifest(store, manifest)
    mark_committed(store, manifest)
    store.delete([key])


def mark_committed(store: ObjectStore, manifest: Manifest) -> bool:
    """Write the batch's commit marker unless it exists; True when it was written now."""
    key = lake.commit_key(manifest.batch_id)
    if store.exists(key):
        return False
    store.put_bytes(key, marker_bytes(manifest), "application/vnd.apache.parquet")
    return True
