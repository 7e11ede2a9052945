"""Results stores: records round-trip and a replay never overwrites (SQLite, and DynamoDB on moto)."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import boto3
import pytest
from moto import mock_aws

from at_once import at_once
from factories import record
from vitalflow.aws.dynamodb_store import DynamoResultStore
from vitalflow.local.batch_state import SqliteBatchState
from vitalflow.local.result_store import SqliteResultStore


@pytest.fixture
def dynamo(aws_credentials):
    with mock_aws():
        client = boto3.client("dynamodb")
        client.create_table(
            TableName="vitalflow",
            KeySchema=[{"AttributeName": "batch_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "batch_id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield DynamoResultStore("vitalflow")


@pytest.fixture
def sqlite(tmp_path):
    return SqliteResultStore(tmp_path / "results.db")


@pytest.mark.parametrize("store_name", ["sqlite", "dynamo"])
def test_round_trip_and_no_overwrite(store_name, request):
    store = request.getfixturevalue(store_name)
    first = record()
    assert store.get(first.batch_id) is None
    assert store.put(first) is True
    assert store.get(first.batch_id) == first
    replay = first.model_copy(update={"analysis": first.analysis.model_copy(update={"summary": "changed"})})
    assert store.put(replay) is False
    assert store.get(first.batch_id) == first


def test_dynamo_record_coexists_with_batch_state(dynamo):
    client = boto3.client("dynamodb")
    rec = record()
    client.put_item(
        TableName="vitalflow", Item={"batch_id": {"S": rec.batch_id}, "state": {"S": "validated"}}
    )
    assert dynamo.put(rec)
    item = client.get_item(TableName="vitalflow", Key={"batch_id": {"S": rec.batch_id}})["Item"]
    assert item["state"]["S"] == "validated"
    assert (
        item["risk_level"]["S"] == rec.analysis.risk_level
        and int(item["rows_in"]["N"]) == rec.manifest.rows_in
    )


def test_batch_state_leases_once_and_a_release_frees_the_step(tmp_path):
    state = SqliteBatchState(tmp_path / "state.db")
    assert state.lease("b1", "notified", 60) is None  # taken
    assert state.lease("b1", "notified", 60) == ""  # held by a live lease, no run yet
    state.record_run("b1", "notified", "run-1")
    assert state.lease("b1", "notified", 0) == "run-1"  # done: even a stale lease keeps it
    state.release("b1", "notified")
    assert state.lease("b1", "notified", 60) is None


def _open_at_once(path, openers: int = 8) -> None:
    """Opens the state from several threads at once, as loaders started together do."""
    at_once(lambda _: SqliteBatchState(path), openers)


def test_batch_state_opened_at_once_by_many_loaders_is_made_once(tmp_path):
    for attempt in range(15):  # the race is narrow: one try missed it about half of the time
        _open_at_once(tmp_path / f"state-{attempt}.db")
    state = SqliteBatchState(tmp_path / "state-0.db")
    assert state.lease("b1", "validated", 60) is None


def test_batch_state_of_a_lake_made_before_leases_is_brought_up_to_date_once(tmp_path):
    path = tmp_path / "state.db"
    with closing(sqlite3.connect(path)) as con, con:
        con.execute(
            "CREATE TABLE batch_steps (batch_id TEXT NOT NULL, step TEXT NOT NULL, at TEXT NOT NULL, "
            "PRIMARY KEY (batch_id, step))"
        )
        con.execute("INSERT INTO batch_steps VALUES ('b0', 'notified', '2026-01-01T00:00:00+00:00')")
    _open_at_once(path)
    state = SqliteBatchState(path)
    assert state.lease("b0", "notified", 0) == "done"  # its steps had all completed
    assert state.lease("b1", "notified", 60) is None
