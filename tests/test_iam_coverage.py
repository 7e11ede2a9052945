"""The IAM coverage check (used by the moto end-to-end tests) finds real gaps, and Terraform's roles
allow what SES and Bedrock authorise against. Calls are recorded through botocore's event hooks on
moto; policies come from terraform/ through Terraform's own parser."""

from __future__ import annotations

import dataclasses

import boto3
import pytest
from moto import mock_aws

from aws_stack import batches_table
from conftest import REPO
from iam_calls import Call, CallRecorder, athena_query, missing, permissions
from terraform_iam import role_policies
from vitalflow.aws.batch_state import DynamoBatchState
from vitalflow.aws.glue_runner import GlueJobRunner
from vitalflow.enrich.bedrock import BedrockAnalyst

REGION = "us-east-1"
BASE = {
    "name": "vf",
    "region": REGION,
    "data_bucket_name": "vf-data",
    "docs_bucket_name": "vf-docs",
    "mail_from": "reports@example.org",
    "mail_to": ["care-team@example.org"],
}
ROLE_OF = {
    "start_validation": "vf-start-validation",
    "notify": "vf-notify",
    "analyze": "vf-analyze",
    "digest": "vf-digest",
}


def roles_for(tmp_path, **overrides):
    (tmp_path / "glue-job-py3.9.zip").write_bytes(b"")
    artifact = str(tmp_path / "glue-job-py3.9.zip")
    variables = {**BASE, "glue_artifact": artifact, "lambda_packages_dir": str(tmp_path), **overrides}
    return role_policies(REPO / "terraform", variables, REGION)


@pytest.fixture(scope="module")
def roles(tmp_path_factory):
    return roles_for(tmp_path_factory.mktemp("dist"))


