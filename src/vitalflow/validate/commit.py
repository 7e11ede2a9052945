"""Make a batch's outputs visible all at once, and survive a crash at any point.

Protocol: (1) an intent record lists every key this attempt may write, together with the keys a
crashed earlier attempt had announced; (2) the Parquet files are published under names fixed by
batch id and partition, so a rerun overwrites rather than adds; (3) keys announced earlier but
not produced now are deleted; (4) the manifest is written: this single-object write is the commit
point, and readers only trust files a manifest lists; (5) the intent record is removed.
"""

from __future__ import annotations

import json

from vitalflow import lake
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
    store.delete([key])
