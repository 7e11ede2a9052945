"""The whole AWS flow on moto: upload -> SQS -> start_validation -> Glue job -> EventBridge -> analyze
-> notify; then every event delivered again, and nothing changes.

Athena's part runs the same sql/ files on DuckDB over a copy of the moto bucket's Parquet (moto does
not execute SQL). Bedrock is the fake Converse server on 127.0.0.1, through the real boto3 client.

moto does not enforce IAM, so every AWS call each component makes is recorded (botocore event hooks)
and checked against the policy Terraform gives that component's role, evaluated from terraform/
for resource names that match this test's (name = "vf").
"""

from __future__ import annotations

import email
import email.policy
import importlib.util
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses import ses_backends

from aws_stack import (
    CONFIG_SET,
    DATA,
    DB,
    DOCS,
    JOB,
    RECIPIENT,
    REGION,
    SENDER,
    TABLE,
    create_stack,
    job_argv,
    mirror_lake,
    receive,
    sqs_event,
    stack_settings,
)
from conftest import REPO
from fakes.bedrock_server import FakeBedrock
from iam_calls import CallRecorder, athena_query, missing
from terraform_iam import role_policies
from vitalflow import lake
from vitalflow.aws import lambda_context
from vitalflow.aws.runtime import aws_runtime
from vitalflow.generate import GeneratorOptions, generate
from vitalflow.local.query_engine import DuckDBEngine
from vitalflow.tables import LakeTables

TFVARS = {
    "name": "vf",
    "region": REGION,
    "data_bucket_name": DATA,
    "docs_bucket_name": DOCS,
    "mail_from": SENDER,
    "mail_to": [RECIPIENT],
    "bedrock_model_id": "amazon.nova-lite-v1:0",
}
ROLE_OF = {
    "start_validation": "vf-start-validation",
    "validate_job": "vf-validate-job",
    "analyze": "vf-analyze",
    "notify": "vf-notify",
    "erase_job": "vf-erase-job",
}


def load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"vf_{path.stem}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Context:
    function_name: str = "vitalflow-test"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{DEFAULT_ACCOUNT_ID}:function:vitalflow-test"
    aws_request_id: str = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 290_000  # a fresh 300 s invocation


@pytest.fixture(scope="module")
def terraform_roles(tmp_path_factory):
    """The roles' statements as Terraform would create them (packages are only hashed: stand-ins do)."""
    dist = tmp_path_factory.mktemp("dist")
    (dist / "glue-job-py3.9.zip").write_bytes(b"")
    roles = role_policies(
        REPO / "terraform",
        {**TFVARS, "glue_artifact": str(dist / "glue-job-py3.9.zip"), "lambda_packages_dir": str(dist)},
        REGION,
    )
    assert set(ROLE_OF.values()) <= set(roles), sorted(roles)
    return roles


@pytest.fixture
def calls():
    with CallRecorder().installed() as recorder:
        yield recorder


def assert_iam_covers(recorder: CallRecorder, roles) -> None:
    components = {c.component for c in recorder.calls}
    assert components, "no AWS calls were recorded"
    gaps = missing(recorder.calls, roles, ROLE_OF, REGION)
    assert not gaps, "Terraform's IAM does not allow:\n" + "\n".join(gaps)


@pytest.fixture
def aws(monkeypatch, tmp_path, calls):
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "POWERTOOLS_SERVICE_NAME": "vitalflow",
        "POWERTOOLS_METRICS_NAMESPACE": "vitalflow",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with mock_aws(), FakeBedrock() as bedrock:
        queues = create_stack()
        results = boto3.client("sns").create_topic(Name="vf-results")["TopicArn"]  # the fan-out topic
        settings = stack_settings(
            glue_job_name=JOB,
            glue_max_active_runs=5,  # as Terraform sets it: start_validation counts active runs first
            analyst="bedrock",
            bedrock_endpoint_url=bedrock.url,
            bedrock_timeout_s=5,
            mail_from=SENDER,
            mail_to=(RECIPIENT,),
            ses_configuration_set=CONFIG_SET,
            docs_base_url="https://docs.example.org",
            fanout_topic_arn=results,
        )
        runtime = aws_runtime(settings)
        lambda_context.use(runtime)
        yield {"queues": queues, "runtime": runtime, "bedrock": bedrock, "tmp": tmp_path, "calls": calls}
        lambda_context.use(None)


