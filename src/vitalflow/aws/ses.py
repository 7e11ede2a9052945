"""SES (v2) as the mailer: the MIME message is sent as is, so both runtimes send the same bytes."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

from botocore.exceptions import ClientError

from vitalflow.exceptions import MailError


class SesMailer:
    def __init__(self, *, boto3_session: Any = None, configuration_set: str | None = None) -> None:
        import boto3

        self.client = (boto3_session or boto3.session.Session()).client("sesv2")
        self.configuration_set = configuration_set

    def send(self, message: EmailMessage) -> str:
        extra = {"ConfigurationSetName": self.configuration_set} if self.configuration_set else {}
        try:
            response = self.client.send_email(Content={"Raw": {"Data": message.as_bytes()}}, **extra)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise MailError(f"SES refused the report: {error.get('Code')}: {error.get('Message')}") from None
        return str(response["MessageId"])
