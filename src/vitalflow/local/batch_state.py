"""Local batch state: one SQLite row per (batch, step), inserted at most once, with optional leases."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import datetime, timedelta, timezone
from pathlib import Path


class SqliteBatchState:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as con, con:
            # One write transaction: loaders started together each open the state, and a check then
            # change made outside one let two of them add the same column (the second one crashed).
            con.execute("BEGIN IMMEDIATE")
            con.execute(
                "CREATE TABLE IF NOT EXISTS batch_steps (batch_id TEXT NOT NULL, step TEXT NOT NULL, "
                "at TEXT NOT NULL, run_id TEXT, PRIMARY KEY (batch_id, step))"
            )
            columns = {row[1] for row in con.execute("PRAGMA table_info(batch_steps)")}
            if "run_id" not in columns:  # lakes made before leases existed
                con.execute("ALTER TABLE batch_steps ADD COLUMN run_id TEXT")
                con.execute("UPDATE batch_steps SET run_id = 'done'")  # their steps all completed

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30, isolation_level=None)

    def lease(self, batch_id: str, step: str, seconds: int) -> str | None:
        now = datetime.now(timezone.utc)
        stale = (now - timedelta(seconds=seconds)).isoformat()
        with closing(self._connect()) as con, con:
            con.execute("BEGIN IMMEDIATE")
            row = con.execute(
                "SELECT at, run_id FROM batch_steps WHERE batch_id = ? AND step = ?", (batch_id, step)
            ).fetchone()
            if row is not None and (row[1] is not None or row[0] > stale):
                return str(row[1] or "")
            con.execute(
                "INSERT OR REPLACE INTO batch_steps (batch_id, step, at, run_id) VALUES (?, ?, ?, NULL)",
                (batch_id, step, now.isoformat()),
            )
        return None

    def record_run(self, batch_id: str, step: str, run_id: str) -> None:
        with closing(self._connect()) as con, con:
            con.execute(
                "UPDATE batch_steps SET run_id = ? WHERE batch_id = ? AND step = ?", (run_id, batch_id, step)
            )

    def release(self, batch_id: str, step: str) -> None:
        with closing(self._connect()) as con, con:
            con.execute("DELETE FROM batch_steps WHERE batch_id = ? AND step = ?", (batch_id, step))
