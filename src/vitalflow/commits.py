"""The table ``batch_commits``: one row per committed batch, what the views users query keep.

On AWS each row is its own object, the commit marker the job writes right after the manifest
(``validate/commit.py``); the local engine builds the same rows from the manifests it trusts.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from vitalflow.models import Manifest


def commit_columns(manifests: Iterable[Manifest]) -> dict[str, list[Any]]:
    """The ``batch_commits`` rows of some committed batches, column by column (``COMMIT_SCHEMA``)."""
    found = list(manifests)
    return {
        "batch_id": [m.batch_id for m in found],
        "committed_at": [m.finished_at or m.started_at for m in found],
        "rows_processed": [m.rows_processed for m in found],
        "rows_rejected": [m.rows_rejected for m in found],
        "source": [m.source.name for m in found],
        "rows_replaced": [m.rows_replaced for m in found],
    }


def marker_bytes(manifest: Manifest) -> bytes:
    """The batch's commit marker: its ``batch_commits`` row as a Parquet object."""
    import pyarrow as pa

    from vitalflow.contract import COMMIT_SCHEMA, one_row_parquet

    return one_row_parquet(pa.table(commit_columns([manifest]), schema=COMMIT_SCHEMA))
