"""The pipeline's buildspecs (buildspec/*.yml) call the make targets a developer runs, and only targets
the Makefile has; the scripts they run exist; Apply applies the plan Plan saved and the approval named."""

from __future__ import annotations

import hashlib
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import REPO

BUILDSPECS = REPO / "buildspec"
STAGE_TARGET = {"test": "test", "package": "package", "plan": "plan", "apply": "apply"}


def load(path: Path) -> dict[str, Any]:
    spec = yaml.safe_load(path.read_text())
    assert isinstance(spec, dict), f"{path.name} is not a YAML mapping"
    return spec


def commands(spec: dict[str, Any]) -> list[str]:
    """Every shell command of every phase, in order."""
    phases = spec.get("phases") or {}
    return [c for phase in phases.values() for c in (phase or {}).get("commands", [])]


def makefile_targets(text: str) -> set[str]:
    """Explicit targets of a Makefile: `name [name...]:` rules, not variable assignments or recipe lines."""
    targets: set[str] = set()
    for line in text.splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+(?:[ \t]+[A-Za-z0-9_.-]+)*)[ \t]*:(?![=:])", line)
        if match:
            targets.update(t for t in match.group(1).split() if t != ".PHONY")
    return targets


def make_calls(command: str) -> list[list[str]]:
    """The target lists of every `make` a shell command runs (options and VAR=value left out)."""
    calls = []
    for part in re.split(r"&&|\|\||;|\||\(|\)|\{|\}", command):
        try:
            words = shlex.split(part, comments=True)
        except ValueError:
            words = part.split()
        if words and Path(words[0]).name in ("make", "gmake"):
            calls.append([w for w in words[1:] if not w.startswith("-") and "=" not in w])
    return calls


def unknown_targets(spec: dict[str, Any], targets: set[str]) -> list[str]:
    """Every make call of a buildspec that names no target, or a target the Makefile does not have."""
    problems = []
    for command in commands(spec):
        for called in make_calls(command):
            if not called:
                problems.append(f"`{command}` names no target (the default goal does nothing useful)")
            problems += [f"`{command}`: no target {t!r} in the Makefile" for t in called if t not in targets]
    return problems


@pytest.fixture(scope="module")
def targets() -> set[str]:
    found = makefile_targets((REPO / "Makefile").read_text())
    assert {"test", "package", "lint", "demo"} <= found, found  # the parser finds the known ones
    return found


def test_there_is_one_buildspec_per_stage():
    assert sorted(p.stem for p in BUILDSPECS.glob("*.yml")) == sorted(STAGE_TARGET)


@pytest.mark.parametrize("stage", sorted(STAGE_TARGET))
def test_buildspec_parses_and_calls_only_make_targets_that_exist(stage, targets):
    spec = load(BUILDSPECS / f"{stage}.yml")
    assert str(spec.get("version")) == "0.2"
    assert spec["phases"]["build"]["commands"], "no build commands"
    assert unknown_targets(spec, targets) == []
    called = [t for c in commands(spec) for call in make_calls(c) for t in call]
    assert STAGE_TARGET[stage] in called, f"{stage}.yml does not run make {STAGE_TARGET[stage]}"


def test_the_check_finds_a_target_the_makefile_lacks(targets):
    spec = {"version": 0.2, "phases": {"build": {"commands": ["make tests", "cd x && make -j2 FOO=1 lint"]}}}
    assert unknown_targets(spec, targets) == ["`make tests`: no target 'tests' in the Makefile"]
    assert make_calls("bash x.sh && make apply TF_INIT_FLAGS=-lockfile=readonly") == [["apply"]]
    assert makefile_targets("a b: c\nX := 1\n\techo d:\nY ?= e:f\n.PHONY: a\n") == {"a", "b"}


