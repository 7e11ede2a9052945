"""Rows of the dashboard, folded from the pipeline's events; the same on a laptop and on AWS.

The page never lists the lake: the board is built once from the event log (or the state file on
AWS) and then follows each event, so a request reads memory. Only counts, names and ids are kept:
an event's error text or raw values never reach a row (the page must show aggregates only).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from typing import Any

from vitalflow import sources
from vitalflow.dashboard.tally import Tally

# Event (detail-type) -> the status it moves a batch to; the rank keeps a replayed event from moving it back.
STATUS = {
    "BatchValidating": "validating",
    "BatchValidated": "validated",
    "BatchAnalyzed": "analysed",
    "BatchEmailed": "emailed",
    "BatchFailed": "failed",
}
_RANK = {"validating": 0, "validated": 1, "analysed": 2, "emailed": 3, "failed": 3}
_BATCH_ID = re.compile(r"^[0-9a-f]{16}$")
TREND_DAYS = 30


@dataclass(frozen=True)
class Row:
    """One batch as the page shows it. ``id`` is the batch id, or ``key:<raw key>`` while validating."""

    id: str
    batch_id: str
    source: str
    file: str
    status: str
    received_at: str
    updated_at: str
    rows_in: int = 0
    reject_rate: float | None = None  # of the rows read: rejected / (processed + rejected)
    rows_processed: int = 0
    rows_rejected: int = 0
    anomaly_readings: int | None = None
    risk_level: str | None = None

    def message(self, event_type: str, replaces: str | None = None) -> dict[str, Any]:
        """The websocket message for this row after an event (``replaces``: its validating row's id)."""
        return {"type": event_type, **asdict(self), "replaces": replaces}


class Board:
    def __init__(self) -> None:
        self._rows: dict[int, Row] = {}  # by slot; slots grow, so this is first-seen order
        self._slots: dict[str, int] = {}  # batch id -> slot
        self._pending: dict[str, int] = {}  # raw key -> slot, while the batch id is unknown
        self._next = 0
        self.tally = Tally()
        self.version = 0
        self.replaced: str | None = None  # the validating row the last event turned into a batch's row

    def apply(self, event: Mapping[str, Any]) -> Row | None:
        """Fold one event (EventBridge shape: detail-type, detail, time); the row it changed, if any."""
        self.replaced = None
        status = STATUS.get(str(event.get("detail-type", "")))
        detail = event.get("detail")
        if status is None or not isinstance(detail, Mapping):
            return None
        given = detail.get("source")
        ref: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
        key = str(ref.get("key") or "")
        batch_id = str(detail.get("batch_id") or "")
        if batch_id and not _BATCH_ID.match(batch_id):
            return None
        when = _time(event.get("time"))
        slot = self._slot_of(batch_id, key)
        current = old = self._rows.get(slot)
        if current is None:
            name = sources.printable(str(ref.get("name") or sources.from_key(key))) or sources.UNKNOWN
            current = Row("", batch_id, name, _file(key), status, when, when)
        elif _RANK[status] < _RANK[current.status]:
            status = current.status
        batch_id = batch_id or current.batch_id
        row = replace(current, id=batch_id or f"key:{key}", batch_id=batch_id, status=status, updated_at=when)
        self._rows[slot] = row = replace(row, **_counts(detail))
        self.tally.count(old, -1)
        self.tally.count(row, 1)
        if old is None:
            self.tally.arrived(row)
        self.version += 1
        return row

    def _slot_of(self, batch_id: str, key: str) -> int:
        """The batch's row; a validating row of its raw key becomes it, in place (same position)."""
        if not batch_id:
            if key not in self._pending:
                self._pending[key] = self._new_slot()
            return self._pending[key]
        slot = self._slots.get(batch_id)
        pending = self._pending.pop(key, None)
        if pending is not None and pending in self._rows:
            self.replaced = self._rows[pending].id
            if slot is None:
                slot = pending
            else:  # a rerun of a known batch: its first row stays, the validating one goes
                del self._rows[pending]
        if slot is None:
            slot = self._new_slot()
        self._slots[batch_id] = slot
        return slot

    def _new_slot(self) -> int:
        self._next += 1
        return self._next

    def rows(self, *, source: str | None = None, since: str | None = None, limit: int = 200) -> list[Row]:
        """Newest first; ``since`` an ISO time or date (UTC) compared with when the batch arrived."""
        found: list[Row] = []
        for row in reversed(self._rows.values()):
            if since is not None and row.received_at < since:
                break  # rows arrive in time order
            if source is None or row.source == source:
                found.append(row)
                if len(found) >= limit:
                    break
        return found

    def trends(self, now: datetime | None = None, days: int = TREND_DAYS) -> dict[str, Any]:
        """Per source and day: reject rate and anomalous readings over the last ``days``; quiet sources."""
        return self.tally.trends(now or datetime.now(timezone.utc), days)

    def state(self, limit: int = 200) -> dict[str, Any]:
        """What a page starts from: the newest rows and the trends; ``tally`` lets the AWS function
        rebuild the board from this file alone."""
        trends = self.trends()
        tally = self.tally.dump(trends["since"])
        return {"batches": [asdict(r) for r in self.rows(limit=limit)], "trends": trends, "tally": tally}

    @classmethod
    def from_events(cls, events: Iterable[Mapping[str, Any]]) -> Board:
        board = cls()
        for event in events:
            board.apply(event)
        return board

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Board:
        """A board from a state file (newest first), so the AWS function need not replay history."""
        board = cls()
        kept = state.get("tally")
        tally: Mapping[str, Any] = kept if isinstance(kept, Mapping) else {}
        board.tally = Tally(tally.get("days"), tally.get("times"))
        for item in reversed(list(state.get("batches", []))):
            try:
                row = Row(**item)
            except TypeError:
                continue  # a state file from another version: its row is rebuilt by the next event
            slot = board._new_slot()
            board._rows[slot] = row
            if row.batch_id:
                board._slots[row.batch_id] = slot
            else:
                board._pending[row.id.removeprefix("key:")] = slot
        return board


def _counts(detail: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("rows_in", "rows_processed", "rows_rejected", "anomaly_readings"):
        value = detail.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            out[name] = value
    if "rows_rejected" in out and "rows_processed" in out:
        seen = out["rows_processed"] + out["rows_rejected"]
        out["reject_rate"] = out["rows_rejected"] / seen if seen else None
    risk = detail.get("risk_level")
    if isinstance(risk, str) and risk.isalpha():
        out["risk_level"] = risk[:16]
    return out


def _file(key: str) -> str:
    return sources.printable(key.rsplit("/", 1)[-1]) or "?"


def _time(value: Any) -> str:
    """An event's time as an ISO UTC string (sortable), now when it has none."""
    try:
        when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        when = datetime.now(timezone.utc)
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc).isoformat(timespec="milliseconds")
