"""The live dashboard on AWS: connections kept in DynamoDB (moto), each event posted to every
connection and a gone one deleted (GoneException, which moto never raises: botocore's Stubber), the
state file beside Data Docs kept current, and every call allowed by the live role's Terraform IAM."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import time

import boto3
import pytest
from botocore.stub import ANY, Stubber
from moto import mock_aws

from conftest import REPO
from iam_calls import CallRecorder, missing
from terraform_iam import API_ID
from test_iam_coverage import REGION, roles_for
from vitalflow.aws import lambda_context
from vitalflow.aws.live import STATE_KEY, Connections, broadcast
from vitalflow.aws.s3_store import S3ObjectStore

ROLE_OF = {"live": "vf-live"}
ENDPOINT = f"https://{API_ID}.execute-api.{REGION}.amazonaws.com/live"
EVENT = {
    "time": "2026-11-30T12:00:00Z",
    "detail-type": "BatchAnalyzed",
    "detail": {
        "batch_id": "d" * 16,
        "source": {
            "key": "raw/<b onmouseover=alert(1)>clinic/upload-2026-11-30.csv",
            "uri": "s3://vf-data/raw/x",
        },
        "rows_in": 10,
        "rows_processed": 9,
        "rows_rejected": 1,
        "anomaly_readings": 2,
        "risk_level": "low",
        "error": "user u-77 sent 999",
    },
}


@pytest.fixture
def aws(monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        boto3.client("s3").create_bucket(Bucket="vf-docs")
        boto3.client("dynamodb").create_table(
            TableName="vf-connections",
            KeySchema=[{"AttributeName": "connection_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "connection_id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield


def stored_connections() -> set[str]:
    items = boto3.client("dynamodb").scan(TableName="vf-connections")["Items"]
    return {i["connection_id"]["S"] for i in items}


def test_an_event_reaches_every_connection_and_a_gone_one_is_deleted(aws, tmp_path):
    connections = Connections("vf-connections")
    for connection_id in ("alive=", "gone="):
        connections.add(connection_id)
    connections.add("expired=", now=time.time() - 3 * 60 * 60)  # TTL passed, DynamoDB not yet deleted it
    order = list(connections.all())
    assert sorted(order) == ["alive=", "gone="]
    recorder = CallRecorder()
    with recorder.installed():
        api = boto3.client("apigatewaymanagementapi", endpoint_url=ENDPOINT)  # recorded: made in here
        with recorder.running("live"), Stubber(api) as stub:
            for connection_id in order:
                expected = {"ConnectionId": connection_id, "Data": ANY}
                if connection_id == "gone=":
                    stub.add_client_error(
                        "post_to_connection", "GoneException", 410, expected_params=expected
                    )
                else:
                    stub.add_response("post_to_connection", {}, expected)
            store = S3ObjectStore("vf-docs", boto3_session=boto3.session.Session())
            delivery = broadcast(EVENT, store, Connections("vf-connections"), api)
            stub.assert_no_pending_responses()
    assert (delivery.sent, delivery.gone) == (1, 1)
    assert stored_connections() == {"alive=", "expired="}  # the expired one is TTL's to delete
    posted = [c for c in recorder.calls if c.operation == "PostToConnection"]
    message = json.loads(posted[0].params["Data"])
    assert (message["type"], message["batch_id"], message["status"]) == (
        "BatchAnalyzed",
        "d" * 16,
        "analysed",
    )
    assert message["source"] == "<b onmouseover=alert(1)>clinic" and message["anomaly_readings"] == 2
    state = json.loads(boto3.client("s3").get_object(Bucket="vf-docs", Key=STATE_KEY)["Body"].read())
    assert [r["batch_id"] for r in state["batches"]] == ["d" * 16]
    for text in (posted[0].params["Data"].decode(), json.dumps(state)):
        assert "u-77" not in text and "999" not in text and "s3://" not in text  # aggregates only
    roles = roles_for(tmp_path)
    assert missing(recorder.calls, roles, ROLE_OF, REGION) == []
    # The check can fail: without its Connections statement the role may not delete a gone connection.
    trimmed = {**roles, "vf-live": [s for s in roles["vf-live"] if s.sid != "Connections"]}
    gaps = missing(recorder.calls, trimmed, ROLE_OF, REGION)
    assert any("dynamodb:DeleteItem" in g for g in gaps) and any("dynamodb:Scan" in g for g in gaps)


def test_the_next_event_builds_on_the_stored_state(aws):
    store, connections = (
        S3ObjectStore("vf-docs", boto3_session=boto3.session.Session()),
        Connections("vf-connections"),
    )
    api = boto3.client("apigatewaymanagementapi", endpoint_url=ENDPOINT)
    broadcast(EVENT, store, connections, api)
    emailed = {**EVENT, "detail-type": "BatchEmailed", "detail": {**EVENT["detail"], "risk_level": None}}
    broadcast(emailed, store, connections, api)
    assert broadcast({"detail-type": "Glue Job State Change", "detail": {}}, store, connections, api).skipped
    (row,) = json.loads(store.get_bytes(STATE_KEY))["batches"]
    assert (row["status"], row["risk_level"], row["rows_in"]) == ("emailed", "low", 10)


class RacedStore(S3ObjectStore):
    """Another event's function writes the state between this one's read and its write, once."""

    def __init__(self, rival: dict) -> None:
        super().__init__("vf-docs", boto3_session=boto3.session.Session())
        self.rival: dict | None = rival

    def put_if_unchanged(self, key, data, tag, content_type=None):
        if self.rival is not None:
            rival, self.rival = self.rival, None
            broadcast(
                rival,
                S3ObjectStore("vf-docs", boto3_session=boto3.session.Session()),
                Connections("vf-connections"),
                boto3.client("apigatewaymanagementapi", endpoint_url=ENDPOINT),
            )
        return super().put_if_unchanged(key, data, tag, content_type)


@pytest.mark.parametrize("first", ["absent", "present"])
def test_two_events_at_once_both_stay_in_the_state(aws, first):
    """A write that lost the race reads again (S3 conditional writes), so neither batch's row is lost,
    whether the state file existed before or is being created by both."""
    api = boto3.client("apigatewaymanagementapi", endpoint_url=ENDPOINT)
    if first == "present":
        older = {**EVENT, "detail": {**EVENT["detail"], "batch_id": "a" * 16}}
        broadcast(
            older,
            S3ObjectStore("vf-docs", boto3_session=boto3.session.Session()),
            Connections("vf-connections"),
            api,
        )
    rival = {**EVENT, "detail": {**EVENT["detail"], "batch_id": "e" * 16}}
    broadcast(EVENT, RacedStore(rival), Connections("vf-connections"), api)
    state = json.loads(boto3.client("s3").get_object(Bucket="vf-docs", Key=STATE_KEY)["Body"].read())
    expected = {"d" * 16, "e" * 16} | ({"a" * 16} if first == "present" else set())
    assert {r["batch_id"] for r in state["batches"]} == expected


@dataclasses.dataclass
class Context:
    function_name: str = "vf-live"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:vf-live"
    aws_request_id: str = "req-1"


def test_the_handler_keeps_the_connections_table(aws, monkeypatch):
    for name, value in {
        "VITALFLOW_DOCS_BUCKET": "vf-docs",
        "VITALFLOW_CONNECTIONS_TABLE": "vf-connections",
        "VITALFLOW_WEBSOCKET_ENDPOINT": ENDPOINT,
        "VITALFLOW_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location("vf_live", REPO / "lambdas" / "live.py")
    assert spec and spec.loader
    live = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(live)
    lambda_context.use(None)
    try:
        connect = {"requestContext": {"routeKey": "$connect", "connectionId": "abc="}}
        assert live.handler(connect, Context())["statusCode"] == 200
        assert stored_connections() == {"abc="}
        disconnect = {"requestContext": {"routeKey": "$disconnect", "connectionId": "abc="}}
        live.handler(disconnect, Context())
        assert stored_connections() == set()
    finally:
        lambda_context.use(None)


def test_live_link_signs_the_websocket_url_for_iam(monkeypatch):
    from urllib.parse import parse_qs, urlsplit

    from vitalflow.aws.live import signed_url
    from vitalflow.exceptions import ConfigurationError

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAVIEWER")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    url = f"wss://{API_ID}.execute-api.{REGION}.amazonaws.com/live"
    signed = urlsplit(signed_url(url, expires_s=120))
    query = parse_qs(signed.query)
    assert (signed.scheme, signed.netloc, signed.path) == (
        "wss",
        f"{API_ID}.execute-api.{REGION}.amazonaws.com",
        "/live",
    )
    assert (
        query["X-Amz-Credential"][0].startswith("AKIAVIEWER/")
        and "/execute-api/aws4_request" in query["X-Amz-Credential"][0]
    )
    assert query["X-Amz-Expires"] == ["120"] and len(query["X-Amz-Signature"][0]) == 64
    with pytest.raises(ConfigurationError):
        signed_url("wss://example.org/live")
