"""The deployment creates the report's views: the Athena engine runs sql/views before its first query."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from vitalflow.aggregate.queries import view_queries
from vitalflow.aws.athena import AthenaEngine
from vitalflow.config import Settings


@pytest.fixture
def athena(aws_credentials: str):
    with mock_aws():
        boto3.client("s3").create_bucket(
            Bucket="vf-data", CreateBucketConfiguration={"LocationConstraint": aws_credentials}
        )
        boto3.client("athena").create_work_group(
            Name="vf",
            Configuration={"ResultConfiguration": {"OutputLocation": "s3://vf-data/athena-results/"}},
        )
        yield boto3.client("athena")


def test_views_are_created_in_dependency_order(athena) -> None:
    engine = AthenaEngine(Settings(glue_database="vitalflow", athena_workgroup="vf"))
    ids = engine.ensure_views()
    sent = [athena.get_query_execution(QueryExecutionId=i)["QueryExecution"]["Query"] for i in ids]
    created = [s.split("VIEW", 1)[1].split()[0] for s in sent]
    views = ["anomaly_thresholds", "flagged_files", "processed", "readings_flagged", "rejected"]
    assert sorted(created) == views
    before = {name: position for position, name in enumerate(created)}
    # each view after the views it reads
    assert before["anomaly_thresholds"] < before["flagged_files"] < before["readings_flagged"]
    assert all("CREATE OR REPLACE VIEW" in s for s in sent)
    assert [q.name for q in view_queries()] == [f"views/{name}" for name in created]
