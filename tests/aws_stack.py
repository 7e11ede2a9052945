"""The deployment's AWS resources as moto holds them (names as Terraform derives them from name = "vf"),
and the few steps tests take with them: the moto end-to-end tests and the bare-runtime tests share it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import awswrangler as wr
import boto3

from vitalflow.config import Settings
from vitalflow.lake import FILES_TABLES
from vitalflow.local.object_store import LocalObjectStore
from vitalflow.local.query_engine import DuckDBEngine
from vitalflow.tables import LakeTables

REGION = "us-east-1"
DATA, DOCS, TABLE, BUS, JOB, DB = "vf-data", "vf-docs", "vf-batches", "vf", "vf-validate", "vf"
SENDER, RECIPIENT, CONFIG_SET = "reports@example.org", "care-team@example.org", "vf-reports"
JOB_ARGS = {
    "--VITALFLOW_DATA_BUCKET": DATA,
    "--VITALFLOW_DOCS_BUCKET": DOCS,
    "--VITALFLOW_TABLE_NAME": TABLE,
    "--VITALFLOW_EVENT_BUS": BUS,
    "--VITALFLOW_GLUE_DATABASE": DB,
    "--VITALFLOW_CHUNK_ROWS": "2000",
}


def athena_types(schema: Any) -> dict[str, str]:
    names = {
        "timestamp[us, tz=UTC]": "timestamp",
        "string": "string",
        "int32": "int",
        "int64": "bigint",
        "double": "double",
        "list<item: string>": "array<string>",
    }
    return {f.name: names[str(f.type)] for f in schema}


def create_stack() -> dict[str, tuple[str, str]]:
    """Buckets, upload notifications, the bus and its rules (to queues standing in for the functions),
    the batch table, SES, the catalog and the job. Returns each queue's (url, arn)."""
    s3, sqs, events = boto3.client("s3"), boto3.client("sqs"), boto3.client("events")
    for bucket in (DATA, DOCS):
        s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=DATA, VersioningConfiguration={"Status": "Enabled"})
    queues = {}
    for name in ("uploads", "analyze", "notify"):
        url = sqs.create_queue(QueueName=f"vf-{name}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        queues[name] = (url, arn)
    s3.put_bucket_notification_configuration(
        Bucket=DATA,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": queues["uploads"][1],
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "raw/"}]}},
                }
            ]
        },
    )
    events.create_event_bus(Name=BUS)
    for rule, types, queue in (
        ("to-analyze", ["BatchValidated"], "analyze"),
        ("to-notify", ["BatchAnalyzed", "BatchFailed"], "notify"),
    ):
        events.put_rule(
            Name=rule,
            EventBusName=BUS,
            EventPattern=json.dumps({"source": ["vitalflow"], "detail-type": types}),
        )
        events.put_targets(Rule=rule, EventBusName=BUS, Targets=[{"Id": queue, "Arn": queues[queue][1]}])
    batches_table()
    boto3.client("sesv2").create_email_identity(EmailIdentity=SENDER)
    boto3.client("sesv2").create_configuration_set(ConfigurationSetName=CONFIG_SET)
    wr.catalog.create_database(DB)
    tables = LakeTables.glue(DB, DATA, create=True)  # the Iceberg tables Terraform creates
    for table in FILES_TABLES.values():
        tables.table(table)
    boto3.client("glue").create_job(
        Name=JOB,
        Role="arn:aws:iam::123456789012:role/glue",
        Command={"Name": "pythonshell", "ScriptLocation": f"s3://{DATA}/jobs/x.py"},
        DefaultArguments=JOB_ARGS,
    )
    return queues


def stack_settings(**more: Any) -> Settings:
    """The AWS runtime's settings for this stack, plus a test's own."""
    return Settings(
        runtime="aws",
        region=REGION,
        data_bucket=DATA,
        docs_bucket=DOCS,
        table_name=TABLE,
        event_bus=BUS,
        glue_database=DB,
        **more,
    )


def batches_table(name: str = TABLE) -> None:
    """The batches table as Terraform makes it: one item per batch, keyed by its id."""
    boto3.client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "batch_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "batch_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def receive(queue_url: str) -> list[dict]:
    got = boto3.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
    return got.get("Messages", [])


def sqs_event(messages: list[dict], arn: str) -> dict:
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": {},
                "messageAttributes": {},
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": REGION,
            }
            for m in messages
        ]
    }


def job_argv(run: dict) -> list[str]:
    """The command line Glue gives the job for a run: the job's default arguments, then the run's."""
    defaults = boto3.client("glue").get_job(JobName=JOB)["Job"]["DefaultArguments"]
    return [token for pair in {**defaults, **run["Arguments"]}.items() for token in pair]


def mirror_lake(root: Path) -> DuckDBEngine:
    """The lake bucket copied to a folder, under the local engine: Athena's stand-in (moto runs no SQL)."""
    s3 = boto3.client("s3")
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=DATA):
        for item in page.get("Contents", []):
            target = root / item["Key"]
            target.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(DATA, item["Key"], str(target))
    return DuckDBEngine(LocalObjectStore(root))
