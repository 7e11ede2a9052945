"""An upload is always running, done, or retried: the start claim is a lease until it carries the run id
(DynamoDB on moto, the real Glue runner), and the job's arguments survive Glue's empty values."""

from __future__ import annotations

import importlib.util
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from moto import mock_aws

from aws_stack import batches_table
from conftest import REPO
from vitalflow.aws.batch_state import DynamoBatchState
from vitalflow.aws.glue_runner import GlueJobRunner, JobThrottled
from vitalflow.exceptions import ConfigurationError
from vitalflow.glue_job import parse
from vitalflow.trigger import LEASE_SECONDS, StartInProgress, UploadedObject, start_validation

OBJ = UploadedObject(bucket="vf-data", key="raw/2026-11-22/clinic.csv", version_id="v1", etag="e")


@pytest.fixture
def aws(aws_credentials):
    with mock_aws():
        batches_table("vf-batches")
        boto3.client("glue").create_job(
            Name="vf-validate", Role="arn:aws:iam::123456789012:role/x", Command={"Name": "pythonshell"}
        )
        yield DynamoBatchState("vf-batches"), GlueJobRunner("vf-validate")


def runs() -> list[dict]:
    return boto3.client("glue").get_job_runs(JobName="vf-validate")["JobRuns"]


class Dies(BaseException):
    """The Lambda being killed (timeout, out of memory) in the middle of StartJobRun's call."""


class DyingRunner:
    def start(self, bucket, key, version_id):
        raise Dies


class ShortLease(DynamoBatchState):
    """The same table, seen LEASE_SECONDS later: the lease taken before is stale now."""

    def lease(self, batch_id, step, seconds, *, now=None):
        later = datetime.now(timezone.utc) + timedelta(seconds=LEASE_SECONDS + 1)
        return super().lease(batch_id, step, seconds, now=later)


def test_a_delivery_starts_one_run_and_a_redelivery_none(aws):
    state, runner = aws
    run_id = start_validation(OBJ, state, runner)
    assert run_id and [r["Id"] for r in runs()] == [run_id]
    assert runs()[0]["Arguments"] == {
        "--source_bucket": "vf-data",
        "--source_key": OBJ.key,
        "--source_version_id": "v1",
    }
    assert start_validation(OBJ, state, runner) is None
    assert start_validation(OBJ, ShortLease("vf-batches"), runner) is None  # the run id holds forever
    assert len(runs()) == 1


def test_a_lambda_killed_mid_call_leaves_a_lease_that_is_retried_then_taken_over(aws):
    state, runner = aws
    claims = DynamoBatchState("vf-batches")
    claims.release = lambda *a: None  # type: ignore[method-assign]  # killed: no cleanup runs
    with pytest.raises(Dies):
        start_validation(OBJ, claims, DyingRunner())
    # Redelivered while the lease is fresh: not a duplicate, a retry (the message goes back to SQS).
    with pytest.raises(StartInProgress):
        start_validation(OBJ, state, runner)
    assert runs() == []
    # Redelivered after the lease expired: the run starts.
    run_id = start_validation(OBJ, ShortLease("vf-batches"), runner)
    assert run_id and len(runs()) == 1
    assert start_validation(OBJ, state, runner) is None


def test_a_refused_start_releases_the_claim(aws):
    state, _ = aws

    class Refused:
        def start(self, bucket, key, version_id):
            raise RuntimeError("AccessDenied")

    with pytest.raises(RuntimeError):
        start_validation(OBJ, state, Refused())
    assert start_validation(OBJ, state, aws[1])  # retried at once, nothing holds it


def test_no_version_id_is_not_passed_as_an_empty_argument(aws):
    _, runner = aws
    runner.start("vf-data", "raw/x.csv", None)
    assert "--source_version_id" not in runs()[0]["Arguments"]


def load_job():
    spec = importlib.util.spec_from_file_location(
        "vf_validate_batch_args", REPO / "jobs" / "validate_batch.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_an_empty_argument_value_does_not_swallow_the_next_argument():
    job = load_job()
    # Glue drops empty strings: "--VITALFLOW_DOCS_BASE_URL" arrives with no value after it.
    argv = [
        "--JOB_ID", "j_1", "--source_bucket", "vf-data", "--source_version_id",
        "--source_key", "raw/x.csv", "--VITALFLOW_DOCS_BASE_URL", "--VITALFLOW_REGION", "eu-west-1",
        "--VITALFLOW_DATA_BUCKET=vf-data", "--job-bookmark-option", "job-bookmark-disable",
    ]  # fmt: skip
    source, settings = parse(job.job_arguments(argv))
    assert source.key == "raw/x.csv" and source.version_id is None and source.uri == "s3://vf-data/raw/x.csv"
    assert settings == {
        "VITALFLOW_DOCS_BASE_URL": "",
        "VITALFLOW_REGION": "eu-west-1",
        "VITALFLOW_DATA_BUCKET": "vf-data",
    }


def test_missing_source_arguments_are_named():
    job = load_job()
    with pytest.raises(ConfigurationError, match="--source_key"):
        parse(job.job_arguments(["--source_bucket", "vf-data", "--source_key"]))


def test_a_burst_waits_in_sqs_while_the_job_has_no_room(aws):
    """With max_active, the runner starts a run only while fewer runs are active: the rest of a burst
    stays in SQS (JobThrottled fails just that message) instead of in Glue's 15-minute run queue."""
    from moto.moto_api import state_manager

    claims, _ = aws
    manual = {"progression": "manual", "times": 99}
    state_manager.set_transition(model_name="glue::job_run", transition=manual)
    boto3.client("glue").create_job(
        Name="vf-burst",
        Role="arn:aws:iam::123456789012:role/x",
        Command={"Name": "pythonshell"},
        ExecutionProperty={"MaxConcurrentRuns": 5},
    )
    try:
        runner = GlueJobRunner("vf-burst", max_active=2)
        objects = [UploadedObject("vf-data", f"raw/2026-11-22/f{i}.csv", "v1", "e") for i in range(3)]
        started = [start_validation(o, claims, runner) for o in objects[:2]]
        assert all(started) and runner.active_runs() == 2
        with pytest.raises(JobThrottled, match="waits its turn"):
            start_validation(objects[2], claims, runner)
        assert len(boto3.client("glue").get_job_runs(JobName="vf-burst")["JobRuns"]) == 2
        # the throttled upload holds no claim: its redelivery starts it once there is room
        assert start_validation(objects[2], claims, GlueJobRunner("vf-burst", max_active=3))
    finally:
        state_manager.unset_transition("glue::job_run")
