"""Reading and writing batch manifests: the commit record every later stage starts from.

Kept apart from the validation package so that the Lambdas, which only read manifests, do not
import Great Expectations.
"""

from __future__ import annotations

from vitalflow import lake
from vitalflow.models import Manifest
from vitalflow.ports import ObjectStore


def write_manifest(store: ObjectStore, manifest: Manifest) -> None:
    """One compact JSON line, so Athena's JSON SerDe can read the manifests folder as a table."""
    store.put_bytes(
        lake.manifest_key(manifest.batch_id), manifest.model_dump_json().encode(), "application/json"
    )


def read_manifest(store: ObjectStore, batch_id: str) -> Manifest | None:
    key = lake.manifest_key(batch_id)
    if not store.exists(key):
        return None
    return Manifest.model_validate_json(store.get_bytes(key))
