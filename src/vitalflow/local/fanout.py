"""Local stand-in for the SNS fan-out topic: each message, with its attributes, as a JSON line."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any


class LocalPublisher:
    def __init__(self, path: Path) -> None:
        self.path = path

    def publish(self, subject: str, message: Mapping[str, Any], attributes: Mapping[str, str]) -> str:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        message_id = str(uuid.uuid4())
        line = {
            "id": message_id,
            "time": datetime.now(timezone.utc).isoformat(),
            "subject": subject,
            "attributes": dict(attributes),
            "message": dict(message),
        }
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(line, default=str) + "\n")
        return message_id

    def messages(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line]
