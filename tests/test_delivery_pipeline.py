"""The delivery pipeline (terraform/modules/delivery, enabled from terraform/): created on moto from the
module's own values (roles and their policies, the CodeBuild projects, the pipeline, the failure alert);
its stages hand artefacts and variables on as the buildspecs expect; checkov passes on the module enabled
and on the policies its expressions produce."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from moto import mock_aws
from moto.events.models import EventPattern
from moto.events.utils import EventTemplateParser

from conftest import REPO
from delivery_config import (
    LOCK_TABLE,
    PIPELINE,
    REGION,
    ROLE_OF,
    STATE_BUCKET,
    STATE_KEY,
    STATE_KMS_KEY,
    TFVARS,
    delivery,
    deployment,
    instances,
    policy_json,
    render,
)
from terraform_iam import ACCOUNT, Module

TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:vf-events"  # the root's alarm topic (module notifications)
STAGES = ["Source", "Build", "Plan", "Approve", "Apply"]


@pytest.fixture(scope="module")
def module(tmp_path_factory) -> Module:
    return delivery(tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="module")
def pipeline(module) -> dict[str, Any]:
    return render(instances(module, "aws_codepipeline.this")[""])


@pytest.fixture(scope="module")
def projects(module) -> dict[str, dict[str, Any]]:
    return {stage: render(p) for stage, p in instances(module, "aws_codebuild_project.this").items()}


def actions(pipeline: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(stage, action) in execution order."""
    return [
        (stage["name"], action)
        for stage in pipeline["stage"]
        for action in sorted(stage["action"], key=lambda a: a.get("run_order", 1))
    ]


def test_the_module_is_called_only_when_enabled(tmp_path):
    assert "delivery" in [m.name for m in deployment(tmp_path)]
    assert "delivery" not in [m.name for m in deployment(tmp_path, enable_delivery=False)]
    defaults = (REPO / "terraform" / "variables.tf").read_text()
    assert re.search(r'variable "enable_delivery" \{[^}]*default\s*=\s*false', defaults), "off by default"


def test_stages_run_in_order_and_hand_on_their_artefacts(pipeline, projects):
    assert [s["name"] for s in pipeline["stage"]] == STAGES
    assert pipeline["pipeline_type"] == "V2" and pipeline["execution_mode"] == "QUEUED"
    produced: set[str] = set()
    for stage, action in actions(pipeline):
        missing = set(action.get("input_artifacts", [])) - produced
        assert not missing, f"{stage}/{action['name']} reads {missing} before any action wrote it"
        assert not set(action.get("output_artifacts", [])) & produced, "an artefact written twice"
        produced |= set(action.get("output_artifacts", []))
    by_name = {a["name"]: (s, a) for s, a in actions(pipeline)}
    source = by_name["Source"][1]["configuration"]
    assert source["ConnectionArn"] == TFVARS["delivery_connection_arn"]
    assert source["FullRepositoryId"] == TFVARS["delivery_repository"]
    assert source["BranchName"] == TFVARS["delivery_branch"]
    for name, stage in (("Test", "test"), ("Package", "package"), ("Plan", "plan"), ("Apply", "apply")):
        assert by_name[name][1]["configuration"]["ProjectName"] == projects[stage]["name"]
    assert by_name["Plan"][1]["input_artifacts"] == ["source", "package"]
    assert by_name["Apply"][1]["input_artifacts"] == ["plan"], "Apply must apply the saved plan, nothing else"
    approve = by_name["Approve"][1]
    assert approve["category"] == "Approval" and approve["provider"] == "Manual"
    assert approve["configuration"]["NotificationArn"] == TOPIC
    store = pipeline["artifact_store"][0]
    assert store["encryption_key"][0] == {"id": TFVARS_KEY, "type": "KMS"}


TFVARS_KEY = (
    f"arn:aws:kms:{REGION}:{ACCOUNT}:key/00000000-0000-0000-0000-00000000c0de"  # module.kms (evaluated)
)


