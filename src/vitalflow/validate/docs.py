"""Great Expectations Data Docs for a whole batch.

The job validates a file chunk by chunk to bound memory, so GE produces one result per chunk; a
reviewer needs one page per batch. The chunk results are merged here (counts summed, percentages
recomputed, sample values capped) into a single suite result, stored in GE's validation results
store and rendered by GE's own site builder, so the site and its index are genuine Data Docs.
User ids never appear on the pages: samples for user_id rules are dropped.
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import great_expectations as gx
from great_expectations.core.expectation_validation_result import (
    ExpectationSuiteValidationResult,
    ExpectationValidationResult,
)
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.types.base import DataContextConfig, InMemoryStoreBackendDefaults
from great_expectations.data_context.types.resource_identifiers import (
    ExpectationSuiteIdentifier,
    ValidationResultIdentifier,
)

from vitalflow import lake
from vitalflow.ports import ObjectStore
from vitalflow.validate.suite import INDEX_COLUMN

SAMPLE = 20
PRIVATE_COLUMNS = {"user_id"}


def merge_results(
    chunks: list[ExpectationSuiteValidationResult], suite_name: str, meta: dict[str, Any]
) -> ExpectationSuiteValidationResult:
    """One suite result for the whole batch from the per-chunk results of both suite phases."""
    groups: dict[tuple[str, int], list[ExpectationValidationResult]] = {}
    for chunk in chunks:
        for position, evr in enumerate(chunk.results):
            groups.setdefault((chunk.suite_name, position), []).append(evr)
    merged = [_merge_expectation(evrs) for evrs in groups.values()]
    successful = sum(1 for evr in merged if evr.success)
    statistics = {
        "evaluated_expectations": len(merged),
        "successful_expectations": successful,
        "unsuccessful_expectations": len(merged) - successful,
        "success_percent": 100.0 * successful / len(merged) if merged else None,
    }
    base_meta = dict(chunks[0].meta) if chunks else {}
    base_meta.update(meta)
    return ExpectationSuiteValidationResult(
        success=successful == len(merged),
        results=merged,
        suite_name=suite_name,
        statistics=statistics,
        meta=base_meta,
    )


def _merge_expectation(evrs: list[ExpectationValidationResult]) -> ExpectationValidationResult:
    config = evrs[0].expectation_config
    kwargs = config.kwargs if config else {}
    private = bool({kwargs.get("column"), kwargs.get("column_A"), kwargs.get("column_B")} & PRIVATE_COLUMNS)
    element = sum(int(e.result.get("element_count") or 0) for e in evrs)
    missing = sum(int(e.result.get("missing_count") or 0) for e in evrs)
    unexpected = sum(int(e.result.get("unexpected_count") or 0) for e in evrs)
    nonmissing = element - missing
    result: dict[str, Any] = {
        "element_count": element,
        "missing_count": missing,
        "missing_percent": 100.0 * missing / element if element else None,
        "unexpected_count": unexpected,
        "unexpected_percent": 100.0 * unexpected / nonmissing if nonmissing else None,
        "unexpected_percent_total": 100.0 * unexpected / element if element else None,
        "unexpected_percent_nonmissing": 100.0 * unexpected / nonmissing if nonmissing else None,
        "unexpected_index_column_names": [INDEX_COLUMN],
    }
    if private:
        lines = [
            _line_only(item) for e in evrs for item in e.result.get("partial_unexpected_index_list") or []
        ]
        result.update(partial_unexpected_list=[], partial_unexpected_counts=[])
        result["partial_unexpected_index_list"] = lines[:SAMPLE]
    else:
        values = [v for e in evrs for v in e.result.get("unexpected_list") or []]
        counts = Counter(json.dumps(v, default=str) for v in values)
        result["partial_unexpected_list"] = values[:SAMPLE]
        result["partial_unexpected_counts"] = [
            {"value": json.loads(v), "count": c} for v, c in counts.most_common(SAMPLE)
        ]
        result["partial_unexpected_index_list"] = [
            item for e in evrs for item in e.result.get("partial_unexpected_index_list") or []
        ][:SAMPLE]
    return ExpectationValidationResult(
        success=all(e.success for e in evrs),
        expectation_config=config,
        result=result,
        exception_info=evrs[0].exception_info,
    )


def _line_only(item: Any) -> dict[str, Any]:
    return {INDEX_COLUMN: item.get(INDEX_COLUMN)} if isinstance(item, dict) else {}


def publish_docs(
    result: ExpectationSuiteValidationResult,
    *,
    batch_id: str,
    run_time: datetime,
    data_store: ObjectStore,
    docs_store: ObjectStore,
) -> str:
    """Store the batch's result, (re)build its page and the site index; return the page's key.

    GE builds the site on a local disk (its S3 backends are gone in 1.x), so the earlier results
    are fetched into a scratch folder, the site is built there, and what changed is published
    through the object stores; this works the same for a lake folder and for S3 buckets.
    """
    suite_name = result.suite_name
    results_prefix = f"{lake.GX_VALIDATIONS}{suite_name}/"
    with tempfile.TemporaryDirectory(prefix="vitalflow-docs-") as scratch:
        root = Path(scratch)
        results_dir, site_dir = root / "validations", root / "site"
        for stored in data_store.list_keys(results_prefix):
            if f"/{batch_id}/" in stored:
                continue  # a rerun after a crash replaces, never adds, a batch's page
            target = results_dir / stored[len(lake.GX_VALIDATIONS) :]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data_store.get_bytes(stored))
        context = _docs_context(results_dir, site_dir)
        run_id = RunIdentifier(run_name=batch_id, run_time=run_time)
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite_name),
            run_id=run_id,
            batch_identifier=batch_id,
        )
        context.validation_results_store.set(key, result)
        context.build_data_docs(resource_identifiers=[key])
        page_dir = f"validations/{suite_name}/{batch_id}/"
        data_store.delete([k for k in data_store.list_keys(f"{results_prefix}{batch_id}/")])
        docs_store.delete([k for k in docs_store.list_keys(f"{lake.DOCS}{page_dir}")])
        for path in sorted(results_dir.rglob(f"{batch_id}/**/*.json")):
            data_store.put_file(path, lake.GX_VALIDATIONS + path.relative_to(results_dir).as_posix())
        for path in sorted(p for p in site_dir.rglob("*") if p.is_file()):
            relative = path.relative_to(site_dir).as_posix()
            fresh = relative == "index.html" or relative.startswith(page_dir)
            if fresh or not docs_store.exists(lake.DOCS + relative):  # static assets go up once
                docs_store.put_file(path, lake.DOCS + relative)
    return f"{lake.DOCS}{page_dir}{run_id.to_tuple()[1]}/{batch_id}.html"


def _docs_context(results_dir: Path, site_dir: Path) -> Any:
    config = DataContextConfig(store_backend_defaults=InMemoryStoreBackendDefaults())
    config.stores["validation_results_store"] = {
        "class_name": "ValidationResultsStore",
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(results_dir)},
    }
    config.data_docs_sites = {
        "vitalflow": {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(site_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
    }
    return gx.get_context(project_config=config, mode="ephemeral")
