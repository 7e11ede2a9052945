"""The MIME message: text and HTML alternatives, the chart attached inline by Content-ID."""

from __future__ import annotations

import html
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import make_msgid

from vitalflow.digest.model import Digest
from vitalflow.models import BatchRecord, Manifest
from vitalflow.notify.render import render_digest, render_failure, render_report


def report_message(
    record: BatchRecord, *, sender: str, recipients: Sequence[str], docs_url: str | None
) -> EmailMessage:
    from vitalflow.notify.chart import hourly_chart  # matplotlib: the digest function has none

    cid = make_msgid(domain="vitalflow.local")  # "<...@vitalflow.local>"
    text, html = render_report(record, docs_url, cid[1:-1])
    message = _envelope(sender, recipients, subject(record))
    message["X-Vitalflow-Batch"] = record.batch_id
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    html_part = message.get_body(preferencelist=("html",))
    assert isinstance(html_part, EmailMessage)
    html_part.add_related(
        hourly_chart(record.report.hourly),
        maintype="image",
        subtype="png",
        cid=cid,
        filename="hourly-trend.png",
    )
    return message


def failure_message(manifest: Manifest, *, sender: str, recipients: Sequence[str]) -> EmailMessage:
    text, html = render_failure(manifest)
    name = (manifest.source.key.rsplit("/", 1)[-1] or manifest.batch_id)[:80]
    message = _envelope(sender, recipients, f"vitalflow: file {name} could not be processed")
    message["X-Vitalflow-Batch"] = manifest.batch_id
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def digest_message(digest: Digest, *, sender: str, recipients: Sequence[str]) -> EmailMessage:
    """The daily digest; the trend charts are HTML bars, so the message needs no image."""
    text, html = render_digest(digest)
    message = _envelope(sender, recipients, digest_subject(digest))
    message["X-Vitalflow-Batch"] = f"digest-{digest.day.isoformat()}"  # the outbox names files by it
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def digest_subject(digest: Digest) -> str:
    found = len(digest.findings)
    summary = f"{found} finding(s) need attention" if found else "nothing unusual"
    return f"vitalflow digest {digest.day.isoformat()}: {summary}"


def one_line(text: str) -> str:
    """A header value from any text: line breaks and other control characters become spaces.

    File names come from uploaders; a name with a line break must not break (or inject) a header.
    """
    return "".join(" " if not ch.isprintable() else ch for ch in text).strip()


def subject(record: BatchRecord) -> str:
    report = record.report
    return (
        f"vitalflow: batch {record.batch_id} — {record.analysis.risk_level} risk, "
        f"{report.anomaly_readings:,} anomalies in {report.overview.rows_processed:,} readings"
    )


def _envelope(sender: str, recipients: Sequence[str], subject_line: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = one_line(subject_line)
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    return message


def job_failure_message(
    job_name: str, run_id: str, state: str, detail: str, *, sender: str, recipients: Sequence[str]
) -> EmailMessage:
    """An alert for a Glue run that ended FAILED, TIMEOUT or STOPPED.

    The run may have stopped before committing its batch or after (while registering partitions
    or announcing it), so the alert says what a rerun does in either case, and claims neither.
    """
    message = _envelope(sender, recipients, f"vitalflow: validation job {state.lower()} ({run_id[:20]})")
    text = (
        f"The validation job {job_name} ended as {state}.\n\nRun: {run_id}\nGlue said: {detail or '-'}\n\n"
        "The run stopped before its batch was analysed. Re-running the job with the same arguments\n"
        "finishes it either way: a batch it had not committed is validated again, and one it had\n"
        "committed is announced again, then analysed and emailed. Nothing is processed or emailed twice.\n"
        "A run that waited in Glue's queue for more than 15 minutes (a burst above the job's capacity)\n"
        "ends FAILED the same way. To rerun it:\n\n"
        f'  aws glue start-job-run --job-name {job_name} --arguments "$(aws glue get-job-run \\\n'
        f'    --job-name {job_name} --run-id {run_id} --query JobRun.Arguments)"\n'
    )
    message.set_content(text)
    message.add_alternative(f"<html><body><pre>{html.escape(text)}</pre></body></html>", subtype="html")
    return message


def analysis_failure_message(
    batch_id: str, error: str, *, sender: str, recipients: Sequence[str]
) -> EmailMessage:
    """An alert for a committed batch whose analysis failed after every retry (no report follows)."""
    message = _envelope(sender, recipients, f"vitalflow: batch {batch_id} could not be analysed")
    message["X-Vitalflow-Batch"] = batch_id
    text = (
        f"Batch {batch_id} was validated and committed, but its analysis failed after every retry,\n"
        f"so no report will be sent for it.\n\nError: {error or '-'}\n\n"
        "Fix the cause (for example, missing Athena views or permissions), then send the batch's\n"
        "BatchValidated event again; the report follows once, as usual.\n"
    )
    message.set_content(text)
    message.add_alternative(f"<html><body><pre>{html.escape(text)}</pre></body></html>", subtype="html")
    return message