def as_component(aws, component: str, function, *args):
    """Call a handler or the job as that component: its AWS calls are recorded for the IAM check."""
    with aws["calls"].running(component):
        return function(*args)


class RecordedAthena:
    """Athena stands in: DuckDB runs the SQL, and the recorder gets the Athena call the running
    component would make (what it reads, where results go), for the IAM check."""

    def __init__(self, engine: DuckDBEngine, recorder: CallRecorder) -> None:
        self.engine, self.recorder = engine, recorder
        self.views = {
            created: read
            for read, created in (read_and_created(p) for p in (REPO / "sql" / "views").glob("*.sql"))
        }

    def query(self, sql, params=None):
        if self.recorder.component:
            where = {
                "workgroup": "vf",
                "database": DB,
                "data_bucket": DATA,
                "results_prefix": "athena-results/",
            }
            self.recorder.calls.append(athena_query(self.recorder.component, sql, self.views, **where))
        return self.engine.query(sql, params)

    def for_report(self, manifest, since):
        return self  # as Athena: the report's own predicates bound what it scans


def read_and_created(path: Path) -> tuple[set[str], str]:
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(path.read_text(), read="trino")
    created = tree.this.name
    return {t.name for t in tree.find_all(exp.Table)} - {created}, created


def mirror_engine(tmp: Path, recorder: CallRecorder) -> RecordedAthena:
    """Athena stands in: the same SQL on DuckDB over a copy of the bucket (moto runs no SQL)."""
    return RecordedAthena(mirror_lake(tmp / f"mirror-{uuid.uuid4().hex[:6]}"), recorder)


def raw_text(mail) -> str:
    return mail.raw_data if isinstance(mail.raw_data, str) else mail.raw_data.decode()


def sent_emails() -> list:
    return list(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages)