def test_pipeline_variables_come_from_earlier_actions_and_the_buildspecs_exports(pipeline):
    """#{Namespace.NAME} in an action's configuration: the namespace belongs to an earlier action, and a
    CodeBuild action's NAME is one its buildspec exports."""
    exported = {"SourceVariables": {"CommitId", "CommitMessage", "BranchName", "FullRepositoryName"}}
    plan_spec = yaml.safe_load((REPO / "buildspec" / "plan.yml").read_text())
    seen: dict[str, set[str]] = {}
    for stage, action in actions(pipeline):
        text = json.dumps(action["configuration"])
        for namespace, name in re.findall(r"#\{(\w+)\.(\w+)\}", text):
            assert namespace in seen, (
                f"{stage}/{action['name']} uses #{{{namespace}.{name}}} before it exists"
            )
            assert name in seen[namespace], f"{stage}/{action['name']}: {namespace} has no variable {name}"
        if "namespace" in action:
            names = exported.get(action["namespace"]) or set(plan_spec["env"]["exported-variables"])
            seen[action["namespace"]] = names
    assert "Plan" in seen, "the Plan action exports no variables"
    (apply,) = [a for s, a in actions(pipeline) if a["name"] == "Apply"]
    variables = json.loads(apply["configuration"]["EnvironmentVariables"])
    assert {"name": "APPROVED_PLAN_SHA256", "value": "#{Plan.PLAN_SHA256}", "type": "PLAINTEXT"} in variables


def test_projects_run_their_buildspec_on_a_pinned_image_with_the_state_settings(projects):
    for stage, project in projects.items():
        (source,) = project["source"]
        assert (REPO / source["buildspec"]).is_file() and source["buildspec"] == f"buildspec/{stage}.yml"
        (environment,) = project["environment"]
        assert re.fullmatch(
            r"aws/codebuild/[a-z0-9-]+:\d+\.\d+|[^:@]+@sha256:[0-9a-f]{64}", environment["image"]
        )
        assert environment["privileged_mode"] is False
        assert project["encryption_key"] == TFVARS_KEY
        (logs,) = project["logs_config"]
        assert logs["cloudwatch_logs"][0]["status"] == "ENABLED"
        env = {v["name"]: v["value"] for v in environment.get("environment_variable", [])}
        if stage in ("plan", "apply"):
            assert env["TF_STATE_BUCKET"] == STATE_BUCKET and env["TF_STATE_KEY"] == STATE_KEY
            assert env["TF_STATE_LOCK_TABLE"] == LOCK_TABLE and env["TF_STATE_KMS_KEY_ARN"] == STATE_KMS_KEY
        else:
            assert not [k for k in env if k.startswith("TF_STATE")], f"{stage} is given the state's settings"
    assert {v["name"]: v["value"] for v in projects["test"]["environment"][0]["environment_variable"]} == {
        "CI": "true"
    }


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


def api_pipeline(p: dict[str, Any]) -> dict[str, Any]:
    """The Terraform resource's values as CodePipeline's CreatePipeline takes them."""
    (store,) = p["artifact_store"]
    (key,) = store["encryption_key"]
    stages = []
    for stage in p["stage"]:
        stage_actions = []
        for a in stage["action"]:
            action = {
                "name": a["name"],
                "actionTypeId": {k: a[k] for k in ("category", "owner", "provider", "version")},
                "runOrder": a.get("run_order", 1),
                "configuration": a["configuration"],
                "inputArtifacts": [{"name": n} for n in a.get("input_artifacts", [])],
                "outputArtifacts": [{"name": n} for n in a.get("output_artifacts", [])],
            }
            if "namespace" in a:
                action["namespace"] = a["namespace"]
            stage_actions.append(action)
        stages.append({"name": stage["name"], "actions": stage_actions})
    return {
        "name": p["name"],
        "roleArn": p["role_arn"],
        "artifactStore": {"type": store["type"], "location": store["location"], "encryptionKey": key},
        "stages": stages,
        "pipelineType": p["pipeline_type"],
        "executionMode": p["execution_mode"],
    }


