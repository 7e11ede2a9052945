"""Reading and writing batch manifests: the commit record every later stage starts from.

Kept apart from the validation package so that the Lambdas, which only read manifests, do not
import Great Expectations.

Anything can end up under ``manifests/`` (a half-copied backup, an editor's swap file, a planted
file), so readers never trust a file just for being there: one that is not a manifest of the batch
its name says, or that lists data outside the lake's tables, is reported once (a warning naming
the file) and skipped. It must not block the other batches' queries, nor a rerun of its own batch,
which simply writes a good manifest over it.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Collection, Iterator

from pydantic import ValidationError

from vitalflow import lake
from vitalflow.exceptions import ObjectNotFound
from vitalflow.models import Manifest
from vitalflow.ports import ObjectStore

log = logging.getLogger(__name__)

_reported: set[tuple[str, str]] = set()  # (file, content digest) already warned about in this process
_reported_lock = threading.Lock()


def write_manifest(store: ObjectStore, manifest: Manifest) -> None:
    """One compact JSON line, so Athena's JSON SerDe can read the manifests folder as a table."""
    store.put_bytes(
        lake.manifest_key(manifest.batch_id), manifest.model_dump_json().encode(), "application/json"
    )


def read_manifest(store: ObjectStore, batch_id: str) -> Manifest | None:
    """The batch's manifest; None when there is none, or when the file there is not a valid one."""
    key = lake.manifest_key(batch_id)
    if not store.exists(key):
        return None
    return _load(store, key)


def committed_manifests(store: ObjectStore, *, present: Collection[str] | None = None) -> Iterator[Manifest]:
    """Every valid manifest under ``manifests/``, skipping (and reporting) any other file there.

    With ``present`` (the keys now in the store), a manifest listing a data file that is gone is
    skipped and reported too: its batch would be half visible, and every query reading it would fail.
    """
    for key in store.list_keys(lake.MANIFESTS):
        if key.endswith("/"):  # an S3 console "folder" marker, not a file
            continue
        manifest = _load(store, key, present)
        if manifest is not None:
            yield manifest


def _load(store: ObjectStore, key: str, present: Collection[str] | None = None) -> Manifest | None:
    try:
        data = store.get_bytes(key)
    except ObjectNotFound:  # deleted between listing and reading
        return None
    manifest, problem = _parse(key, data)
    if manifest is not None and present is not None:
        listed = manifest.processed_files + manifest.rejected_files
        missing = next((k for k in listed if k not in present), None)
        if missing is not None:
            manifest, problem = None, f"it lists {missing!r}, which is missing from the lake"
    if problem:
        _report(store, key, data, problem)
    return manifest


def _parse(key: str, data: bytes) -> tuple[Manifest | None, str]:
    """The manifest, or None and why the file is not one."""
    if not key.endswith(".json"):
        return None, "not a manifest (manifests are <batch_id>.json files)"
    try:
        manifest = Manifest.model_validate_json(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return None, f"not a valid batch manifest ({where + ': ' if where else ''}{first['msg']})"
    if lake.manifest_key(manifest.batch_id) != key:
        return None, f"it describes batch {manifest.batch_id!r}, not the batch its file name says"
    for table, keys in (("processed", manifest.processed_files), ("rejected", manifest.rejected_files)):
        for file_key in keys:
            if not _is_table_file(table, file_key):
                return None, f"it lists {file_key!r}, which is not a file of the {table} table"
    return manifest, ""


def _is_table_file(table: str, key: str) -> bool:
    parts = key.split("/")
    return (
        len(parts) >= 2
        and parts[0] == table
        and key.endswith(".parquet")
        and all(part not in ("", ".", "..") for part in parts)
        and "\\" not in key
    )


def _report(store: ObjectStore, key: str, data: bytes, reason: str) -> None:
    mark = (store.uri(key), hashlib.sha256(data).hexdigest())
    with _reported_lock:
        if mark in _reported:
            return
        _reported.add(mark)
    log.warning("skipped %s: %s; remove it or move it out of manifests/", mark[0], reason)
