"""Routing on AWS: an upload above the size threshold starts the Spark job, the rest the Python shell
job (Glue and DynamoDB on moto, the real runners, sizes read from a real S3 notification's shape)."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from aws_stack import batches_table
from vitalflow.aws.batch_state import DynamoBatchState
from vitalflow.aws.glue_runner import GlueJobRunner
from vitalflow.config import Settings
from vitalflow.exceptions import ConfigurationError
from vitalflow.trigger import JobRoute, start_validation, uploaded_objects

THRESHOLD = 1 << 30


def notification(key: str, size: int) -> dict:
    return {
        "Records": [
            {
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "bucket": {"name": "vf-data"},
                    "object": {"key": key, "size": size, "versionId": f"v-{size}", "eTag": "e"},
                },
            }
        ]
    }


@pytest.fixture
def aws(aws_credentials):
    with mock_aws():
        batches_table("vf-batches")
        glue = boto3.client("glue")
        role = "arn:aws:iam::123456789012:role/x"
        glue.create_job(Name="vf-validate", Role=role, Command={"Name": "pythonshell"})
        glue.create_job(Name="vf-validate-spark", Role=role, Command={"Name": "glueetl"})
        yield DynamoBatchState("vf-batches")


def runs(job: str) -> list[str]:
    found = boto3.client("glue").get_job_runs(JobName=job)["JobRuns"]
    return sorted(run["Arguments"]["--source_key"] for run in found)


def test_uploads_above_the_threshold_go_to_the_spark_job(aws):
    route = JobRoute(GlueJobRunner("vf-validate"), GlueJobRunner("vf-validate-spark"), THRESHOLD)
    sizes = {"raw/a.csv": 10, "raw/b.csv": THRESHOLD, "raw/c.csv": THRESHOLD + 1, "raw/d.csv": 5 << 30}
    for key, size in sizes.items():
        (obj,) = uploaded_objects(notification(key, size))
        assert obj.size == size
        assert start_validation(obj, aws, route) is not None
    assert runs("vf-validate") == ["raw/a.csv", "raw/b.csv"]
    assert runs("vf-validate-spark") == ["raw/c.csv", "raw/d.csv"]


def test_without_a_spark_job_every_upload_goes_to_the_shell_job(aws):
    route = JobRoute(GlueJobRunner("vf-validate"), None, THRESHOLD)
    (obj,) = uploaded_objects(notification("raw/big.csv", 5 << 30))
    start_validation(obj, aws, route)
    assert runs("vf-validate") == ["raw/big.csv"] and runs("vf-validate-spark") == []


def test_the_threshold_and_split_size_are_settings():
    settings = Settings.from_env({"VITALFLOW_SPARK_THRESHOLD_BYTES": "1000", "VITALFLOW_SPLIT_BYTES": "4096"})
    assert (settings.spark_threshold_bytes, settings.split_bytes) == (1000, 4096)
    assert Settings.from_env({}).spark_threshold_bytes == 1 << 30
    assert Settings.from_env({}).split_bytes == 128 << 20
    with pytest.raises(ConfigurationError, match="VITALFLOW_SPLIT_BYTES"):
        Settings.from_env({"VITALFLOW_SPLIT_BYTES": "0"})
    with pytest.raises(ConfigurationError, match="VITALFLOW_ENGINE"):
        Settings.from_env({"VITALFLOW_ENGINE": "dask"})


def test_the_spark_entry_point_chooses_the_spark_engine(monkeypatch):
    """jobs/validate_spark.py: the shell job's adapter with VITALFLOW_ENGINE=spark, unless a run names one."""
    import importlib

    from conftest import REPO

    monkeypatch.syspath_prepend(str(REPO / "jobs"))
    entry = importlib.import_module("validate_spark")
    argv = ["--source_bucket", "b", "--source_key", "raw/x.csv"]
    assert entry.job_arguments(entry.spark_arguments(argv))["VITALFLOW_ENGINE"] == "spark"
    chosen = [*argv, "--VITALFLOW_ENGINE", "local"]
    assert entry.job_arguments(entry.spark_arguments(chosen))["VITALFLOW_ENGINE"] == "local"