@pytest.mark.slow
def test_upload_to_email_and_replay_changes_nothing(aws, terraform_roles):
    start = load(REPO / "lambdas" / "start_validation.py")
    analyze = load(REPO / "lambdas" / "analyze.py")
    notify = load(REPO / "lambdas" / "notify.py")
    job = load(REPO / "jobs" / "validate_batch.py")
    uploads_url, uploads_arn = aws["queues"]["uploads"]

    source = generate(GeneratorOptions(rows=3000, seed=3), aws["tmp"] / "clinic.csv")
    boto3.client("s3").upload_file(str(source), DATA, "raw/2026-11-22/clinic.csv")

    upload_messages = receive(uploads_url)  # the upload, and S3's test event from setting up notifications
    assert sum('"ObjectCreated' in m["Body"] for m in upload_messages) == 1
    assert as_component(
        aws, "start_validation", start.handler, sqs_event(upload_messages, uploads_arn), Context()
    ) == {"batchItemFailures": []}
    glue = boto3.client("glue")
    (run,) = glue.get_job_runs(JobName=JOB)["JobRuns"]
    argv = job_argv(run)
    assert as_component(aws, "validate_job", job.main, argv) == 0

    validated = receive(aws["queues"]["analyze"][0])
    assert [json.loads(m["Body"])["detail-type"] for m in validated] == ["BatchValidated"]
    batch_id = json.loads(validated[0]["Body"])["detail"]["batch_id"]
    aws["runtime"].engine = mirror_engine(aws["tmp"], aws["calls"])
    as_component(aws, "analyze", analyze.handler, json.loads(validated[0]["Body"]), Context())
    assert len(aws["bedrock"].requests) == 1

    analyzed = receive(aws["queues"]["notify"][0])
    assert [json.loads(m["Body"])["detail-type"] for m in analyzed] == ["BatchAnalyzed"]
    result = as_component(aws, "notify", notify.handler, json.loads(analyzed[0]["Body"]), Context())
    assert result["sent"]

    item = boto3.client("dynamodb").get_item(TableName=TABLE, Key={"batch_id": {"S": batch_id}})["Item"]
    record = json.loads(item["record"]["S"])
    assert record["analysis"]["model"] == "amazon.nova-lite-v1:0" and record["analysis"]["tokens_in"] == 1200
    assert record["manifest"]["rows_in"] == 3000
    assert record["manifest"]["rows_processed"] + record["manifest"]["rows_rejected"] == 3000
    assert "step_notified" in item
    tables = LakeTables.glue(DB, DATA)  # the batch is in the Iceberg table, in its own snapshot
    assert tables.batch_keys("processed_files", batch_id) == sorted(record["manifest"]["processed_files"])
    docs = [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=DOCS)["Contents"]]
    assert "docs/index.html" in docs and any(k.endswith(f"{batch_id}.html") for k in docs)
    # the report page the dashboard links, beside Data Docs: users by rank, never by id
    page = boto3.client("s3").get_object(Bucket=DOCS, Key=f"docs/reports/{batch_id}.html")["Body"].read()
    assert b"<html" in page.lower() and b"user-0" not in page  # the generator's ids are user-00000...
    # the commit marker (what the views users query read) and the summary (what later reports read)
    lake_keys = [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=DATA)["Contents"]]
    assert f"commits/{batch_id}.parquet" in lake_keys
    (summary,) = [k for k in lake_keys if k.startswith("summaries/")]
    assert summary == lake.summary_key(summary.split("/")[1][3:], batch_id)
    (mail,) = sent_emails()
    message = email.message_from_string(raw_text(mail), policy=email.policy.default)
    assert batch_id in message["Subject"]
    plain = message.get_body(("plain",)).get_content()
    assert "https://docs.example.org/validations/" in plain and f"{batch_id}" in plain

    # every event a second time: nothing new happens
    before = dict(item)
    upload = next(m for m in upload_messages if '"ObjectCreated' in m["Body"])
    upload_again = dict(upload, MessageId="again-1")
    assert as_component(
        aws, "start_validation", start.handler, sqs_event([upload_again], uploads_arn), Context()
    ) == {"batchItemFailures": []}
    assert len(glue.get_job_runs(JobName=JOB)["JobRuns"]) == 1
    as_component(aws, "analyze", analyze.handler, json.loads(validated[0]["Body"]), Context())
    assert (
        as_component(aws, "notify", notify.handler, json.loads(analyzed[0]["Body"]), Context())["sent"]
        is None
    )
    # the replayed analysis is announced again (a lost announcement must not lose the report) ...
    (again,) = receive(aws["queues"]["notify"][0])
    assert json.loads(again["Body"])["detail"]["replay"] is True
    # ... and delivering that announcement sends nothing new
    assert as_component(aws, "notify", notify.handler, json.loads(again["Body"]), Context())["sent"] is None
    assert len(sent_emails()) == 1 and len(aws["bedrock"].requests) == 1
    after = boto3.client("dynamodb").get_item(TableName=TABLE, Key={"batch_id": {"S": batch_id}})["Item"]
    assert after == before
    assert {c.component for c in aws["calls"].calls} == set(ROLE_OF) - {"erase_job"}  # its own test below
    assert [c.operation for c in aws["calls"].calls if c.service == "athena"], (
        "the report ran no Athena query"
    )
    # the analysed batch is fanned out once, with the attributes subscribers filter on
    (published,) = [c for c in aws["calls"].calls if c.service == "sns" and c.operation == "Publish"]
    assert published.component == "analyze"
    assert set(published.params["MessageAttributes"]) == {"kind", "source", "risk_level", "has_anomalies"}
    assert_iam_covers(aws["calls"], terraform_roles)


@pytest.mark.slow
def test_rejected_file_sends_one_failure_alert(aws, terraform_roles):
    start = load(REPO / "lambdas" / "start_validation.py")
    notify = load(REPO / "lambdas" / "notify.py")
    job = load(REPO / "jobs" / "validate_batch.py")
    uploads_url, uploads_arn = aws["queues"]["uploads"]
    boto3.client("s3").put_object(
        Bucket=DATA, Key="raw/2026-11-22/broken.csv", Body=b"\xff\xfe\x00b\x00a\x00d"
    )
    as_component(
        aws, "start_validation", start.handler, sqs_event(receive(uploads_url), uploads_arn), Context()
    )
    (run,) = boto3.client("glue").get_job_runs(JobName=JOB)["JobRuns"]
    assert as_component(aws, "validate_job", job.main, job_argv(run)) == 0
    (failed,) = receive(aws["queues"]["notify"][0])
    event = json.loads(failed["Body"])
    assert event["detail-type"] == "BatchFailed" and "UTF-16" in event["detail"]["error"]
    assert as_component(aws, "notify", notify.handler, event, Context())["sent"]
    assert as_component(aws, "notify", notify.handler, event, Context())["sent"] is None
    (mail,) = sent_emails()
    assert "could not be processed" in raw_text(mail)
    assert_iam_covers(aws["calls"], terraform_roles)


