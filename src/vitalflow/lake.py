"""Where things live in the lake, the same on disk and in the S3 data bucket."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

RAW = "raw/"
# Both tables are partitioned on ``dt`` (YYYY-MM-DD, UTC): event date for processed rows,
# ingestion date for rejected rows (whose event_time may be unreadable).
PARTITION_COLUMN = "dt"
PROCESSED = "processed/"
REJECTED = "rejected/"
MANIFESTS = "manifests/"
COMMITS = "commits/"  # one marker per committed batch: what Athena's committed views read
SUMMARIES = "summaries/"  # one row per analysed batch, partitioned by ingestion date
STAGING = "_staging/"
DOCS = "docs/"
GX_VALIDATIONS = "gx/validations/"
OUTBOX = "outbox/"

# The catalog's tables over the lake. processed_files and rejected_files read every file under
# their prefix (on Athena, a crashed run's too); users query views of committed batches over them
# (``sql/views/processed.sql``, ``rejected.sql``). Locally the same names and views.
FILES_TABLES: dict[str, str] = {"processed": "processed_files", "rejected": "rejected_files"}
COMMITS_TABLE = "batch_commits"
SUMMARIES_TABLE = "batch_summaries"


def raw_key(name: str, received: datetime) -> str:
    return f"{RAW}{received:%Y-%m-%d}/{name}"


def manifest_key(batch_id: str) -> str:
    return f"{MANIFESTS}{batch_id}.json"


def commit_key(batch_id: str) -> str:
    return f"{COMMITS}{batch_id}.parquet"


# The summary schema's version, in each summary's file name: bumped when SUMMARY_SCHEMA gains a column,
# so that a reader knows without opening a file which summaries lack columns (read by name, see
# DuckDBEngine) and which are current (read as they are, with no per-file footer read).
SUMMARY_VERSION = "v2"


def summary_key(dt: str, batch_id: str, version: str = SUMMARY_VERSION) -> str:
    suffix = f".{version}" if version else ""
    return f"{SUMMARIES}dt={dt}/{batch_id}{suffix}.parquet"


def is_current_summary(key: str) -> bool:
    return key.endswith(f".{SUMMARY_VERSION}.parquet")


# How each table's files are partitioned. Processed rows by the month of their event time (the
# Iceberg partition ``month(event_time)``): a backfill over decades of readings writes a file a month,
# not a file a day, and a daily batch still one file; every row keeps its event date in ``dt``.
# Rejected rows by ingestion date (``dt``, identity): their event time may be unreadable.
MONTH_PARTITION = "event_month"
PARTITION_FIELDS: dict[str, str] = {"processed": MONTH_PARTITION, "rejected": PARTITION_COLUMN}


def data_key(table: str, label: str, batch_id: str, part: int = 0) -> str:
    """Files of a batch in a partition; names are fixed by batch and order, so a rerun replaces, never adds.

    ``label``: the partition's value (``2026-10`` for a month of processed rows, ``2026-10-31`` for
    a day of rejected ones), shown in a Hive-style folder for people browsing the bucket. A partition
    normally has one file; a batch spread over more partitions than the writer keeps open at once
    gets further parts (``<batch>-1.parquet``, ...) for partitions it comes back to.
    """
    suffix = f"-{part}" if part else ""
    return f"{table}/{PARTITION_FIELDS[table]}={label}/{batch_id}{suffix}.parquet"


def batch_id_for(sha256: str) -> str:
    """Content-addressed: the same bytes are the same batch, whatever the file is called."""
    return sha256[:16]


def sha256_file(path: Path) -> str:
    """Hex digest of a file, read in blocks (``hashlib.file_digest`` needs Python 3.11)."""
    with path.open("rb") as fh:
        return sha256_read(fh)[0]


def sha256_read(fh: BinaryIO) -> tuple[str, int]:
    """Hex digest and size of what ``fh`` reads to its end, read in blocks (a file or a stream)."""
    digest, size = hashlib.sha256(), 0
    for block in iter(lambda: fh.read(1 << 20), b""):
        digest.update(block)
        size += len(block)
    return digest.hexdigest(), size
