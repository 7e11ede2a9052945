"""Local stand-in for EventBridge: events appended to a JSON-lines log in the lake."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any


class LocalEventBus:
    """Keeps the events a deployed pipeline would publish, so a local run can be inspected the same way."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def put(self, detail_type: str, detail: Mapping[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(
            {
                "time": datetime.now(timezone.utc).isoformat(),
                "detail-type": detail_type,
                "detail": dict(detail),
            },
            default=str,
        )
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")

    def events(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line]
