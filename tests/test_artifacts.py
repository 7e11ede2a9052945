"""The artefacts `make package` builds, run as AWS runs them.

They are built here, into a temporary folder, by the same script (`scripts/package.sh`). Each Lambda
package runs in a bare interpreter of its runtime's Python (``-I -S``: no virtualenv, no site-packages;
only the unzipped package, the runtime's own SDK and, for analyze, the pandas layer's libraries) and
handles its event against a moto server; the Glue job runs from its script and its one artefact in a
bare Python 3.9 (and 3.11 for glueetl). So a new dependency that pushes a function over 250 MB, an
import a package lacks, or a library the job's artefact misses fails here, not at the first
`terraform apply`, invocation or job run.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
import urllib.request
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import boto3
import pytest

from aws_stack import (
    BUS,
    CONFIG_SET,
    DATA,
    DB,
    DOCS,
    JOB,
    JOB_ARGS,
    RECIPIENT,
    REGION,
    SENDER,
    TABLE,
    create_stack,
    job_argv,
    mirror_lake,
    receive,
    sqs_event,
)
from conftest import REPO
from vitalflow.generate import GeneratorOptions, generate

# Lambda refuses a function whose code and layers unzip to more than 262,144,000 bytes
# ("Function code combined with layers exceeds the maximum allowed size of 262144000 bytes").
LAMBDA_UNZIPPED_LIMIT = 262_144_000
# The AWS SDK for pandas layer (AWSSDKPandas-Python312) unzips to 204 MB since release 3.16.1 (167 MB
# before), as measured in aws/aws-sdk-pandas issue #3331; assume 210 MB to leave a margin for the
# next release. Only the analyze function carries it (Terraform: modules "analyze" layers).
PANDAS_LAYER_BYTES = 210 * 1024 * 1024
LAYERS = {
    "start_validation": 0,
    "analyze": PANDAS_LAYER_BYTES,
    "notify": 0,
    "digest": PANDAS_LAYER_BYTES,
    "live": 0,
}

# What the Lambda runtime provides (python3.12: boto3 and its dependencies), and what the pandas
# layer adds for the analyze function; anything else must be in the function's own package.
RUNTIME = {"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six"}
PANDAS_LAYER = {
    "awswrangler", "pandas", "numpy", "pyarrow", "pytz", "tzdata", "packaging", "typing_extensions",
    "dateutil", "six", "numpy.libs", "pyarrow.libs",
}  # fmt: skip
PROVIDED = {
    "start_validation": RUNTIME,
    "analyze": RUNTIME | PANDAS_LAYER,
    "notify": RUNTIME,
    "digest": RUNTIME | PANDAS_LAYER,
    "live": RUNTIME,
}
# Modules each function imports lazily on its code paths (not at handler import).
LAZY = {
    "live": ["vitalflow.aws.s3_store", "vitalflow.aws.live"],
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
    "digest": [
        "vitalflow.aws.runtime",
        "vitalflow.aws.athena",
        "vitalflow.aws.sns",
        "vitalflow.stages",
        "vitalflow.digest.monitors",  # the monitor queries (sqlglot)
        "vitalflow.digest.narrative",
        "vitalflow.notify.message",
    ],
}


def interpreter(version: str) -> str:
    """A real Python of that version (pyenv's newest, or pythonX.Y on PATH): what AWS runs."""
    found = subprocess.run(
        ["bash", "-c", f'PYENV_VERSION=$(pyenv versions --bare 2>/dev/null | grep -E "^{version}\\." '
         f'| tail -1) pyenv which python{version} 2>/dev/null || command -v python{version}'],
        capture_output=True, text=True,
    )  # fmt: skip
    path = found.stdout.strip().splitlines()[-1:] if found.returncode == 0 else []
    assert path, f"Python {version} is needed (pyenv install {version}, see the README): AWS runs it"
    return path[0]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("package")
    for what, extra in (("all", {}), ("glue", {"GLUE_PYTHON": "3.11"})):
        result = subprocess.run(
            ["bash", str(REPO / "scripts" / "package.sh"), what],
            env={**os.environ, "OUT": str(out), **extra},
            capture_output=True,
            text=True,
            timeout=600,
        )
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
    root, lazy, handler, provided = sys.argv[1], sys.argv[2].split(","), sys.argv[3], sys.argv[4:]
    sys.path[:0] = [root, *provided]  # run with -I -S: no site-packages, like a Lambda sandbox
    importlib.import_module(handler)
    for module in filter(None, lazy):
        importlib.import_module(module)
    assert pathlib.Path(sys.modules["vitalflow"].__file__).is_relative_to(root), "vitalflow elsewhere"
    """
)


def install_lock(lock: str, target: Path) -> Path:
    """The distributions a lock names, for python3.12 on x86_64 Linux, unpacked into one folder."""
    result = subprocess.run(
        [interpreter("3.12"), "-m", "pip", "install", "--quiet", "--no-deps", "--no-compile", "--target",
         str(target), "--only-binary=:all:", "--platform", "manylinux2014_x86_64", "--platform",
         "manylinux_2_28_x86_64", "--implementation", "cp", "-r", str(REPO / "scripts" / lock)],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "PIP_ROOT_USER_ACTION": "ignore", "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return target


@pytest.fixture(scope="module")
def runtime_sdk(tmp_path_factory) -> Path:
    """What the python3.12 runtime provides besides the standard library (its boto3)."""
    return install_lock("lambda-runtime-py3.12.lock", tmp_path_factory.mktemp("runtime"))


@pytest.fixture(scope="module")
def pandas_layer(tmp_path_factory) -> Path:
    """The AWS SDK for pandas layer's libraries (the analyze function's /opt/python)."""
    return install_lock("pandas-layer-py3.12.lock", tmp_path_factory.mktemp("layer"))


def provided_for(function: str, runtime_sdk: Path, pandas_layer: Path) -> list[Path]:
    return [pandas_layer, runtime_sdk] if LAYERS[function] else [runtime_sdk]


def run_check(
    root: Path, provided: list[Path], lazy: list[str], handler: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            interpreter("3.12"),
            "-I",
            "-S",
            "-c",
            CHECK,
            str(root),
            ",".join(lazy),
            handler,
            *map(str, provided),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "MPLCONFIGDIR": str(root / ".mpl"), "AWS_DEFAULT_REGION": "us-east-1"},
        cwd=root,
    )


def unzip(archive: Path, target: Path) -> Path:
    with zipfile.ZipFile(archive) as z:
        z.extractall(target)
    return target


@pytest.mark.slow
@pytest.mark.parametrize("function", sorted(LAYERS))
def test_package_carries_everything_its_function_imports(
    artefacts, function, tmp_path, runtime_sdk, pandas_layer
):
    package = unzip(artefacts / f"{function}.zip", tmp_path / "task")
    result = run_check(package, provided_for(function, runtime_sdk, pandas_layer), LAZY[function], function)
    assert result.returncode == 0, f"{function}: " + result.stderr[-3000:]


def test_closure_check_catches_a_missing_module(tmp_path, runtime_sdk):
    """The check above can fail: a package that lacks a module its handler imports is refused."""
    package = tmp_path / "task"
    package.mkdir()
    (package / "handler_x.py").write_text("import sqlglot\n")
    (package / "vitalflow").mkdir()
    result = run_check(package, [runtime_sdk], [], "handler_x")
    assert result.returncode != 0 and "No module named 'sqlglot'" in result.stderr


# -- the functions and the job, run as AWS runs them, against a moto server -------------------------
@pytest.fixture
def moto_server(monkeypatch):
    """A moto server on 127.0.0.1 (in this process: its backends can be inspected), and this process's
    boto3 pointed at it, as the bare interpreters will be."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL": f"http://{host}:{port}",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    # moto's backends live in this process: start each test from an empty account
    urllib.request.urlopen(urllib.request.Request(f"http://{host}:{port}/moto-api/reset", method="POST"))
    yield env
    server.stop()


