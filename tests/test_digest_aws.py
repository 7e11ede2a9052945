"""The digest on moto (issue 22): the scheduler's target function, invoked with the schedule's input,
runs the monitors (the same sql/digest on DuckDB over a copy of the bucket: moto runs no SQL), sends
one email through SES and publishes one message to the results topic, whose SQS subscriber with a
matching filter policy gets it and the other does not; a replayed invocation sends nothing. Every AWS
call the function makes is allowed by the role Terraform gives it, and the schedule's role may invoke
exactly that function."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from aws_stack import (
    CONFIG_SET,
    DATA,
    RECIPIENT,
    REGION,
    SENDER,
    create_stack,
    mirror_lake,
    stack_settings,
)
from conftest import REPO
from digest_lake import DAY, ninety_days
from iam_calls import CallRecorder, missing
from terraform_iam import allowed, role_policies
from test_aws_e2e import TFVARS, Context, RecordedAthena, load, sent_emails
from vitalflow.aws import lambda_context
from vitalflow.aws.runtime import aws_runtime

SCHEDULED = {"scheduled_time": "2026-12-01T07:00:00Z"}  # the schedule's input: digests the day before
MATCHING = {"kind": ["digest"], "has_anomalies": ["true"]}
NOT_MATCHING = {"kind": ["digest"], "risk_level": ["low"]}


class DigestAthena(RecordedAthena):
    def for_summaries(self, since, until):
        return self  # as Athena: the digest's predicates on dt prune the partitions


@pytest.fixture(scope="module")
def roles(tmp_path_factory):
    dist = tmp_path_factory.mktemp("dist")
    (dist / "glue-job-py3.9.zip").write_bytes(b"")
    variables = {
        **TFVARS,
        "glue_artifact": str(dist / "glue-job-py3.9.zip"),
        "lambda_packages_dir": str(dist),
    }
    return role_policies(REPO / "terraform", variables, REGION)


@pytest.fixture
def stack(monkeypatch, tmp_path):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "POWERTOOLS_SERVICE_NAME": "vitalflow",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws(), CallRecorder().installed() as recorder:
        create_stack()
        sns, sqs = boto3.client("sns"), boto3.client("sqs")
        topic = sns.create_topic(Name="vf-results")["TopicArn"]
        queues = {}
        for name, policy in (("matching", MATCHING), ("not-matching", NOT_MATCHING)):
            url = sqs.create_queue(QueueName=f"vf-{name}")["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
            sns.subscribe(
                TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"FilterPolicy": json.dumps(policy)}
            )
            queues[name] = url
        summaries = tmp_path / "generated"
        ninety_days(summaries, batches_per_day=1)
        s3 = boto3.client("s3")
        for path in sorted((summaries / "summaries").rglob("*.parquet")):
            s3.upload_file(str(path), DATA, path.relative_to(summaries).as_posix())
        settings = stack_settings(
            athena_workgroup="vf",
            mail_from=SENDER,
            mail_to=(RECIPIENT,),
            ses_configuration_set=CONFIG_SET,
            fanout_topic_arn=topic,
        )
        runtime = aws_runtime(settings)
        runtime.engine = DigestAthena(mirror_lake(tmp_path / "mirror"), recorder)  # type: ignore[assignment]
        recorder.calls.clear()  # the set-up's calls are no component's
        lambda_context.use(runtime)
        yield {"queues": queues, "calls": recorder}
        lambda_context.use(None)


def messages(url: str) -> list[dict]:
    got = boto3.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
    return [json.loads(m["Body"]) for m in got.get("Messages", [])]


@pytest.mark.slow
def test_the_schedules_target_sends_one_digest_and_fans_it_out_by_filter_policy(stack, roles):
    digest = load(REPO / "lambdas" / "digest.py")
    with stack["calls"].running("digest"):
        first = digest.handler(SCHEDULED, Context())
        again = digest.handler(SCHEDULED, Context())  # the scheduler retries, or an operator replays
    assert first["day"] == DAY.isoformat() and first["findings"] == 2 and first["sent"] and first["published"]
    assert again["sent"] is None and again["published"] is None
    (mail,) = sent_emails()
    raw = mail.raw_data if isinstance(mail.raw_data, str) else mail.raw_data.decode()
    assert f"vitalflow digest {DAY.isoformat()}: 2 finding(s) need attention" in raw
    (delivered,) = messages(stack["queues"]["matching"])
    assert {k: v["Value"] for k, v in delivered["MessageAttributes"].items()} == {
        "kind": "digest", "source": "all", "risk_level": "high", "has_anomalies": "true",
    }  # fmt: skip
    body = json.loads(delivered["Message"])
    assert [(f["source"], f["kind"]) for f in body["findings"]] == [
        ("climbing", "anomaly"),
        ("silent", "overdue"),
    ]
    assert messages(stack["queues"]["not-matching"]) == []
    calls = stack["calls"].calls
    assert {c.service for c in calls} >= {"athena", "sesv2", "sns", "dynamodb"}
    gaps = missing(calls, roles, {"digest": "vf-digest"}, REGION)
    assert not gaps, "Terraform's IAM does not allow:\n" + "\n".join(gaps)
    without_fan_out = {**roles, "vf-digest": [s for s in roles["vf-digest"] if s.sid != "FanOut"]}
    assert any(
        "sns:Publish" in gap for gap in missing(calls, without_fan_out, {"digest": "vf-digest"}, REGION)
    )


def test_the_schedule_may_invoke_the_digest_function_and_nothing_else(roles):
    function = f"arn:aws:lambda:{REGION}:123456789012:function:vf-digest"
    assert allowed(roles["vf-digest-scheduler"], "lambda:InvokeFunction", function)
    assert not allowed(
        roles["vf-digest-scheduler"], "lambda:InvokeFunction", function.replace("digest", "notify")
    )
    assert [s.sid for s in roles["vf-digest-scheduler"]] == ["InvokeDigest", "ReadEncryptedInput"]
