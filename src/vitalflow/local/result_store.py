"""The local results database: one SQLite row per batch, never overwritten."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from vitalflow.models import BatchRecord

SCHEMA = """
CREATE TABLE IF NOT EXISTS batch_results (
    batch_id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    rows_in INTEGER NOT NULL,
    rows_processed INTEGER NOT NULL,
    rows_rejected INTEGER NOT NULL,
    anomaly_readings INTEGER NOT NULL,
    risk_level TEXT NOT NULL,
    model TEXT NOT NULL,
    tokens_in INTEGER NOT NULL,
    tokens_out INTEGER NOT NULL,
    cost_usd REAL NOT NULL,
    record TEXT NOT NULL
)
"""


class SqliteResultStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as con, con:
            con.execute(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def put(self, record: BatchRecord) -> bool:
        a, m = record.analysis, record.manifest
        with closing(self._connect()) as con, con:
            cursor = con.execute(
                "INSERT OR IGNORE INTO batch_results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record.batch_id,
                    record.created_at.isoformat(),
                    m.rows_in,
                    m.rows_processed,
                    m.rows_rejected,
                    record.report.anomaly_readings,
                    a.risk_level,
                    a.model,
                    a.tokens_in,
                    a.tokens_out,
                    a.cost_usd,
                    record.model_dump_json(),
                ),
            )
            return cursor.rowcount == 1

    def get(self, batch_id: str) -> BatchRecord | None:
        with closing(self._connect()) as con:
            row = con.execute("SELECT record FROM batch_results WHERE batch_id = ?", (batch_id,)).fetchone()
        return BatchRecord.model_validate_json(row[0]) if row else None
