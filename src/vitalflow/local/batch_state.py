"""Local batch state: one SQLite row per (batch, step), inserted at most once."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path


class SqliteBatchState:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as con, con:
            con.execute(
                "CREATE TABLE IF NOT EXISTS batch_steps "
                "(batch_id TEXT NOT NULL, step TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY (batch_id, step))"
            )

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def claim(self, batch_id: str, step: str) -> bool:
        with closing(self._connect()) as con, con:
            cursor = con.execute(
                "INSERT OR IGNORE INTO batch_steps VALUES (?, ?, ?)",
                (batch_id, step, datetime.now(timezone.utc).isoformat()),
            )
            return cursor.rowcount == 1

    def release(self, batch_id: str, step: str) -> None:
        with closing(self._connect()) as con, con:
            con.execute("DELETE FROM batch_steps WHERE batch_id = ? AND step = ?", (batch_id, step))

    def done(self, batch_id: str, step: str) -> bool:
        with closing(self._connect()) as con:
            row = con.execute(
                "SELECT 1 FROM batch_steps WHERE batch_id = ? AND step = ?", (batch_id, step)
            ).fetchone()
        return row is not None
