"""SNS as the fan-out publisher: subscribers (SQS, HTTPS, email, SMS, mobile push) filter on the
message attributes with their subscriptions' filter policies."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


class SnsPublisher:
    def __init__(self, topic_arn: str, *, boto3_session: Any = None) -> None:
        import boto3

        self.topic_arn = topic_arn
        self.client = (boto3_session or boto3.session.Session()).client("sns")

    def publish(self, subject: str, message: Mapping[str, Any], attributes: Mapping[str, str]) -> str:
        response = self.client.publish(
            TopicArn=self.topic_arn,
            Subject=subject[:100],  # SNS's limit, for email subscribers
            Message=json.dumps(dict(message), default=str),
            MessageAttributes={
                name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()
            },
        )
        return str(response["MessageId"])
