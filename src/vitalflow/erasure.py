"""Erase one person's data on request (the right to erasure): ``vitalflow erase --user-id ID``.

What goes: the user's rows in processed and rejected (rejected rows whose user_id is the id, or
whose raw text of a malformed record holds it), the lines holding the id in the raw uploads of the
batches that had them (and, in a versioned bucket, the uploads' older versions holding the id:
versions cannot be rewritten, so such a version is deleted whole), and every table snapshot older
than the erasure together with the files only those snapshots referenced (so time travel cannot
bring the rows back). What stays: an audit entry under ``audit/erasures/`` naming the id only by a
SHA-256 digest, so an operator can answer "was this person erased, and when" without the lake
keeping the id. Data Docs pages, reports, emails and batch summaries never held user ids, so nothing
there changes.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from vitalflow import lake
from vitalflow.exceptions import EraseRefused, LakeCommitConflict
from vitalflow.manifests import read_manifest
from vitalflow.ports import ObjectStore
from vitalflow.tables import COMMIT_ATTEMPTS, LakeTables
from vitalflow.upkeep import expire, relist

AUDIT = "audit/erasures/"
_MARKS = {"vitalflow.operation": "erasure"}
_USER_ID = re.compile(r"[A-Za-z0-9_.\-]{1,64}")  # the contract's user_id format


@dataclass
class Erasure:
    """What an erasure found (dry run) or removed; no user id in it."""

    subject_sha256: str
    rows: dict[str, int] = field(default_factory=dict)  # per table
    raw_files: list[str] = field(default_factory=list)
    raw_versions_deleted: int = 0  # older versions of the uploads (a versioned bucket) holding the id
    snapshots_expired: int = 0
    audit: str | None = None
    dry_run: bool = False


def subject_digest(user_id: str) -> str:
    return hashlib.sha256(f"vitalflow-erasure:{user_id}".encode()).hexdigest()


def erase_user(store: ObjectStore, tables: LakeTables, user_id: str, *, dry_run: bool = False) -> Erasure:
    if not _USER_ID.fullmatch(user_id):
        raise EraseRefused("a user id is 1-64 ASCII letters, digits, '_', '.' or '-'")
    result = Erasure(subject_sha256=subject_digest(user_id), dry_run=dry_run)
    found = {name: _rows_of(tables, name, user_id) for name in lake.FILES_TABLES.values()}
    batches = {row[0] for rows in found.values() for row in rows}
    result.rows = {name: len(rows) for name, rows in found.items()}
    uploads = _raw_keys(store, batches)
    result.raw_files = [k for k in uploads if store.exists(k) and _holds(store.get_bytes(k), user_id)]
    if dry_run:
        return result
    started = datetime.now(timezone.utc)
    for name, rows in found.items():
        if rows:
            _delete(tables, name, user_id, rows)
    for key in result.raw_files:
        _strip_raw(store, key, user_id)
    for key in uploads:  # after the rewrite: the version it replaced is an older one now
        result.raw_versions_deleted += store.purge_versions(key, lambda data: _holds(data, user_id))
    for name in lake.FILES_TABLES.values():
        if tables.exists(name):
            result.snapshots_expired += expire(tables, name, older_than=started)
    relist(store, tables, batches)
    result.audit = f"{AUDIT}{started:%Y%m%dT%H%M%S%fZ}-{result.subject_sha256[:16]}.json"
    entry = {**asdict(result), "erased_at": started.isoformat(), "batches": len(batches)}
    store.put_bytes(result.audit, json.dumps(entry, sort_keys=True).encode(), "application/json")
    return result


def _rows_of(tables: LakeTables, name: str, user_id: str) -> list[tuple[str, int, bool]]:
    """(batch_id, source_line, whether user_id is the id) of the user's rows in the table."""
    import pyarrow.compute as pc

    if not tables.exists(name) or tables.table(name).current_snapshot() is None:
        return []
    rejected = name == lake.FILES_TABLES["rejected"]
    columns = ("batch_id", "source_line", "user_id", *(("raw_line",) if rejected else ()))
    rows = tables.table(name).scan(selected_fields=columns).to_arrow()
    hit = pc.fill_null(pc.equal(rows.column("user_id"), user_id), False)
    if rejected:
        hit = pc.or_(hit, pc.fill_null(pc.match_substring(rows.column("raw_line"), user_id), False))
    picked = rows.filter(hit)
    own = pc.fill_null(pc.equal(picked.column("user_id"), user_id), False)
    columns = (picked.column("batch_id"), picked.column("source_line"), own)
    return list(zip(*(column.to_pylist() for column in columns)))


def _delete(tables: LakeTables, name: str, user_id: str, rows: list[tuple[str, int, bool]]) -> None:
    """Copy-on-write deletes: files holding the rows are rewritten without them.

    Rows found by user_id go in one delete; malformed records holding the id in their raw text
    (few: a record that is not a row) one by one, by batch and line. Each delete is retried on a
    fresh table when a batch committed meanwhile (deleting by a condition twice removes nothing more).
    """
    from pyiceberg.expressions import And, EqualTo

    conditions: list[Any] = []
    if any(own for _, _, own in rows):
        conditions.append(EqualTo("user_id", user_id))
    for batch_id, line, own in rows:
        if not own:
            conditions.append(And(EqualTo("batch_id", batch_id), EqualTo("source_line", line)))
    for condition in conditions:
        _retried(tables, name, condition)


def _retried(tables: LakeTables, name: str, condition: Any) -> None:
    from pyiceberg.exceptions import CommitFailedException

    for attempt in range(COMMIT_ATTEMPTS):
        try:
            tables.table(name).delete(delete_filter=condition, snapshot_properties=_MARKS)
            return
        except CommitFailedException:
            time.sleep(min(2.0, 0.05 * 2**attempt) * (0.5 + random.random()))
    raise LakeCommitConflict(f"could not erase from {name}: batches kept committing; run the erasure again")


def _raw_keys(store: ObjectStore, batches: Iterable[str]) -> list[str]:
    keys = set()
    for batch_id in batches:
        manifest = read_manifest(store, batch_id)
        if manifest is not None:
            keys.add(manifest.source.key)
    return sorted(keys)


def _holds(data: bytes, user_id: str) -> bool:
    return any(_line_holds(line, user_id) for line in data.splitlines())


def _line_holds(line: bytes, user_id: str) -> bool:
    fields = (f.strip().strip(b'"').strip() for f in line.split(b","))
    return user_id.encode() in fields


def _strip_raw(store: ObjectStore, key: str, user_id: str) -> None:
    """The upload without its lines holding the id; the other bytes as they were (line ends, BOM)."""
    lines = store.get_bytes(key).splitlines(keepends=True)
    kept = [line for line in lines if not _line_holds(line, user_id)]
    if len(kept) <= 1:  # the header alone
        store.delete([key])
    else:
        store.put_bytes(key, b"".join(kept), "text/csv")
