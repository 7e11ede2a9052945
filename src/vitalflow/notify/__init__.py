"""Stage 5, notify: email the batch report (or a failure alert) through the runtime's mailer."""

from __future__ import annotations

from collections.abc import Sequence

from vitalflow.models import BatchRecord, Manifest
from vitalflow.notify.message import failure_message, report_message
from vitalflow.ports import Mailer


def notify(
    record: BatchRecord, mailer: Mailer, *, sender: str, recipients: Sequence[str], docs_url: str | None
) -> str:
    return mailer.send(report_message(record, sender=sender, recipients=recipients, docs_url=docs_url))


def notify_failure(manifest: Manifest, mailer: Mailer, *, sender: str, recipients: Sequence[str]) -> str:
    return mailer.send(failure_message(manifest, sender=sender, recipients=recipients))
