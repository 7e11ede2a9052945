"""The table ``batch_commits``: one row per committed batch, what the views users query keep.

On AWS each row is its own object, the commit marker the job writes right after the manifest
(``validate/commit.py``); the local engine builds the same rows from the manifests it trusts.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa

from vitalflow.contract import COMMIT_SCHEMA, one_row_parquet
from vitalflow.models import Manifest


def commit_table(manifests: Iterable[Manifest]) -> pa.Table:
    rows = [
        {
            "batch_id": m.batch_id,
            "committed_at": m.finished_at or m.started_at,
            "rows_processed": m.rows_processed,
            "rows_rejected": m.rows_rejected,
        }
        for m in manifests
    ]
    return pa.Table.from_pylist(rows, schema=COMMIT_SCHEMA)


def marker_bytes(manifest: Manifest) -> bytes:
    """The batch's commit marker: its ``batch_commits`` row as a Parquet object."""
    return one_row_parquet(commit_table([manifest]))