@pytest.fixture
def moto_env(monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield


def test_recorded_calls_of_the_trigger_are_allowed_and_a_removed_statement_is_named(moto_env, roles):
    with CallRecorder().installed() as recorder:
        batches_table()
        boto3.client("glue").create_job(
            Name="vf-validate", Role="arn:aws:iam::123456789012:role/x", Command={"Name": "pythonshell"}
        )
        state, runner = DynamoBatchState("vf-batches"), GlueJobRunner("vf-validate")
        with recorder.running("start_validation"):
            assert state.lease("object#b/raw/x.csv#v1", "started", 180) is None
            state.record_run("object#b/raw/x.csv#v1", "started", runner.start("b", "raw/x.csv", "v1"))
            assert state.lease("object#b/raw/x.csv#v1", "started", 180)  # the run id: a duplicate
    operations = [c.operation for c in recorder.calls]
    assert operations == [
        "UpdateItem",
        "StartJobRun",
        "UpdateItem",
        "UpdateItem",
        "GetItem",
    ]  # setup not recorded
    assert missing(recorder.calls, roles, ROLE_OF, REGION) == []

    without = {role: [s for s in statements if s.sid != "StartJob"] for role, statements in roles.items()}
    assert missing(recorder.calls, without, ROLE_OF, REGION) == [
        "start_validation (vf-start-validation): glue:StartJobRun on "
        "arn:aws:glue:us-east-1:123456789012:job/vf-validate"
    ]


def test_recorded_calls_of_the_trigger_routing_to_the_spark_job_are_allowed(moto_env, tmp_path):
    """With the Spark job deployed, a large upload's StartJobRun on it is allowed; without it, not."""
    from vitalflow.trigger import JobRoute, UploadedObject, start_validation

    (tmp_path / "glue-job-py3.11.zip").write_bytes(b"")
    with_spark = roles_for(tmp_path, glue_spark_artifact=str(tmp_path / "glue-job-py3.11.zip"))
    with CallRecorder().installed() as recorder:
        batches_table()
        for name, kind in (("vf-validate", "pythonshell"), ("vf-validate-spark", "glueetl")):
            boto3.client("glue").create_job(
                Name=name, Role="arn:aws:iam::123456789012:role/x", Command={"Name": kind}
            )
        route = JobRoute(GlueJobRunner("vf-validate"), GlueJobRunner("vf-validate-spark"), 1 << 30)
        big = UploadedObject(bucket="b", key="raw/big.csv", version_id="v1", etag="e", size=2 << 30)
        with recorder.running("start_validation"):
            start_validation(big, DynamoBatchState("vf-batches"), route)
    started = [c for c in recorder.calls if c.operation == "StartJobRun"]
    assert [c.params["JobName"] for c in started] == ["vf-validate-spark"]
    assert missing(recorder.calls, with_spark, ROLE_OF, REGION) == []
    without = roles_for(tmp_path)
    assert missing(recorder.calls, without, ROLE_OF, REGION) == [
        "start_validation (vf-start-validation): glue:StartJobRun on "
        "arn:aws:glue:us-east-1:123456789012:job/vf-validate-spark"
    ]


def ses_call(config_set: str | None) -> Call:
    raw = b"From: reports@example.org\r\nTo: care-team@example.org\r\nSubject: x\r\n\r\nbody\r\n"
    params = {"Content": {"Raw": {"Data": raw}}}
    if config_set:
        params["ConfigurationSetName"] = config_set
    return Call("notify", "sesv2", "ses", "SendEmail", params)


def test_ses_sandbox_recipients_and_configuration_set_are_allowed(roles, tmp_path):
    assert missing([ses_call("vf-reports")], roles, ROLE_OF, REGION) == []
    # Without recipient identities (production access) the sandbox check of the recipient fails:
    # that is what ses_verify_recipients (default true) is for.
    production = roles_for(tmp_path, ses_verify_recipients=False)
    assert missing([ses_call("vf-reports")], production, ROLE_OF, REGION) == [
        "notify (vf-notify): ses:SendEmail on "
        "arn:aws:ses:us-east-1:123456789012:identity/care-team@example.org"
    ]
    assert missing([ses_call("another-set")], roles, ROLE_OF, REGION)


@pytest.mark.parametrize(
    ("model_id", "resource"),
    [
        ("amazon.nova-lite-v1:0", "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0"),
        (
            "us.amazon.nova-lite-v1:0",
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-lite-v1:0",
        ),
        ("eu.amazon.nova-lite-v1:0", "arn:aws:bedrock:eu-west-3::foundation-model/amazon.nova-lite-v1:0"),
    ],
)  # fmt: skip
def test_bedrock_base_models_and_inference_profiles_are_allowed(tmp_path, model_id, resource):
    roles = roles_for(tmp_path, bedrock_model_id=model_id)
    statements = roles["vf-analyze"]
    converse = Call("analyze", "bedrock-runtime", "bedrock", "Converse", {"modelId": model_id})
    assert missing([converse], roles, ROLE_OF, REGION) == []
    # the profile routes to the model in other regions: IAM must allow the model there too
    from terraform_iam import allowed

    assert allowed(statements, "bedrock:InvokeModel", resource)
    assert not allowed(statements, "bedrock:InvokeModel", resource.replace("nova-lite", "nova-pro"))


def test_inference_profile_ids_find_the_base_models_price():
    analyst = BedrockAnalyst("eu.amazon.nova-lite-v1:0", {"amazon.nova-lite-v1:0": (0.06, 0.24)}, client=None)
    assert analyst.cost(1000, 1000) == pytest.approx(0.30)


def test_s3_calls_need_the_bucket_key_too():
    put = Call("validate_job", "s3", "s3", "PutObject", {"Bucket": "vf-data", "Key": "processed/x"})
    actions = [a for a, _ in permissions(put, REGION)]
    assert actions == ["s3:PutObject", "kms:GenerateDataKey", "kms:Decrypt"]
    assert dataclasses.replace(put, operation="GetObject").operation == "GetObject"


def test_an_athena_query_needs_the_catalog_the_lake_and_the_results_location(roles):
    sql = "WITH b AS (SELECT * FROM flagged_files WHERE batch_id = :batch_id) SELECT count(*) FROM b"
    views = {"flagged_files": {"processed_files", "anomaly_thresholds"}, "anomaly_thresholds": set()}
    where = {
        "workgroup": "vf",
        "database": "vf",
        "data_bucket": "vf-data",
        "results_prefix": "athena-results/",
    }
    query = athena_query("analyze", sql, views, **where)
    assert query.params["objects"] == ["anomaly_thresholds", "flagged_files", "processed_files"]
    assert missing([query], roles, ROLE_OF, REGION) == []
    without = {r: [s for s in st if s.sid not in ("Catalog", "QueryResults")] for r, st in roles.items()}
    gaps = missing([query], without, ROLE_OF, REGION)
    assert (
        "analyze (vf-analyze): glue:GetTable on arn:aws:glue:us-east-1:123456789012:table/vf/flagged_files"
        in gaps
    )
    assert any("s3:PutObject on arn:aws:s3:::vf-data/athena-results/" in g for g in gaps)


def test_the_digest_role_runs_its_queries_on_summaries_only_and_publishes_to_the_results_topic(roles):
    """The digest function's calls (recorded on moto in tests/test_digest_aws.py) in brief: its
    Athena queries read batch_summaries, the lease is the batch table's item, the fan-out is the
    results topic; it may not read the readings or publish to the alarms topic."""
    from vitalflow.aggregate.queries import load_all

    where = {
        "workgroup": "vf",
        "database": "vf",
        "data_bucket": "vf-data",
        "results_prefix": "athena-results/",
    }
    queries = [
        athena_query("digest", q.athena, {}, **where)
        for n, q in load_all().items()
        if n.startswith("digest/")
    ]
    assert {o for q in queries for o in q.params["objects"]} == {"batch_summaries"}
    topic = f"arn:aws:sns:{REGION}:123456789012:vf-results"
    publish = Call("digest", "sns", "sns", "Publish", {"TopicArn": topic})
    lease = Call("digest", "dynamodb", "dynamodb", "UpdateItem", {"TableName": "vf-batches"})
    assert missing([*queries, publish, lease], roles, ROLE_OF, REGION) == []
    readings = Call(
        "digest", "s3", "s3", "GetObject", {"Bucket": "vf-data", "Key": "processed/dt=2026-11-22/x.parquet"}
    )
    alarms = Call("digest", "sns", "sns", "Publish", {"TopicArn": topic.replace("vf-results", "vf-alerts")})
    assert len(missing([readings, alarms], roles, ROLE_OF, REGION)) == 2