@pytest.mark.parametrize("stage", sorted(STAGE_TARGET))
def test_make_knows_how_to_make_each_called_target(stage, tmp_path):
    """make itself, dry-run (-n): the called targets and their prerequisites resolve. (A misspelt target
    that names a file, such as `make tests`, passes here: the Makefile rule check above catches it.)"""
    for command in commands(load(BUILDSPECS / f"{stage}.yml")):
        for called in make_calls(command):
            result = subprocess.run(
                ["make", "-n", "-C", str(REPO), *called],
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert result.returncode == 0, result.stderr


def test_every_script_a_buildspec_runs_exists():
    for path in sorted(BUILDSPECS.glob("*.yml")):
        for command in commands(load(path)):
            for script in re.findall(r"\b(scripts/[\w./-]+\.sh)\b", command):
                assert (REPO / script).is_file(), f"{path.name}: {script} does not exist"


def test_plan_and_apply_use_the_makefiles_plan_file_and_one_terraform_pin():
    plan_file = re.search(r"^PLAN\s*\?=\s*(\S+)", (REPO / "Makefile").read_text(), re.M)
    assert plan_file, "the Makefile sets no PLAN"
    for stage in ("plan", "apply"):
        text = (BUILDSPECS / f"{stage}.yml").read_text()
        named = set(re.findall(r"[\w.-]+\.tfplan", text))
        assert named == {plan_file.group(1)}, (
            f"{stage}.yml names {named}, the Makefile saves {plan_file.group(1)}"
        )
        installs = [c for c in commands(load(BUILDSPECS / f"{stage}.yml")) if "install-terraform.sh" in c]
        assert installs == ["bash scripts/install-terraform.sh"], (
            f"{stage}.yml must install the pinned Terraform"
        )
        assert "TERRAFORM_VERSION" not in text, f"{stage}.yml overrides the pin"
    pin = re.search(
        r"^VERSION=\$\{TERRAFORM_VERSION:-(\d+\.\d+\.\d+)\}$",
        (REPO / "scripts/install-terraform.sh").read_text(),
        re.M,
    )
    assert pin, "scripts/install-terraform.sh pins no exact Terraform version"


def test_apply_refuses_a_plan_other_than_the_approved_one():
    plan = load(BUILDSPECS / "plan.yml")
    assert {"PLAN_SHA256", "PLAN_SUMMARY", "PLAN_LOG_URL"} <= set(plan["env"]["exported-variables"])
    exports = " ".join(commands(plan))
    for name in plan["env"]["exported-variables"]:
        assert f"export {name}=" in exports, f"plan.yml exports {name} but never sets it"
    assert "**/*" in plan["artifacts"]["files"], "the plan artefact must carry the planned tree"
    apply = load(BUILDSPECS / "apply.yml")
    (check,) = [c for c in commands(apply) if "sha256sum -c" in c]
    assert "APPROVED_PLAN_SHA256" in check
    phases = list(apply["phases"])
    assert phases.index("pre_build") < phases.index("build"), "the digest is checked before make apply"
    assert "-lockfile=readonly" in " ".join(commands(apply)), "Apply must use the providers the plan locked"


def test_the_package_artefact_is_dist_and_plan_deploys_it():
    package = load(BUILDSPECS / "package.yml")
    assert package["artifacts"]["files"] == ["dist/**/*"]
    copy = [c for c in commands(load(BUILDSPECS / "plan.yml")) if "CODEBUILD_SRC_DIR_package" in c]
    assert copy and "dist" in copy[0], (
        "plan.yml must put the package artefact's dist/ where Terraform reads it"
    )


def test_backend_config_script_writes_every_backend_setting(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "TF_STATE_BUCKET": "b",
        "TF_STATE_KEY": "k/terraform.tfstate",
        "TF_STATE_LOCK_TABLE": "t",
        "TF_STATE_KMS_KEY_ARN": "arn:aws:kms:us-east-1:123456789012:key/x",
        "AWS_REGION": "us-east-1",
    }
    script = REPO / "scripts/codebuild/backend-config.sh"
    written = subprocess.run(
        ["bash", str(script)], env=env, capture_output=True, text=True, check=True
    ).stdout
    example = (REPO / "terraform/backend.hcl.example").read_text()
    assert set(re.findall(r"^([a-z_]+)\s*=", written, re.M)) == set(
        re.findall(r"^([a-z_]+)\s*=", example, re.M)
    )
    missing = subprocess.run(["bash", str(script)], env={**env, "TF_STATE_BUCKET": ""}, capture_output=True)
    assert missing.returncode != 0, "an unset setting must fail the build, not write an empty backend"


def test_applys_digest_check_passes_only_the_approved_plan(tmp_path):
    """The check apply.yml runs before make apply, run as CodeBuild runs it (bash, in the artefact's root)."""
    (check,) = [c for c in commands(load(BUILDSPECS / "apply.yml")) if "sha256sum -c" in c]
    (tmp_path / "terraform").mkdir()
    plan = tmp_path / "terraform" / "vitalflow.tfplan"
    plan.write_bytes(b"the approved plan")
    approved = hashlib.sha256(plan.read_bytes()).hexdigest()

    def run(**env: str) -> int:
        return subprocess.run(
            ["bash", "-c", check], cwd=tmp_path, env={"PATH": "/usr/bin:/bin", **env}
        ).returncode

    assert run(APPROVED_PLAN_SHA256=approved) == 0
    assert run(APPROVED_PLAN_SHA256=hashlib.sha256(b"another plan").hexdigest()) != 0
    assert run() != 0, "no digest from the pipeline must stop the apply"
    plan.write_bytes(b"a plan changed after approval")
    assert run(APPROVED_PLAN_SHA256=approved) != 0
