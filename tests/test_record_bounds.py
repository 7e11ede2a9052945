"""A batch spanning months still fits in one DynamoDB item (400 KB), with its totals intact."""

from __future__ import annotations

from datetime import timedelta

import boto3
import pytest
from moto import mock_aws

from factories import T0, record, report
from vitalflow.aws.dynamodb_store import DynamoResultStore
from vitalflow.enrich import enrich
from vitalflow.enrich.bounds import MAX_POINTS, record_size
from vitalflow.enrich.rules import RulesAnalyst
from vitalflow.models import HourlyPoint


def long_report(hours: int):
    base = report()
    hourly = [HourlyPoint(hour=T0 + timedelta(hours=h), readings=100, anomalies=h % 7) for h in range(hours)]
    return base.model_copy(update={"hourly": hourly})


@pytest.fixture
def dynamo(aws_credentials):
    with mock_aws():
        boto3.client("dynamodb").create_table(
            TableName="vf",
            KeySchema=[{"AttributeName": "batch_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "batch_id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield DynamoResultStore("vf")


def test_eight_months_of_hours_fit_in_one_item(dynamo) -> None:
    long = long_report(24 * 245)  # eight months
    manifest = record().manifest
    manifest = manifest.model_copy(
        update={"processed_files": [f"processed/dt=2026-{i:04d}/x.parquet" for i in range(3000)]}
    )
    unbounded = record().model_copy(update={"report": long, "manifest": manifest})
    assert record_size(unbounded) > 400_000  # what used to be written (and refused by DynamoDB)
    stored = enrich(manifest, long, RulesAnalyst(), RulesAnalyst(), dynamo)
    assert record_size(stored) < 350_000
    assert len(stored.report.hourly) <= MAX_POINTS
    assert sum(p.readings for p in stored.report.hourly) == sum(p.readings for p in long.hourly)
    assert sum(p.anomalies for p in stored.report.hourly) == sum(p.anomalies for p in long.hourly)
    assert dynamo.get(stored.batch_id) == stored


def test_a_short_batch_keeps_its_hours(dynamo) -> None:
    short = long_report(48)
    stored = enrich(record().manifest, short, RulesAnalyst(), RulesAnalyst(), dynamo)
    assert stored.report.hourly == short.hourly
