"""The delivery pipeline as terraform/ declares it with enable_delivery = true, evaluated without an AWS
account (Terraform's parser and tests/terraform_iam.py): its roles' policies, and its resources rendered to
the values the AWS APIs take, for the moto and IAM tests of the pipeline (tests/test_delivery_*.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import REPO
from terraform_iam import ACCOUNT, Module, PolicyDocument, Resource, modules, role_policies

REGION = "us-east-1"
NAME = "vf"
PIPELINE = f"{NAME}-delivery"
CONNECTION = f"arn:aws:codeconnections:{REGION}:{ACCOUNT}:connection/0c0ffee0-0000-4000-8000-000000000000"
STATE_BUCKET, STATE_KEY, LOCK_TABLE = "vf-tfstate", "vitalflow/terraform.tfstate", "vf-tfstate-lock"
STATE_KMS_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/11111111-1111-4111-8111-111111111111"
TFVARS = {
    "name": NAME,
    "region": REGION,
    "data_bucket_name": "vf-data",
    "docs_bucket_name": "vf-docs",
    "mail_from": "reports@example.org",
    "mail_to": ["care-team@example.org"],
    "enable_delivery": True,
    "delivery_connection_arn": CONNECTION,
    "delivery_repository": "example-org/vitalflow",
    "delivery_branch": "main",
    "state_bucket_name": STATE_BUCKET,
    "state_key": STATE_KEY,
    "state_lock_table": LOCK_TABLE,
    "state_kms_key_arn": STATE_KMS_KEY,
}
STAGES = ("test", "package", "plan", "apply")
ROLE_OF = {"pipeline": f"{PIPELINE}-pipeline", **{stage: f"{PIPELINE}-{stage}" for stage in STAGES}}
META = frozenset({"count", "for_each", "depends_on", "provider", "lifecycle"})


def variables(dist: Path, **overrides: Any) -> dict[str, Any]:
    (dist / "vitalflow-0.1.0-py3-none-any.whl").write_bytes(b"")
    return {**TFVARS, "glue_wheelhouse": str(dist), "lambda_packages_dir": str(dist), **overrides}


def deployment(dist: Path, **overrides: Any) -> list[Module]:
    """The root module and the modules it calls (the delivery module among them when enabled)."""
    return modules(REPO / "terraform", variables(dist, **overrides), REGION)


def delivery(dist: Path) -> Module:
    (module,) = [m for m in deployment(dist) if m.name == "delivery"]
    return module


def roles(dist: Path, **overrides: Any) -> dict[str, list[Any]]:
    return role_policies(REPO / "terraform", variables(dist, **overrides), REGION)


def instances(module: Module, address: str) -> dict[str, Resource]:
    """A resource's instances by key ("" for a single one)."""
    resource = module.resource(address)
    if isinstance(resource, dict):
        return {str(k): v for k, v in resource.items()}
    if isinstance(resource, list):
        return {str(i): v for i, v in enumerate(resource)}
    return {"": resource}


def render(resource: Resource) -> dict[str, Any]:
    """Every argument and nested block of a resource instance (not its meta-arguments), evaluated; a block
    becomes a list of dicts."""
    return _body(resource.module, resource.body, resource.scope, skip=META)


def _body(
    module: Module, body: dict[str, Any], scope: dict[str, Any], skip: frozenset[str] = frozenset()
) -> dict[str, Any]:
    out: dict[str, Any] = {
        name: module.eval(attr["Expr"], scope)
        for name, attr in body["Attributes"].items()
        if name not in skip
    }
    for block in body["Blocks"]:
        if block["Type"] != "dynamic":
            out.setdefault(block["Type"], []).append(_body(module, block["Body"], scope))
            continue
        (label,) = block["Labels"]
        items = module.eval(block["Body"]["Attributes"]["for_each"]["Expr"], scope)
        pairs = items.items() if isinstance(items, dict) else ((v, v) for v in items)
        (content,) = [b for b in block["Body"]["Blocks"] if b["Type"] == "content"]
        for key, value in pairs:
            inner = {**scope, label: {"key": key, "value": value}}
            out.setdefault(label, []).append(_body(module, content["Body"], inner))
    return out


def policy_json(module: Module, document: PolicyDocument | str) -> dict[str, Any]:
    """The policy JSON IAM receives: an aws_iam_policy_document (with its principals and conditions), or a
    policy written with jsonencode."""
    if isinstance(document, str):
        return dict(json.loads(document))
    module = document.module
    data = module.config["DataResources"][f"data.aws_iam_policy_document.{document.name}"]
    rendered = _body(module, data["Config"], {})
    statements = []
    for s in rendered.get("statement", []):
        statement: dict[str, Any] = {"Effect": s.get("effect", "Allow"), "Action": s["actions"]}
        if s.get("sid"):
            statement = {"Sid": s["sid"], **statement}
        statement["Resource"] = s["resources"]
        for p in s.get("principals", []):
            statement.setdefault("Principal", {})[p["type"]] = p["identifiers"]
        for c in s.get("condition", []):
            statement.setdefault("Condition", {}).setdefault(c["test"], {})[c["variable"]] = c["values"]
        statements.append(statement)
    return {"Version": "2012-10-17", "Statement": statements}


def iam_size(policy: dict[str, Any]) -> int:
    """The length IAM's quotas count: the policy JSON without whitespace."""
    return len(json.dumps(policy, separators=(",", ":")))
