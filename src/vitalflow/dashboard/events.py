"""The local event log (``events/events.jsonl``), read incrementally: only what was appended since."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


class EventLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0
        self._inode: int | None = None

    def read_new(self) -> list[dict[str, Any]]:
        """Complete lines written since the last call (a half-written last line waits for the next)."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return []
        if stat.st_ino != self._inode or stat.st_size < self._offset:  # replaced or truncated: start over
            self._inode, self._offset = stat.st_ino, 0
        if stat.st_size == self._offset:
            return []
        with self.path.open("rb") as fh:
            fh.seek(self._offset)
            data = fh.read()
        end = data.rfind(b"\n") + 1
        self._offset += end
        events = []
        for line in data[:end].splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue  # not an event: nothing to show
            if isinstance(event, dict):
                events.append(event)
        return events