class ViewsMissing:
    """Athena before the views exist: what a first deployment without them met on every batch."""

    def query(self, sql, params=None):
        from vitalflow.exceptions import QueryError

        raise QueryError("TABLE_NOT_FOUND: line 4:10: Table 'awsdatacatalog.vf.flagged_files' does not exist")

    def for_report(self, manifest, since):
        return self


def lambda_failure_record(function: str, request: dict, exc: BaseException, request_id: str) -> dict:
    """What Lambda puts on the bus (the analyze function's on-failure destination) once retries are spent."""
    arn = f"arn:aws:lambda:{REGION}:{DEFAULT_ACCOUNT_ID}:function:{function}:$LATEST"
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Lambda Function Invocation Result - Failure",
        "source": "lambda",
        "account": DEFAULT_ACCOUNT_ID,
        "time": "2026-11-22T10:00:00Z",
        "region": REGION,
        "resources": [arn],
        "detail": {
            "version": "1.0",
            "timestamp": "2026-11-22T10:00:00.000Z",
            "requestContext": {
                "requestId": request_id,
                "functionArn": arn,
                "condition": "RetriesExhausted",
                "approximateInvokeCount": 3,
            },
            "requestPayload": request,
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled",
            },
            "responsePayload": {"errorMessage": str(exc), "errorType": type(exc).__name__, "stackTrace": []},
        },
    }


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:No application metrics to publish")  # the handler raised first
def test_a_finally_failed_analysis_sends_one_alert(aws, terraform_roles):
    start = load(REPO / "lambdas" / "start_validation.py")
    analyze = load(REPO / "lambdas" / "analyze.py")
    notify = load(REPO / "lambdas" / "notify.py")
    job = load(REPO / "jobs" / "validate_batch.py")
    uploads_url, uploads_arn = aws["queues"]["uploads"]
    source = generate(GeneratorOptions(rows=500, seed=5), aws["tmp"] / "clinic.csv")
    boto3.client("s3").upload_file(str(source), DATA, "raw/2026-11-22/clinic.csv")
    as_component(
        aws, "start_validation", start.handler, sqs_event(receive(uploads_url), uploads_arn), Context()
    )
    (run,) = boto3.client("glue").get_job_runs(JobName=JOB)["JobRuns"]
    argv = job_argv(run)
    assert as_component(aws, "validate_job", job.main, argv) == 0
    (validated,) = receive(aws["queues"]["analyze"][0])
    request = json.loads(validated["Body"])
    batch_id = request["detail"]["batch_id"]

    aws["runtime"].engine = ViewsMissing()
    with pytest.raises(Exception, match="TABLE_NOT_FOUND") as failed:
        as_component(aws, "analyze", analyze.handler, request, Context())
    record = lambda_failure_record("vf-analyze", request, failed.value, "req-analyze-3")
    assert as_component(aws, "notify", notify.handler, record, Context())["sent"]
    assert as_component(aws, "notify", notify.handler, record, Context())["sent"] is None  # replayed record
    (mail,) = sent_emails()
    message = email.message_from_string(raw_text(mail), policy=email.policy.default)
    assert message["Subject"] == f"vitalflow: batch {batch_id} could not be analysed"
    assert "TABLE_NOT_FOUND" in message.get_body(("plain",)).get_content()
    assert_iam_covers(aws["calls"], terraform_roles)


