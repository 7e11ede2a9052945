"""Optimistic concurrency for each reading once: did another job store readings of these dates since?

A batch classifies its rows against the processed table as one snapshot showed it
(``validate/loaded.py``), and ``add_files`` checks nothing, so two jobs loading the same new readings
at the same moment would both find them new and both store them. So the classification remembers
what it read (``ReadAt``) and the commit, on the table it is about to commit to, looks at the
snapshots committed after that one: if any added a data file whose event times may fall on one of
the batch's dates, the classification is stale and the batch must be validated again
(``StoredReadingsChanged``). The check and the commit are one optimistic step: the commit asserts
the table's current snapshot, so a job committing in between makes it reload and check again.

Files are judged by their ``event_time`` bounds (the file's own column statistics, whatever the
table's partitioning), so a batch of other dates never makes this one start over; a file without
bounds counts as holding every date. Compaction's snapshots move the same rows into new files and
are skipped.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyiceberg.table import Table
    from pyiceberg.table.snapshots import Snapshot

COMPACTION = {"vitalflow.operation": "compaction"}  # compaction.py's snapshot property: same rows
_DAY_US = 86_400_000_000


@dataclass(frozen=True)
class ReadAt:
    """What a classification read: the processed table's snapshot (None: no table or no snapshot yet)
    and the event dates (``YYYY-MM-DD``) of the stored readings it compared with."""

    snapshot_id: int | None
    dates: frozenset[str]


def stored_since(table: Table, read: ReadAt) -> bool:
    """True when a snapshot committed after ``read.snapshot_id`` may hold readings of its dates
    (or when that snapshot is no longer in the table's history: nothing can be ruled out)."""
    if not read.dates:
        return False
    days = sorted(_day_number(d) for d in read.dates)
    field_id = table.schema().find_field("event_time").field_id
    for snapshot in _since(table, read.snapshot_id):
        if snapshot is None:
            return True
        if _skipped(snapshot):
            continue
        if any(_may_hold(bounds, days) for bounds in _added_bounds(table, snapshot, field_id)):
            return True
    return False


def _since(table: Table, snapshot_id: int | None) -> list[Snapshot | None]:
    """The snapshots after ``snapshot_id``, newest first; a trailing None when it was not found."""
    from pyiceberg.table.snapshots import ancestors_of

    current = table.current_snapshot()
    if current is None or current.snapshot_id == snapshot_id:
        return []
    newer: list[Snapshot | None] = []
    for snapshot in ancestors_of(current, table.metadata):
        if snapshot.snapshot_id == snapshot_id:
            return newer
        newer.append(snapshot)
    return newer if snapshot_id is None else [*newer, None]


def _skipped(snapshot: Snapshot) -> bool:
    summary = snapshot.summary
    return summary is not None and all(summary[k] == v for k, v in COMPACTION.items())


def _added_bounds(table: Table, snapshot: Snapshot, field_id: int) -> list[tuple[Any, Any]]:
    """(lower, upper) event-time bounds (µs, None when unknown) of each data file the snapshot added."""
    from pyiceberg.conversions import from_bytes
    from pyiceberg.manifest import ManifestContent, ManifestEntryStatus
    from pyiceberg.types import PrimitiveType

    kind = table.schema().find_field(field_id).field_type
    assert isinstance(kind, PrimitiveType)  # event_time: a timestamp
    found = []
    for manifest in snapshot.manifests(table.io):
        if manifest.added_snapshot_id != snapshot.snapshot_id or manifest.content != ManifestContent.DATA:
            continue
        if manifest.added_files_count == 0:
            continue
        for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=True):
            if entry.status != ManifestEntryStatus.ADDED or entry.snapshot_id != snapshot.snapshot_id:
                continue
            lower = (entry.data_file.lower_bounds or {}).get(field_id)
            upper = (entry.data_file.upper_bounds or {}).get(field_id)
            found.append(
                (
                    None if lower is None else from_bytes(kind, lower),
                    None if upper is None else from_bytes(kind, upper),
                )
            )
    return found


def _may_hold(bounds: tuple[Any, Any], days: list[int]) -> bool:
    """Whether event times within ``bounds`` (µs since the epoch, UTC) can fall on one of ``days``."""
    lower, upper = bounds
    if lower is None or upper is None:
        return True
    first = bisect.bisect_left(days, int(lower) // _DAY_US)
    return first < len(days) and days[first] <= int(upper) // _DAY_US


def _day_number(label: str) -> int:
    """Days since the epoch of a ``YYYY-MM-DD`` event date (UTC)."""
    start = datetime.combine(date.fromisoformat(label), datetime.min.time(), tzinfo=timezone.utc)
    return int(start.timestamp()) // 86_400
