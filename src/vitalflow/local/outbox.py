"""Local stand-in for SES: each message as an ``.eml`` file, plus an ``.html`` preview a browser opens.

The preview inlines the chart as a data URI, since a browser cannot resolve ``cid:`` references.
"""

from __future__ import annotations

import base64
from datetime import datetime, timezone
from email.message import EmailMessage
from pathlib import Path

from vitalflow.local.object_store import LocalObjectStore


class OutboxMailer:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._files = LocalObjectStore(directory)  # atomic writes

    def send(self, message: EmailMessage) -> str:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        name = f"{stamp}-{message.get('X-Vitalflow-Batch', 'message')}"
        self._files.put_bytes(f"{name}.eml", message.as_bytes())
        html = preview(message)
        if html is not None:
            self._files.put_bytes(f"{name}.html", html.encode("utf-8"))
        return str(self.directory / f"{name}.eml")


def preview(message: EmailMessage) -> str | None:
    """The HTML part with every ``cid:`` image replaced by a data URI."""
    body = message.get_body(preferencelist=("html",))
    if body is None:
        return None
    html = body.get_content()
    for part in message.walk():
        cid = part.get("Content-ID")
        if cid and part.get_content_maintype() == "image":
            data = base64.b64encode(part.get_payload(decode=True)).decode("ascii")  # type: ignore[arg-type]
            html = html.replace(f"cid:{cid.strip('<>')}", f"data:{part.get_content_type()};base64,{data}")
    return str(html)
