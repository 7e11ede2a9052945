"""The report email: MIME structure, inline chart, escaping, failure alert, outbox, and SES on moto."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses import ses_backends

from factories import manifest, record, report
from vitalflow.aws.ses import SesMailer
from vitalflow.enrich.rules import RulesAnalyst
from vitalflow.local.outbox import OutboxMailer
from vitalflow.notify import notify, notify_failure
from vitalflow.notify.message import report_message

HOSTILE = report(
    rules={"fever": (30, 2)},
    users=[
        ("<script>alert('x')</script>", 20, {"fever": 20}),
        ('=HYPERLINK("http://evil","click")', 10, {"fever": 10}),
    ],
    reasons=[("<b>bold</b>:x", 2), ("heart_rate:missing", 1)],
)


def parts(message):
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    images = [p for p in message.walk() if p.get_content_maintype() == "image"]
    return text, html, images


def test_structure_and_inline_chart():
    rec = record()
    message = report_message(
        rec,
        sender="vf@example.org",
        recipients=["a@example.org", "b@example.org"],
        docs_url="https://docs.example.org/validations/x.html",
    )
    assert message.get_content_type() == "multipart/alternative"
    text, html, images = parts(message)
    (image,) = images
    cid = image["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in html
    assert image.get_payload(decode=True).startswith(b"\x89PNG")
    assert message["To"] == "a@example.org, b@example.org"
    assert rec.batch_id in message["Subject"] and rec.analysis.risk_level in message["Subject"]
    for needle in (
        rec.analysis.summary,
        "SpO2 below 92%",
        "user-17",
        "heart_rate:out_of_range",
        "https://docs.example.org/validations/x.html",
    ):
        assert needle in text and needle.replace("%", "%") in html, needle
    assert all(insight in text for insight in rec.analysis.insights)


def test_values_from_the_data_are_inert():
    message = report_message(
        record(HOSTILE), sender="vf@example.org", recipients=["a@example.org"], docs_url=None
    )
    text, html, _ = parts(message)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>bold</b>" not in html
    assert "'=HYPERLINK(" in html.replace("&#39;", "'") and "'=HYPERLINK(" in text
    assert "\n=HYPERLINK" not in text and "- =HYPERLINK" not in text


def test_fallback_is_stated_plainly():
    rep = report(rules={"fever": (5, 1)})
    analysis = (
        RulesAnalyst()
        .analyze(rep)
        .model_copy(update={"fallback_reason": "Bedrock call failed: ThrottlingException"})
    )
    text, html, _ = parts(
        report_message(record(rep, analysis), sender="a@x.org", recipients=["b@x.org"], docs_url=None)
    )
    assert "AI analyst was unavailable" in text and "ThrottlingException" in html


def test_failure_alert(tmp_path):
    bad = manifest(
        status="failed", error="the file is not valid UTF-8 (byte 0xe9 on line 57); re-export it as UTF-8 CSV"
    )
    path = notify_failure(
        bad, OutboxMailer(tmp_path), sender="vf@example.org", recipients=["ops@example.org"]
    )
    message = email.message_from_bytes(Path(path).read_bytes(), policy=email.policy.default)
    assert "could not be processed" in message["Subject"] and "clinic-a.csv" in message["Subject"]
    assert "line 57" in message.get_body(preferencelist=("plain",)).get_content()


def test_outbox_writes_eml_and_browser_preview(tmp_path):
    path = notify(
        record(), OutboxMailer(tmp_path), sender="vf@example.org", recipients=["a@example.org"], docs_url=None
    )
    assert path.endswith(".eml")
    preview = (tmp_path / path.rsplit("/", 1)[1].replace(".eml", ".html")).read_text()
    assert "cid:" not in preview and "data:image/png;base64," in preview


@pytest.fixture
def aws(aws_credentials):
    with mock_aws():
        yield aws_credentials


def test_sent_through_ses(aws):
    boto3.client("sesv2").create_email_identity(EmailIdentity="vf@example.org")
    rec = record()
    message_id = notify(
        rec, SesMailer(), sender="vf@example.org", recipients=["a@example.org"], docs_url=None
    )
    assert message_id
    sent = ses_backends[DEFAULT_ACCOUNT_ID][aws].sent_messages
    assert len(sent) == 1
    raw = email.message_from_bytes(
        sent[0].raw_data.encode() if isinstance(sent[0].raw_data, str) else sent[0].raw_data,
        policy=email.policy.default,
    )
    text, html, images = parts(raw)
    assert rec.analysis.summary in text and "<html" in html and len(images) == 1


def test_a_failed_run_alert_carries_the_command_that_reruns_it():
    """Nothing is lost to a failed run (one that waited out Glue's queue included): the alert says how
    to rerun exactly that run's arguments."""
    from vitalflow.notify.message import job_failure_message

    message = job_failure_message(
        "vf-validate",
        "jr_0123",
        "FAILED",
        "queued too long",
        sender="a@example.org",
        recipients=["b@example.org"],
    )
    text = message.get_body(("plain",)).get_content()
    assert "aws glue start-job-run --job-name vf-validate" in text
    assert "--run-id jr_0123 --query JobRun.Arguments" in text
