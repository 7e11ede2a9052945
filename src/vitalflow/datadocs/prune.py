"""Retention of the Data Docs: the local twin of the S3 lifecycle rules.

On AWS, lifecycle rules on ``docs/validations/``, ``docs/index/``, ``docs/days/``, ``docs/months/``
and ``gx/validations/`` (terraform/modules/storage) expire old results; locally ``vitalflow docs prune
--older-than 90d`` deletes them and rewrites the affected pages. The stylesheet is outside those
prefixes, so pages never lose their styling.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from vitalflow import lake
from vitalflow.datadocs.site import ENTRIES, VALIDATIONS, IndexEntry, refresh_pages
from vitalflow.ports import ObjectStore


@dataclass(frozen=True)
class PruneReport:
    batches: list[str]
    objects: int
    cutoff: datetime


def prune_docs(
    data_store: ObjectStore,
    docs_store: ObjectStore,
    *,
    older_than: timedelta,
    now: datetime | None = None,
    dry_run: bool = False,
) -> PruneReport:
    """Delete the pages, index entries and GE results of batches validated before ``now - older_than``.

    The local twin of the S3 lifecycle rules; it also rewrites the month pages and the index, so
    no page links to a deleted batch.
    """
    cutoff = (now or datetime.now(timezone.utc)) - older_than
    old = [
        (key, entry)
        for key in docs_store.list_keys(ENTRIES)
        for entry in [IndexEntry.from_key(key)]
        if entry is not None and entry.run_time < cutoff
    ]
    batches = sorted({entry.batch_id for _, entry in old})
    doomed_docs = [key for key, _ in old]
    for batch_id in batches:
        doomed_docs += [
            k
            for k in (f"{VALIDATIONS}{batch_id}.html", f"{VALIDATIONS}{batch_id}.json")
            if docs_store.exists(k)
        ]
    wanted = set(batches)
    doomed_data = [
        key for key in data_store.list_keys(lake.GX_VALIDATIONS) if _batch_of_result(key) in wanted
    ]
    if not dry_run:
        docs_store.delete(doomed_docs)
        data_store.delete(doomed_data)
        refresh_pages(docs_store, {entry.day for _, entry in old})
    return PruneReport(batches=batches, objects=len(doomed_docs) + len(doomed_data), cutoff=cutoff)


def _batch_of_result(key: str) -> str:
    """The batch a stored GE result belongs to: ``<suite>/<batch>.json`` (or GE's older tuple layout)."""
    parts = key[len(lake.GX_VALIDATIONS) :].split("/")
    if len(parts) == 2:
        return parts[1][: -len(".json")] if parts[1].endswith(".json") else ""
    return parts[1] if len(parts) > 2 else ""