def validated_batch(aws, rows: int) -> dict:
    """Upload, start and run the job; the BatchValidated event the analyze function receives."""
    start = load(REPO / "lambdas" / "start_validation.py")
    job = load(REPO / "jobs" / "validate_batch.py")
    uploads_url, uploads_arn = aws["queues"]["uploads"]
    source = generate(GeneratorOptions(rows=rows, seed=7), aws["tmp"] / "clinic.csv")
    boto3.client("s3").upload_file(str(source), DATA, "raw/2026-11-22/clinic.csv")
    as_component(
        aws, "start_validation", start.handler, sqs_event(receive(uploads_url), uploads_arn), Context()
    )
    (run,) = boto3.client("glue").get_job_runs(JobName=JOB)["JobRuns"]
    argv = job_argv(run)
    assert as_component(aws, "validate_job", job.main, argv) == 0
    (validated,) = receive(aws["queues"]["analyze"][0])
    return json.loads(validated["Body"])


@pytest.mark.slow
def test_a_bedrock_fallback_is_a_metric_the_alarm_watches(aws, terraform_roles, capsys):
    analyze = load(REPO / "lambdas" / "analyze.py")
    event = validated_batch(aws, 300)
    aws["runtime"].engine = mirror_engine(aws["tmp"], aws["calls"])
    aws["bedrock"].script.extend(["malformed", "malformed"])  # not the JSON asked for, twice
    capsys.readouterr()
    as_component(aws, "analyze", analyze.handler, event, Context())
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    (emf,) = [m for m in metrics if "AnalystFallback" in m]
    assert emf["AnalystFallback"] in (1, 1.0, [1.0]) and emf["service"] == "vitalflow"
    assert emf["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "vitalflow"
    alarm = (REPO / "terraform" / "modules" / "monitoring" / "main.tf").read_text()
    assert 'metric_name         = "AnalystFallback"' in alarm
    assert_iam_covers(aws["calls"], terraform_roles)


def erase_argv(user_id: str) -> list[str]:
    """The operator's request object (the id travels there), then the erasure job's command line: the
    validation job's settings, Terraform's --vitalflow_task, the request's key."""
    request = "erase-requests/ticket-17.json"
    boto3.client("s3").put_object(Bucket=DATA, Key=request, Body=json.dumps({"user_id": user_id}).encode())
    defaults = boto3.client("glue").get_job(JobName=JOB)["Job"]["DefaultArguments"]
    run = {"--vitalflow_task": "erase", "--request_key": request}
    argv = [token for pair in {**defaults, **run}.items() for token in pair]
    assert not [a for a in argv if user_id in a]  # never a job argument
    return argv


def versions_holding(key: str, text: bytes) -> list[str]:
    s3 = boto3.client("s3")
    listed = s3.list_object_versions(Bucket=DATA, Prefix=key).get("Versions", [])
    return [
        v["VersionId"]
        for v in listed
        if text in s3.get_object(Bucket=DATA, Key=key, VersionId=v["VersionId"])["Body"].read()
    ]


def test_the_erasure_job_removes_rows_raw_lines_and_older_versions(aws, terraform_roles, capsys):
    """The operator's entry point on AWS: the job's script with --vitalflow_task erase runs the same
    core as ``vitalflow erase``; the raw upload's older versions holding the id go too."""
    job = load(REPO / "jobs" / "validate_batch.py")
    source = generate(GeneratorOptions(rows=300, seed=5), aws["tmp"] / "clinic.csv")
    user = source.read_text().splitlines()[1].split(",")[1]
    key = "raw/2026-11-22/clinic.csv"
    boto3.client("s3").upload_file(str(source), DATA, key)
    run = {"Arguments": {"--source_bucket": DATA, "--source_key": key}}
    assert as_component(aws, "validate_job", job.main, job_argv(run)) == 0
    holding = source.read_bytes().count(f",{user},".encode())
    assert holding and versions_holding(key, f",{user},".encode())

    assert as_component(aws, "erase_job", job.main, erase_argv(user)) == 0
    assert versions_holding(key, f",{user},".encode()) == []  # no version, current or older
    out = capsys.readouterr().out
    assert user not in out and "1 older version(s)" in out
    assert not boto3.client("s3").list_objects_v2(Bucket=DATA, Prefix="erase-requests/").get("Contents")
    assert len(boto3.client("s3").list_object_versions(Bucket=DATA, Prefix=key)["Versions"]) == 1
    tables = (
        LakeTables.for_store(aws["runtime"].store) if aws["runtime"].tables is None else aws["runtime"].tables
    )
    rows = tables.table("processed_files").scan(selected_fields=("user_id",)).to_arrow()
    assert rows.num_rows and user not in rows.column(0).to_pylist()
    (audit,) = list(aws["runtime"].store.list_keys("audit/erasures/"))
    assert user.encode() not in aws["runtime"].store.get_bytes(audit)
    assert_iam_covers(aws["calls"], terraform_roles)


def test_only_the_operator_role_may_start_the_erasure_job(tmp_path):
    """No role of the configuration but the operator's may start the erasure job, and that one only
    when the deployer lists who may assume it."""
    from terraform_iam import allowed

    (tmp_path / "glue-job-py3.9.zip").write_bytes(b"")
    variables = {
        **TFVARS,
        "glue_artifact": str(tmp_path / "glue-job-py3.9.zip"),
        "lambda_packages_dir": str(tmp_path),
    }
    erase_job = f"arn:aws:glue:{REGION}:123456789012:job/vf-erase"
    validate_job = f"arn:aws:glue:{REGION}:123456789012:job/{JOB}"
    operator = ["arn:aws:iam::123456789012:role/privacy-officer"]
    roles = role_policies(REPO / "terraform", {**variables, "erase_operator_principals": operator}, REGION)
    starters = sorted(r for r, st in roles.items() if allowed(st, "glue:StartJobRun", erase_job))
    assert starters == ["vf-erase-operator"]
    assert not allowed(roles["vf-erase-operator"], "glue:StartJobRun", validate_job)
    audit = "arn:aws:s3:::vf-data/audit/erasures/x.json"
    assert allowed(roles["vf-erase-operator"], "s3:GetObject", audit)
    assert allowed(roles["vf-erase-operator"], "s3:PutObject", "arn:aws:s3:::vf-data/erase-requests/t.json")
    assert not allowed(roles["vf-erase-operator"], "s3:PutObject", "arn:aws:s3:::vf-data/raw/x.csv")
    assert not allowed(roles["vf-erase-operator"], "s3:GetObject", "arn:aws:s3:::vf-data/raw/x.csv")
    assert "vf-erase-operator" not in role_policies(REPO / "terraform", variables, REGION)


def test_the_migration_task_adds_a_lake_of_the_earlier_layout_to_the_tables(aws, terraform_roles, capsys):
    """Upgrading a deployment (README "Upgrading"): the earlier layout's committed batches, files under
    ``dt=`` folders without the ``dt`` column, become part of the Iceberg tables that Terraform made,
    by a run of the validation job with --vitalflow_task migrate, under the job's own role."""
    from datetime import datetime, timedelta, timezone

    import pyarrow.parquet as pq

    from lakefixture import reading, write_batch

    earlier = aws["tmp"] / "earlier"
    at = datetime(2026, 11, 20, 8, tzinfo=timezone.utc)
    for i in range(2):
        rows = [reading(f"u{i}", at + timedelta(hours=h, minutes=i)) for h in (0, 30)]
        write_batch(earlier, f"{i:016x}", rows, [{"reasons": ["x"]}], ingested_at=at, by_day=True)
    s3 = boto3.client("s3")
    for folder in ("processed", "rejected", "manifests", "commits"):
        for path in (earlier / folder).rglob("*"):
            if path.is_file() and "metadata" not in path.parts:
                if folder in ("processed", "rejected"):
                    pq.write_table(pq.read_table(path, partitioning=None).drop(["dt"]), path)
                s3.upload_file(str(path), DATA, str(path.relative_to(earlier)))
    job = load(REPO / "jobs" / "validate_batch.py")
    argv = job_argv({"Arguments": {"--vitalflow_task": "migrate"}})
    assert as_component(aws, "validate_job", job.main, argv) == 0
    assert "migrated 2 batch(es); rows: 6 expected, 6 in the tables" in capsys.readouterr().out
    tables = LakeTables.glue(DB, DATA)
    assert tables.batch_keys("processed_files", f"{0:016x}") == [
        f"processed/dt=2026-11-20/{0:016x}.parquet",
        f"processed/dt=2026-11-21/{0:016x}.parquet",
    ]
    assert as_component(aws, "validate_job", job.main, argv) == 0  # once: a second run adds nothing
    assert "migrated 0 batch(es)" in capsys.readouterr().out
    assert_iam_covers(aws["calls"], terraform_roles)
