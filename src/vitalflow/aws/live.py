"""The live dashboard on AWS: websocket connections in DynamoDB, each pipeline event posted to all.

API Gateway calls the function on ``$connect`` (already authorised by IAM) and ``$disconnect``; a
connection is one item with a TTL, so one that vanished without a ``$disconnect`` is removed by
DynamoDB in time, and at once by :func:`broadcast` when API Gateway answers GoneException. Each
EventBridge event also updates the state file the page starts from (``docs/dashboard/state.json``
in the docs bucket, beside Data Docs): the page loads it, then follows the websocket.

Concurrent events update the state file with S3's conditional writes: each reads the file and its
ETag and writes only if it is unchanged (or still absent), else reads again, so no event's row is
lost to another's write. Messages carry a row of the board: counts, names and ids only.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from vitalflow import lake
from vitalflow.aws.s3_store import S3ObjectStore
from vitalflow.dashboard.board import Board
from vitalflow.exceptions import ConfigurationError, StateContention

STATE_KEY = lake.DOCS + "dashboard/state.json"  # beside Data Docs: the same readers, the same bucket
STATE_ATTEMPTS = 10  # each after another event's write; more means a burst Lambda's retry can absorb
CONNECTION_TTL_S = 2 * 60 * 60  # API Gateway closes a websocket after 2 hours at the latest


class Connections:
    """The table of open websockets: ``connection_id`` (hash key) and ``expires_at`` (TTL, epoch s)."""

    def __init__(self, table_name: str, *, boto3_session: Any = None) -> None:
        import boto3

        self.table_name = table_name
        self.client = (boto3_session or boto3.session.Session()).client("dynamodb")

    def add(self, connection_id: str, now: float | None = None) -> None:
        expires = int((now or time.time()) + CONNECTION_TTL_S)
        item = {"connection_id": {"S": connection_id}, "expires_at": {"N": str(expires)}}
        self.client.put_item(TableName=self.table_name, Item=item)

    def remove(self, connection_id: str) -> None:
        self.client.delete_item(TableName=self.table_name, Key={"connection_id": {"S": connection_id}})

    def all(self) -> Iterator[str]:
        """Every connection not yet expired (TTL deletion lags by up to a couple of days)."""
        now = int(time.time())
        pages = self.client.get_paginator("scan").paginate(
            TableName=self.table_name, ProjectionExpression="connection_id, expires_at"
        )
        for page in pages:
            for item in page.get("Items", []):
                if int(item["expires_at"]["N"]) > now:
                    yield item["connection_id"]["S"]


@dataclass(frozen=True)
class Delivery:
    sent: int = 0
    gone: int = 0
    skipped: bool = False  # not an event the dashboard shows


def broadcast(
    event: Mapping[str, Any], state_store: S3ObjectStore, connections: Connections, api: Any
) -> Delivery:
    """Fold the event into the state file and post the changed row to every open connection.

    ``api``: an ``apigatewaymanagementapi`` client on the stage's endpoint. A connection that is
    gone (GoneException) is deleted; any other failure propagates, so Lambda retries the event.
    """
    for _ in range(STATE_ATTEMPTS):
        raw, tag = state_store.read_tagged(STATE_KEY)
        board = Board.from_state(_parse(raw))
        row = board.apply(event)
        if row is None:
            return Delivery(skipped=True)
        if state_store.put_if_unchanged(
            STATE_KEY, json.dumps(board.state()).encode(), tag, "application/json"
        ):
            break
    else:
        raise StateContention(
            f"{STATE_KEY} kept changing under {STATE_ATTEMPTS} attempts; the event is retried"
        )
    data = json.dumps(row.message(str(event.get("detail-type")), board.replaced)).encode()
    sent = gone = 0
    for connection_id in connections.all():
        try:
            api.post_to_connection(ConnectionId=connection_id, Data=data)
            sent += 1
        except api.exceptions.GoneException:
            connections.remove(connection_id)
            gone += 1
    return Delivery(sent, gone)


def _parse(raw: bytes | None) -> dict[str, Any]:
    try:
        state = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return state if isinstance(state, dict) else {}


def signed_url(websocket_url: str, *, boto3_session: Any = None, expires_s: int = 300) -> str:
    """The websocket URL signed (SigV4 in the query string) with the caller's credentials.

    ``$connect`` is authorised by IAM, and a browser cannot sign a websocket handshake itself: the
    viewer (as the viewer role) gets a URL valid for ``expires_s`` and hands it to the page.
    """
    import boto3
    from botocore.auth import SigV4QueryAuth
    from botocore.awsrequest import AWSRequest

    host = websocket_url.removeprefix("wss://").split("/", 1)[0]
    parts = host.split(".")
    if not websocket_url.startswith("wss://") or parts[1:2] != ["execute-api"] or len(parts) < 4:
        raise ConfigurationError(f"not an API Gateway websocket URL: {websocket_url!r}")
    credentials = (boto3_session or boto3.session.Session()).get_credentials()
    if credentials is None:
        raise ConfigurationError("no AWS credentials to sign the websocket URL with (assume the viewer role)")
    request = AWSRequest(method="GET", url="https://" + websocket_url.removeprefix("wss://"))
    SigV4QueryAuth(credentials.get_frozen_credentials(), "execute-api", parts[2], expires=expires_s).add_auth(
        request
    )
    return "wss://" + str(request.url).removeprefix("https://")
