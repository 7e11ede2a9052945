"""Per source: daily totals and recent arrival times, kept as rows change rather than recounted.

The trends then cost the days shown, not the batches ever seen, and survive in the AWS state file,
which keeps only the newest rows: a board rebuilt from it still knows the last 30 days.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol

KEEP_TIMES = 50  # arrivals kept per source: enough for a usual gap
QUIET_MIN = timedelta(days=1)


class Counted(Protocol):  # a board's Row (frozen: read-only attributes)
    @property
    def batch_id(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def received_at(self) -> str: ...
    @property
    def rows_processed(self) -> int: ...
    @property
    def rows_rejected(self) -> int: ...
    @property
    def anomaly_readings(self) -> int | None: ...


class Tally:
    def __init__(self, days: Mapping[str, Any] | None = None, times: Mapping[str, Any] | None = None) -> None:
        self.days: dict[str, dict[str, list[int]]] = defaultdict(
            dict
        )  # source -> day -> [rows, rejected, anomalies]
        for source, by_day in (days or {}).items():
            self.days[source] = {d: [int(x) for x in cell][:3] for d, cell in by_day.items()}
        self.times: dict[str, list[str]] = defaultdict(list, {s: list(t) for s, t in (times or {}).items()})

    def count(self, row: Counted | None, sign: int) -> None:
        """Add (``sign`` 1) or take away (-1) a batch's row from its source's day."""
        if row is None or not row.batch_id:
            return
        cell = self.days[row.source].setdefault(row.received_at[:10], [0, 0, 0])
        cell[0] += sign * (row.rows_processed + row.rows_rejected)
        cell[1] += sign * row.rows_rejected
        cell[2] += sign * (row.anomaly_readings or 0)

    def arrived(self, row: Counted) -> None:
        kept = self.times[row.source]
        kept.append(row.received_at)
        del kept[:-KEEP_TIMES]

    def trends(self, now: datetime, days: int) -> dict[str, Any]:
        first = (now - timedelta(days=days - 1)).date().isoformat()
        series = {}
        for name, by_day in sorted(self.days.items()):
            points = [
                {"day": day, "reject_rate": (r / n if n else None), "anomalies": a, "rows": n}
                for day, (n, r, a) in sorted(by_day.items())
                if day >= first
            ]
            if points:
                series[name] = points
        return {"days": days, "since": first, "sources": series, "quiet": self.quiet(now)}

    def quiet(self, now: datetime) -> list[dict[str, Any]]:
        """Sources whose last batch is older than three of their usual gaps (and at least a day)."""
        found = []
        for name, kept in sorted(self.times.items()):
            times = sorted(datetime.fromisoformat(t) for t in kept)
            if not times:
                continue
            gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:])]
            usual = timedelta(seconds=statistics.median(gaps)) if gaps else QUIET_MIN
            silent = now - times[-1]
            if silent > max(QUIET_MIN, 3 * usual):
                hours = silent // timedelta(hours=1)
                found.append({"source": name, "last_batch": times[-1].isoformat(), "silent_hours": hours})
        return found

    def dump(self, since: str) -> dict[str, Any]:
        """What the state file keeps: the days from ``since`` on, and the arrival times."""
        days = {s: {d: c for d, c in by_day.items() if d >= since} for s, by_day in self.days.items()}
        return {"days": {s: d for s, d in days.items() if d}, "times": dict(self.times)}
