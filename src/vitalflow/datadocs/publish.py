"""Publishing a batch's Data Docs: its GE result, its page, its index entry, then the pages above it.

A rerun of a batch (same content, same id) reads its record to delete its previous entry, so a
batch is listed once. The GE result itself is kept for audit and tooling at
``gx/validations/<suite>/<batch>.json`` in the data store.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import PurePosixPath
from typing import Any

from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResult

from vitalflow import lake
from vitalflow.datadocs.page import DocsFacts, render_batch_page
from vitalflow.datadocs.site import HTML_TYPE, VALIDATIONS, IndexEntry, ensure_stylesheet, refresh_pages
from vitalflow.exceptions import ObjectNotFound
from vitalflow.ports import ObjectStore

JSON_TYPE = "application/json"


def publish_docs(
    result: ExpectationSuiteValidationResult,
    *,
    batch_id: str,
    run_time: datetime,
    data_store: ObjectStore,
    docs_store: ObjectStore,
    facts: DocsFacts,
) -> str:
    """Store the GE result, publish the batch page and index entry, refresh the index; return the page key."""
    run_time = (run_time if run_time.tzinfo else run_time.replace(tzinfo=timezone.utc)).astimezone(
        timezone.utc
    )
    suite_name = result.suite_name or "suite"
    data_store.put_bytes(
        f"{lake.GX_VALIDATIONS}{suite_name}/{batch_id}.json",
        json.dumps(result.to_json_dict(), default=str, sort_keys=True).encode("utf-8"),
        JSON_TYPE,
    )
    stylesheet = ensure_stylesheet(docs_store)
    entry = _entry(result, batch_id, run_time, facts)
    page_key = f"{VALIDATIONS}{batch_id}.html"
    docs_store.put_bytes(
        page_key, render_batch_page(result, entry, facts, stylesheet).encode("utf-8"), HTML_TYPE
    )
    days = {entry.day} | _replace_entry(docs_store, entry, suite_name)
    refresh_pages(docs_store, days, stylesheet)
    return page_key


def _entry(
    result: ExpectationSuiteValidationResult, batch_id: str, run_time: datetime, facts: DocsFacts
) -> IndexEntry:
    rejected = facts.rows_rejected
    passed = rejected == 0 if rejected is not None else bool(result.success)
    return IndexEntry(
        batch_id=batch_id,
        run_time=run_time,
        status="passed" if passed else "failed",
        rows_in=facts.rows_in,
        rows_processed=facts.rows_processed,
        rows_rejected=rejected,
        source_name=PurePosixPath(facts.source.split("?", 1)[0]).name if facts.source else "",
    )


def _replace_entry(docs_store: ObjectStore, entry: IndexEntry, suite_name: str) -> set[str]:
    """Write the batch's entry and record; delete the entry of an earlier run. Returns that run's day."""
    record_key = f"{VALIDATIONS}{entry.batch_id}.json"
    previous = _read_record(docs_store, record_key)
    record = {
        "batch_id": entry.batch_id,
        "run_time": entry.run_time.isoformat(),
        "entry": entry.key,
        "suite": suite_name,
    }
    docs_store.put_bytes(entry.key, json.dumps(record).encode("utf-8"), JSON_TYPE)
    docs_store.put_bytes(record_key, json.dumps(record).encode("utf-8"), JSON_TYPE)
    old_key = previous.get("entry") if previous else None
    if not isinstance(old_key, str) or old_key == entry.key:
        return set()
    docs_store.delete([old_key])  # a rerun replaces, never adds, its batch's entry
    old = IndexEntry.from_key(old_key)
    return {old.day} if old is not None else set()


def _read_record(docs_store: ObjectStore, key: str) -> dict[str, Any] | None:
    try:
        record = json.loads(docs_store.get_bytes(key))
    except (ObjectNotFound, ValueError):
        return None
    return record if isinstance(record, dict) else None
