"""EventBridge as the event bus; rules route events to the next stage (and to SNS subscribers)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from vitalflow.exceptions import EventPublishFailed

SOURCE = "vitalflow"


class EventBridgeBus:
    def __init__(self, bus_name: str, *, boto3_session: Any = None) -> None:
        import boto3

        self.bus_name = bus_name
        self.client = (boto3_session or boto3.session.Session()).client("events")

    def put(self, detail_type: str, detail: Mapping[str, Any]) -> None:
        response = self.client.put_events(
            Entries=[
                {
                    "Source": SOURCE,
                    "DetailType": detail_type,
                    "Detail": json.dumps(dict(detail), default=str),
                    "EventBusName": self.bus_name,
                }
            ]
        )
        if response.get("FailedEntryCount"):
            entry = response["Entries"][0]
            raise EventPublishFailed(
                f"EventBridge refused {detail_type}: {entry.get('ErrorCode')} {entry.get('ErrorMessage')}"
            )