def api_project(p: dict[str, Any]) -> dict[str, Any]:
    """The Terraform resource's values as CodeBuild's CreateProject takes them (moto also wants a location
    for CODEPIPELINE sources and artefacts; CodeBuild ignores it)."""
    (source,), (environment,), (logs,) = p["source"], p["environment"], p["logs_config"]
    return {
        "name": p["name"],
        "description": p["description"],
        "source": {"type": source["type"], "buildspec": source["buildspec"], "location": PIPELINE},
        "artifacts": {"type": p["artifacts"][0]["type"], "location": PIPELINE},
        "environment": {
            "type": environment["type"],
            "image": environment["image"],
            "computeType": environment["compute_type"],
            "imagePullCredentialsType": environment["image_pull_credentials_type"],
            "privilegedMode": environment["privileged_mode"],
            "environmentVariables": [
                {"name": v["name"], "value": v["value"], "type": v["type"]}
                for v in environment.get("environment_variable", [])
            ],
        },
        "serviceRole": p["service_role"],
        "timeoutInMinutes": p["build_timeout"],
        "queuedTimeoutInMinutes": p["queued_timeout"],
        "encryptionKey": p["encryption_key"],
        "logsConfig": {
            "cloudWatchLogs": {
                "status": logs["cloudwatch_logs"][0]["status"],
                "groupName": logs["cloudwatch_logs"][0]["group_name"],
            },
            "s3Logs": {"status": logs["s3_logs"][0]["status"]},
        },
    }


def test_roles_projects_and_pipeline_are_created_on_moto_from_the_modules_values(moto_env, module, pipeline):
    iam, codebuild, codepipeline = (
        boto3.client("iam"),
        boto3.client("codebuild"),
        boto3.client("codepipeline"),
    )
    boto3.client("sns").create_topic(Name="vf-events")
    trusted = {}
    for address in ("aws_iam_role.pipeline", "aws_iam_role.build"):
        for role in instances(module, address).values():
            values = render(role)
            iam.create_role(RoleName=values["name"], AssumeRolePolicyDocument=values["assume_role_policy"])
            trusted[values["name"]] = json.loads(values["assume_role_policy"])["Statement"][0]["Principal"][
                "Service"
            ]
    assert trusted == {
        ROLE_OF["pipeline"]: "codepipeline.amazonaws.com",
        **{ROLE_OF[s]: "codebuild.amazonaws.com" for s in ("test", "package", "plan", "apply")},
    }
    # moto checks each document's grammar (actions, ARNs, condition operators) as IAM does
    for address in ("aws_iam_role_policy.pipeline", "aws_iam_role_policy.build"):
        for policy in instances(module, address).values():
            document = json.dumps(policy_json(module, policy.attr("policy")))
            iam.put_role_policy(
                RoleName=policy.attr("role"), PolicyName=policy.attr("name"), PolicyDocument=document
            )
    for policy in instances(module, "aws_iam_policy.deploy").values():
        values = render(policy)
        iam.create_policy(
            PolicyName=values["name"], PolicyDocument=values["policy"], Description=values["description"]
        )
    for attachment in instances(module, "aws_iam_role_policy_attachment.deploy").values():
        iam.attach_role_policy(RoleName=attachment.attr("role"), PolicyArn=attachment.attr("policy_arn"))
    attached = iam.list_attached_role_policies(RoleName=ROLE_OF["apply"])["AttachedPolicies"]
    assert len(attached) == len(instances(module, "aws_iam_policy.deploy")) >= 1

    bucket = module.child("artifacts").output("bucket")
    assert bucket == pipeline["artifact_store"][0]["location"]
    boto3.client("s3").create_bucket(Bucket=bucket)
    for group in instances(module, "aws_cloudwatch_log_group.build").values():
        values = render(group)
        boto3.client("logs").create_log_group(logGroupName=values["name"])
    for project in instances(module, "aws_codebuild_project.this").values():
        codebuild.create_project(**api_project(render(project)))
    names = [
        p["name"]
        for p in codebuild.batch_get_projects(names=codebuild.list_projects()["projects"])["projects"]
    ]
    assert sorted(names) == sorted(f"{PIPELINE}-{s}" for s in ("test", "package", "plan", "apply"))

    # CreatePipeline: moto refuses a role CodePipeline may not assume, and a pipeline of fewer than 2 stages
    codepipeline.create_pipeline(pipeline=api_pipeline(pipeline))
    created = codepipeline.get_pipeline(name=PIPELINE)["pipeline"]
    assert [s["name"] for s in created["stages"]] == STAGES
    for stage in created["stages"]:
        for action in stage["actions"]:
            if action["actionTypeId"]["provider"] == "CodeBuild":
                assert action["configuration"]["ProjectName"] in names
    execution = codepipeline.start_pipeline_execution(name=PIPELINE)["pipelineExecutionId"]
    assert codepipeline.get_pipeline_execution(pipelineName=PIPELINE, pipelineExecutionId=execution)

    wrong = api_pipeline(pipeline) | {
        "name": "x",
        "roleArn": iam.get_role(RoleName=ROLE_OF["test"])["Role"]["Arn"],
    }
    with pytest.raises(codepipeline.exceptions.InvalidStructureException):
        codepipeline.create_pipeline(pipeline=wrong)  # the check above can fail: a CodeBuild role is refused


