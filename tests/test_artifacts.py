"""The artefacts `make package` builds: Lambda packages within Lambda's limits that carry what each
function imports, and a Glue wheelhouse that installs without a package index, at the pinned versions.

They are built here, into a temporary folder, by the same script (`scripts/package.sh`), so a new
dependency that pushes a function over 250 MB, an import a package lacks, or a dependency missing
from the wheelhouse fails this test instead of the first `terraform apply`, invocation or job run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from pathlib import Path

import pytest

from conftest import REPO

# Lambda refuses a function whose code and layers unzip to more than 262,144,000 bytes
# ("Function code combined with layers exceeds the maximum allowed size of 262144000 bytes").
LAMBDA_UNZIPPED_LIMIT = 262_144_000
# The AWS SDK for pandas layer (AWSSDKPandas-Python311) unzips to 204 MB since release 3.16.1 (167 MB
# before), as measured in aws/aws-sdk-pandas issue #3331; assume 210 MB to leave a margin for the
# next release. Only the analyze function carries it (Terraform: modules "analyze" layers).
PANDAS_LAYER_BYTES = 210 * 1024 * 1024
LAYERS = {"start_validation": 0, "analyze": PANDAS_LAYER_BYTES, "notify": 0}

# What the Lambda runtime provides (python3.11: boto3 and its dependencies), and what the pandas
# layer adds for the analyze function; anything else must be in the function's own package.
RUNTIME = {"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six"}
PANDAS_LAYER = {
    "awswrangler", "pandas", "numpy", "pyarrow", "pytz", "tzdata", "packaging", "typing_extensions",
    "dateutil", "six", "numpy.libs", "pyarrow.libs",
}  # fmt: skip
PROVIDED = {"start_validation": RUNTIME, "analyze": RUNTIME | PANDAS_LAYER, "notify": RUNTIME}
# Modules each function imports lazily on its code paths (not at handler import).
LAZY = {
    "start_validation": ["vitalflow.aws.batch_state", "vitalflow.aws.glue_runner", "vitalflow.trigger"],
    "analyze": [
        "vitalflow.aws.runtime",
        "vitalflow.aws.athena",
        "vitalflow.enrich.bedrock",
        "vitalflow.stages",
        "vitalflow.aggregate",  # the report queries (sqlglot)
        "vitalflow.enrich",
    ],
    "notify": [
        "vitalflow.aws.runtime",
        "vitalflow.enrich.bedrock",
        "vitalflow.notify",
        "vitalflow.notify.message",
        "vitalflow.notify.chart",
    ],
}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("package")
    result = subprocess.run(
        ["bash", str(REPO / "scripts" / "package.sh"), "all"],
        env={**os.environ, "OUT": str(out)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0 and "Could not find a version" in result.stdout + result.stderr:
        pytest.skip("building the Lambda packages needs the package index, which is unreachable")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def artefacts(built) -> Path:
    return built / "lambda"


def unzipped_bytes(archive: Path) -> int:
    with zipfile.ZipFile(archive) as z:
        return sum(info.file_size for info in z.infolist())


@pytest.mark.slow
def test_each_function_with_its_layers_fits_lambdas_250_mb(artefacts):
    sizes = {}
    for name, layer in LAYERS.items():
        sizes[name] = unzipped_bytes(artefacts / f"{name}.zip") + layer
    over = {n: f"{s / 1e6:.0f} MB" for n, s in sizes.items() if s > LAMBDA_UNZIPPED_LIMIT}
    assert not over, f"function + layers unzip above 262,144,000 bytes: {over}"
    # start_validation stays small: it must not grow the awswrangler/pandas stack back
    assert sizes["start_validation"] < 20 * 1024 * 1024, sizes


CHECK = textwrap.dedent(
    """
    import importlib, pathlib, sys
    root, provided, lazy, handler = sys.argv[1], sys.argv[2], sys.argv[3].split(","), sys.argv[4]
    sys.path[:0] = [root, provided]  # run with -S: no site-packages, like a Lambda sandbox
    importlib.import_module(handler)
    for module in filter(None, lazy):
        importlib.import_module(module)
    assert pathlib.Path(sys.modules["vitalflow"].__file__).is_relative_to(root), "vitalflow elsewhere"
    """
)


def provided_dir(names: set[str], target: Path) -> Path:
    """What the runtime (and layer) provide: links to just those distributions of this venv."""
    target.mkdir()
    site = Path(sysconfig.get_paths()["purelib"])
    for entry in site.iterdir():
        if entry.name.split(".")[0].split("-")[0] in names:
            (target / entry.name).symlink_to(entry)
    return target


def run_check(root: Path, provided: Path, lazy: list[str], handler: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-S", "-c", CHECK, str(root), str(provided), ",".join(lazy), handler],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "MPLCONFIGDIR": str(root / ".mpl"), "AWS_DEFAULT_REGION": "us-east-1"},
        cwd=root,
    )


@pytest.mark.slow
@pytest.mark.parametrize("function", sorted(LAYERS))
def test_package_carries_everything_its_function_imports(artefacts, function, tmp_path):
    package = tmp_path / "task"
    with zipfile.ZipFile(artefacts / f"{function}.zip") as z:
        z.extractall(package)
    provided = provided_dir(PROVIDED[function], tmp_path / "provided")
    result = run_check(package, provided, LAZY[function], function)
    assert result.returncode == 0, f"{function}: " + result.stderr[-3000:]


def test_closure_check_catches_a_missing_module(tmp_path):
    """The check above can fail: a package that lacks a module its handler imports is refused."""
    package = tmp_path / "task"
    package.mkdir()
    (package / "handler_x.py").write_text("import sqlglot\n")
    (package / "vitalflow").mkdir()
    result = run_check(package, provided_dir(RUNTIME, tmp_path / "provided"), [], "handler_x")
    assert result.returncode != 0 and "No module named 'sqlglot'" in result.stderr


def python39() -> str:
    found = subprocess.run(
        [
            "bash",
            "-c",
            'PYENV_VERSION=$(pyenv versions --bare | grep -E "^3\\.9\\." | tail -1) pyenv which python3.9',
        ],
        capture_output=True,
        text=True,
    )
    assert found.returncode == 0, "Python 3.9 is needed (pyenv install 3.9.18): the Glue job runs it"
    return found.stdout.strip()


@pytest.mark.slow
def test_glue_wheelhouse_installs_without_an_index_at_the_pinned_versions(built, tmp_path):
    house = built / "glue-py3.9"
    report = tmp_path / "report.json"
    result = subprocess.run(
        [python39(), "-m", "pip", "install", "--dry-run", "--no-index", "--find-links", str(house),
         "--only-binary=:all:", "--platform", "manylinux2014_x86_64", "--target", str(tmp_path / "t"),
         "--report", str(report), "--quiet", "vitalflow"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_CONSTRAINT": ""},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    installed = {
        re.sub(r"[-_.]+", "-", i["metadata"]["name"]).lower(): i["metadata"]["version"]
        for i in json.loads(report.read_text())["install"]
    }
    lock = dict(
        line.split("==")
        for line in (REPO / "scripts" / "glue-py3.9.lock").read_text().splitlines()
        if "==" in line
    )
    assert installed.pop("vitalflow") == "0.1.0"
    assert "great-expectations" in installed and "eval-type-backport" in installed  # the 3.9 closure
    assert {n: v for n, v in installed.items() if lock.get(n) != v} == {}, (
        "installed versions differ from the lock"
    )