def bare_run(
    python: str, argv: list[str], env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    """A process with nothing but the standard library and what argv puts on its path."""
    keep = {k: os.environ[k] for k in ("PATH", "LANG") if k in os.environ}
    return subprocess.run(
        [python, "-I", "-S", *argv],
        capture_output=True,
        text=True,
        timeout=600,
        env={**keep, "HOME": str(cwd), "TMPDIR": str(cwd), **env},
        cwd=cwd,
    )


def invoke(function: str, event: dict, artefacts: Path, paths: list[Path], env: dict, tmp: Path) -> dict:
    task = unzip(artefacts / f"{function}.zip", tmp / f"task-{function}")
    (tmp / f"{function}.json").write_text(json.dumps(event))
    driver = str(REPO / "tests" / "drivers" / "run_lambda.py")
    argv = [driver, f"{function}.handler", str(tmp / f"{function}.json"), str(task), *map(str, paths)]
    result = bare_run(interpreter("3.12"), argv, env, tmp)
    assert result.returncode == 0, f"{function}: {result.stderr[-4000:]}"
    (line,) = [x for x in result.stdout.splitlines() if x.startswith("RESULT ")]
    return json.loads(line[len("RESULT ") :])


@pytest.mark.slow
def test_each_function_handles_its_event_on_its_runtime(
    artefacts, runtime_sdk, pandas_layer, moto_server, tmp_path
):
    """upload -> start_validation -> (the job) -> analyze -> notify, then the day's digest, each
    function from its zip on python3.12 with only what Lambda gives it."""
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    from fakes.athena_server import FakeAthena
    from fakes.bedrock_server import FakeBedrock
    from vitalflow.glue_job import validate_upload

    queues = create_stack()
    s3 = boto3.client("s3")
    source = generate(GeneratorOptions(rows=400, seed=11), tmp_path / "clinic.csv")
    s3.upload_file(str(source), DATA, "raw/2026-11-22/clinic.csv")
    settings = {
        "VITALFLOW_RUNTIME": "aws", "VITALFLOW_REGION": REGION, "VITALFLOW_DATA_BUCKET": DATA,
        "VITALFLOW_DOCS_BUCKET": DOCS, "VITALFLOW_GLUE_JOB_NAME": JOB, "VITALFLOW_GLUE_DATABASE": DB,
        "VITALFLOW_ATHENA_WORKGROUP": "vf", "VITALFLOW_TABLE_NAME": TABLE, "VITALFLOW_EVENT_BUS": BUS,
        "VITALFLOW_ANALYST": "bedrock", "VITALFLOW_BEDROCK_MODEL_ID": "amazon.nova-lite-v1:0",
        "VITALFLOW_MAIL_FROM": SENDER, "VITALFLOW_MAIL_TO": RECIPIENT,
        "VITALFLOW_SES_CONFIGURATION_SET": CONFIG_SET, "POWERTOOLS_SERVICE_NAME": "vitalflow",
        "POWERTOOLS_METRICS_NAMESPACE": "vitalflow", "MPLCONFIGDIR": str(tmp_path / "mpl"),
    }  # fmt: skip
    env = {**moto_server, **settings}

    uploads_url, uploads_arn = queues["uploads"]
    event = sqs_event(receive(uploads_url), uploads_arn)
    result = invoke("start_validation", event, artefacts, [runtime_sdk], env, tmp_path)
    assert result == {"batchItemFailures": []}
    (run,) = boto3.client("glue").get_job_runs(JobName=JOB)["JobRuns"]

    argv = job_argv(run)
    assert validate_upload(dict(zip((a[2:] for a in argv[::2]), argv[1::2]))) == 0  # the job: see below
    (validated,) = receive(queues["analyze"][0])
    batch = json.loads(validated["Body"])

    engine = lambda: mirror_lake(tmp_path / f"mirror-{len(athena.statements)}")  # noqa: E731
    with FakeAthena(engine, s3, f"s3://{DATA}/athena-results/") as athena, FakeBedrock() as bedrock:
        fakes = {"AWS_ENDPOINT_URL_ATHENA": athena.url, "VITALFLOW_BEDROCK_ENDPOINT_URL": bedrock.url}
        analysed = invoke(
            "analyze", batch, artefacts, [pandas_layer, runtime_sdk], {**env, **fakes}, tmp_path
        )
        assert analysed == {"batch_id": batch["detail"]["batch_id"], "risk_level": "high"}
        assert len(bedrock.requests) == 1 and any("SELECT" in s.upper() for s in athena.statements)

    (announced,) = receive(queues["notify"][0])
    sent = invoke("notify", json.loads(announced["Body"]), artefacts, [runtime_sdk], env, tmp_path)
    assert sent["sent"]
    (mail,) = ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages
    raw = mail.raw_data if isinstance(mail.raw_data, str) else mail.raw_data.decode()
    assert batch["detail"]["batch_id"] in raw

    # the scheduler's target: the day's digest over the summaries analyze stored, on Athena, by SES
    day = datetime.now(timezone.utc).date().isoformat()
    with FakeAthena(engine, s3, f"s3://{DATA}/athena-results/") as athena:
        fakes = {"AWS_ENDPOINT_URL_ATHENA": athena.url, "VITALFLOW_ANALYST": "rules"}
        digested = invoke(
            "digest", {"day": day}, artefacts, [pandas_layer, runtime_sdk], {**env, **fakes}, tmp_path
        )
        assert (
            digested["day"] == day and digested["sent"] and any("summaries" in s for s in athena.statements)
        )


@pytest.mark.slow
@pytest.mark.parametrize("version", ["3.9", "3.11"])
def test_the_job_runs_from_its_script_and_artefact_alone(built, version, moto_server, tmp_path):
    """Glue's part, as Glue does it: fetch the script from S3 and run it. The bare interpreter has
    the standard library only; the script brings everything else from the artefact in S3."""
    create_stack()
    s3 = boto3.client("s3")
    artifact_key = f"artifacts/glue-libs/glue-job-py{version}.zip-test.zip"
    s3.upload_file(str(REPO / "jobs" / "validate_batch.py"), DATA, "artifacts/validate_batch.py")
    s3.upload_file(str(built / f"glue-job-py{version}.zip"), DATA, artifact_key)
    source = generate(GeneratorOptions(rows=300, seed=4), tmp_path / "clinic.csv")
    s3.upload_file(str(source), DATA, "raw/2026-11-22/clinic.csv")
    script = tmp_path / "script.py"
    s3.download_file(DATA, "artifacts/validate_batch.py", str(script))
    argv = [str(script), *(t for k, v in JOB_ARGS.items() for t in (k, v))]
    argv += ["--VITALFLOW_REGION", REGION, "--vitalflow_artifact", f"s3://{DATA}/{artifact_key}"]
    argv += ["--source_bucket", DATA, "--source_key", "raw/2026-11-22/clinic.csv"]
    result = bare_run(interpreter(version), argv, moto_server, tmp_path)
    assert result.returncode == 0, result.stderr[-4000:]
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=DATA)["Contents"]]
    (manifest_key,) = [k for k in keys if k.startswith("manifests/")]
    manifest = json.loads(s3.get_object(Bucket=DATA, Key=manifest_key)["Body"].read())
    assert manifest["rows_in"] == 300 and manifest["rows_processed"] + manifest["rows_rejected"] == 300
    assert f"commits/{manifest['batch_id']}.parquet" in keys
    assert "libraries from" in result.stderr  # the artefact, not anything the interpreter had


def test_a_bare_job_without_its_artefact_fails_on_the_missing_import(moto_server, tmp_path):
    """The check above can fail: without --vitalflow_artifact the bare interpreter has no vitalflow."""
    script = REPO / "jobs" / "validate_batch.py"
    result = bare_run(
        interpreter("3.9"), [str(script), "--source_bucket", DATA, "--source_key", "k"], {}, tmp_path
    )
    assert result.returncode != 0 and "No module named 'vitalflow'" in result.stderr