def stage_event(state: str, pipeline: str = PIPELINE) -> dict[str, Any]:
    """A CodePipeline stage state change, as EventBridge delivers it."""
    return {
        "version": "0",
        "id": "6f4b1a7e-0000-4000-8000-000000000000",
        "detail-type": "CodePipeline Stage Execution State Change",
        "source": "aws.codepipeline",
        "account": ACCOUNT,
        "time": "2026-12-04T10:00:00Z",
        "region": REGION,
        "resources": [f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:{pipeline}"],
        "detail": {
            "pipeline": pipeline,
            "execution-id": "0d1e2f30-0000-4000-8000-000000000000",
            "stage": "Build",
            "state": state,
            "version": 1.0,
        },
    }


def test_a_failed_stage_alerts_the_alarm_topic(moto_env, module):
    rule = render(instances(module, "aws_cloudwatch_event_rule.stage_failed")[""])
    target = render(instances(module, "aws_cloudwatch_event_target.stage_failed")[""])
    assert target["arn"] == TOPIC and target["rule"] == rule["name"]
    assert target["dead_letter_config"][0]["arn"].endswith(":vf-delivery-alerts-dlq")
    pattern = EventPattern.load(rule["event_pattern"])  # moto's matcher (TestEventPattern is not in moto)
    for event, expected in [
        (stage_event("FAILED"), True),
        (stage_event("SUCCEEDED"), False),
        (stage_event("FAILED", "another-pipeline"), False),
    ]:
        assert pattern.matches_event(event) is expected, event["detail"]

    # moto delivers no EventBridge event to SNS (nor a transformed one to a queue): its transformer, directly
    (transformer,) = target["input_transformer"]
    text = EventTemplateParser.parse(
        input_template=transformer["input_template"],
        input_paths_map=transformer["input_paths"],
        event={**stage_event("FAILED"), "ingestion-time": "2026-12-04T10:00:01Z"},  # moto's parser wants it
    )
    assert text.startswith(
        f"vitalflow delivery: the Build stage of pipeline {PIPELINE} failed at 2026-12-04T10:00:00Z"
    )
    assert f"/pipelines/{PIPELINE}/executions/0d1e2f30-0000-4000-8000-000000000000/timeline" in text


def checkov(folder: Path, *args: str) -> dict[str, Any]:
    binary = REPO / ".venv-checkov" / "bin" / "checkov"
    if not binary.exists():
        subprocess.run(
            ["bash", str(REPO / "scripts" / "install-checkov.sh")],
            check=True,
            timeout=900,
            capture_output=True,
        )
    result = subprocess.run(
        [str(binary), "-d", str(folder), "--framework", "terraform", "--skip-download", "-o", "json", *args],
        capture_output=True,
        text=True,
        timeout=600,
    )
    reports = json.loads(result.stdout)
    (report,) = reports if isinstance(reports, list) else [reports]
    failed = [(c["resource"], c["check_id"], c["check_name"]) for c in report["results"]["failed_checks"]]
    assert result.returncode == 0 and not failed, failed
    return report


def checked(report: dict[str, Any]) -> set[str]:
    return {c["resource"] for c in report["results"]["passed_checks"] + report["results"]["skipped_checks"]}


@pytest.mark.slow
def test_checkov_passes_with_the_pipeline_enabled(tmp_path):
    variables = {k: v for k, v in TFVARS.items() if k.startswith(("enable_", "delivery_", "state_"))}
    (tmp_path / "enabled.tfvars.json").write_text(json.dumps(variables))
    root = checkov(REPO / "terraform", "--var-file", str(tmp_path / "enabled.tfvars.json"))
    scanned = checked(root)
    for resource in ("aws_codepipeline.this", "aws_codebuild_project.this", "aws_iam_policy_document.apply"):
        assert any(r.startswith("module.delivery") and r.endswith(resource) for r in scanned), resource
    module = checked(checkov(REPO / "terraform" / "modules" / "delivery"))
    assert {"aws_codepipeline.this", "aws_iam_role.build", "module.artifacts.aws_s3_bucket.this"} <= module
    bootstrap = checked(checkov(REPO / "terraform" / "bootstrap"))
    assert {"aws_dynamodb_table.lock", "module.state_bucket.aws_s3_bucket.this"} <= bootstrap


@pytest.mark.slow
def test_checkov_passes_on_the_policies_the_module_computes(module, tmp_path):
    """checkov reads for-expressions and dynamic statements as written; here it reads what they produce."""
    blocks = []
    documents = {f"{k or 'pipeline'}": p for k, p in instances(module, "aws_iam_role_policy.build").items()}
    documents["pipeline"] = instances(module, "aws_iam_role_policy.pipeline")[""]
    documents |= {f"apply_{k}": p for k, p in instances(module, "aws_iam_policy.deploy").items()}
    for name, policy in documents.items():
        document = json.dumps(policy_json(module, policy.attr("policy")), indent=1)
        policy_text = f"  policy = <<EOT\n{document}\nEOT\n"
        blocks.append(f'resource "aws_iam_policy" "{name}" {{\n  name = "{name}"\n{policy_text}}}\n')
    (tmp_path / "main.tf").write_text("\n".join(blocks))
    report = checkov(tmp_path)
    assert {f"aws_iam_policy.{n}" for n in documents} <= checked(report)
    assert {"CKV_AWS_286", "CKV_AWS_289", "CKV_AWS_290", "CKV_AWS_355"} <= {
        c["check_id"] for c in report["results"]["passed_checks"]
    }, "checkov no longer runs the IAM checks this test relies on"


def test_the_approval_request_fits_codepipelines_500_characters(pipeline):
    """CustomData is cut at 500 characters: with the longest values its variables take, it must fit."""
    (approve,) = [a for _, a in actions(pipeline) if a["name"] == "Approve"]
    project = f"{PIPELINE}-plan"
    longest = {
        "SourceVariables.CommitId": "f" * 40,
        "Plan.PLAN_SUMMARY": "Plan: 9999 to add, 9999 to change, 9999 to destroy.",
        "Plan.PLAN_LOG_URL": f"https://{REGION}.console.aws.amazon.com/codesuite/codebuild/{ACCOUNT}/projects/{project}"
        f"/build/{project}%3A{'0' * 8}-{'0' * 4}-{'0' * 4}-{'0' * 4}-{'0' * 12}/?region={REGION}",
    }
    text = re.sub(r"#\{([\w.]+)\}", lambda m: longest[m.group(1)], approve["configuration"]["CustomData"])
    assert len(text) <= 500, len(text)
    assert approve["configuration"]["ExternalEntityLink"].startswith("https://")
