"""The Glue Python shell entry point, as Glue runs it: also under Python 3.9 (``make test39``).

The job's import closure must load on the interpreter Glue gives it and leave out what only the
Lambdas or the CLI need; the job must validate an S3 object into the lake (moto) end to end.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
JOB = REPO / "jobs" / "validate_batch.py"
NOT_IN_THE_JOB = ("matplotlib", "duckdb", "sqlglot", "rich", "aws_lambda_powertools")


def test_job_import_closure_loads_without_what_it_does_not_need() -> None:
    script = (
        "import importlib.util, json, sys;"
        f"spec = importlib.util.spec_from_file_location('job', {str(JOB)!r});"
        "job = importlib.util.module_from_spec(spec); spec.loader.exec_module(job);"
        "import vitalflow.validate.batch, vitalflow.aws.runtime;"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    loaded = set(json.loads(proc.stdout.splitlines()[-1]))
    assert "great_expectations" in loaded
    assert not loaded & set(NOT_IN_THE_JOB), sorted(loaded & set(NOT_IN_THE_JOB))


def _load_job():
    spec = importlib.util.spec_from_file_location("validate_batch_job", JOB)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_job_validates_an_s3_object(aws_credentials: str, tmp_path: Path) -> None:
    import awswrangler as wr
    import boto3
    import moto
    import pyarrow.parquet as pq

    from conftest import csv_text, row
    from vitalflow.lake import FILES_TABLES
    from vitalflow.tables import LakeTables

    with moto.mock_aws():
        s3 = boto3.client("s3")
        for bucket in ("vf-data", "vf-docs"):
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        boto3.client("events").create_event_bus(Name="vf-bus")
        boto3.client("dynamodb").create_table(
            TableName="vf-batches",
            KeySchema=[{"AttributeName": "batch_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "batch_id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        wr.catalog.create_database("vf")
        tables = LakeTables.glue("vf", "vf-data", create=True)  # Terraform's Iceberg tables, stood in for
        for table in FILES_TABLES.values():
            tables.table(table)
        body = csv_text([row(), row(user_id="u-2", heart_rate="٧٢"), row(user_id="u-3", spo2="85")])
        s3.put_object(Bucket="vf-data", Key="raw/2026-11-20/clinic.csv", Body=body.encode())
        job = _load_job()
        argv = [
            "--source_bucket",
            "vf-data",
            "--source_key",
            "raw/2026-11-20/clinic.csv",
            "--VITALFLOW_DATA_BUCKET",
            "vf-data",
            "--VITALFLOW_DOCS_BUCKET",
            "vf-docs",
            "--VITALFLOW_TABLE_NAME",
            "vf-batches",
            "--VITALFLOW_EVENT_BUS",
            "vf-bus",
            "--VITALFLOW_GLUE_DATABASE",
            "vf",
            "--VITALFLOW_REGION",
            "eu-west-1",
            "--VITALFLOW_KMS_KEY_ID",  # empty: Glue drops empty values; must not swallow the next flag
            "--VITALFLOW_CHUNK_ROWS",
            "2",
        ]
        assert job.main(argv) == 0
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket="vf-data")["Contents"]]
        (manifest_key,) = [k for k in keys if k.startswith("manifests/")]
        manifest = json.loads(s3.get_object(Bucket="vf-data", Key=manifest_key)["Body"].read())
        assert (manifest["rows_processed"], manifest["rows_rejected"]) == (2, 1)
        assert manifest["rejected_by_reason"] == {"heart_rate:not_a_number": 1}
        local = tmp_path / "p.parquet"
        s3.download_file("vf-data", manifest["processed_files"][0], str(local))
        assert sorted(pq.read_table(local, partitioning=None).column("spo2").to_pylist()) == [85, 98]
        assert tables.live_keys("processed_files") == manifest["processed_files"]  # committed to Iceberg
        (snapshot,) = tables.table("processed_files").metadata.snapshots
        assert snapshot.summary is not None and snapshot.summary["vitalflow.batch-id"] == manifest["batch_id"]
