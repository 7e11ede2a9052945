"""Glue entry point (Python shell, or glueetl's driver): validate one uploaded object, or (the
erasure job, ``--vitalflow_task erase``) erase one user's data.

Glue passes ``--source_bucket/--source_key/--source_version_id`` per run and the deployment's
settings as ``--VITALFLOW_*`` default arguments; both arrive in ``sys.argv``.

The job brings its own libraries: ``--vitalflow_artifact`` names one zip in S3 (``make package``:
a site-packages folder holding exactly the job's import closure, pinned). Glue's own ways of adding
libraries differ between job types and are not all documented for Python shell, so the script
unpacks the zip itself and puts it first on ``sys.path`` before importing vitalflow. Until then it
uses the standard library only.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import hmac
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

ARTIFACT = "vitalflow_artifact"
log = logging.getLogger("vitalflow.job")


def job_arguments(argv: list[str]) -> dict[str, str]:
    """``--name value`` pairs as Glue passes them, plus ``--name=value``.

    A flag followed by another flag has an empty value: Glue drops empty strings from the command
    line, and reading the next flag as the value would silently lose that setting.
    """
    arguments: dict[str, str] = {}
    i = 0
    while i < len(argv):
        token = argv[i]
        i += 1
        if not token.startswith("--"):
            continue  # a stray positional (none expected); never taken as a name
        name, eq, value = token[2:].partition("=")
        if not eq and i < len(argv) and not argv[i].startswith("--"):
            value = argv[i]
            i += 1
        arguments[name] = value
    return arguments


def bring_libraries(uri: str, region: str, cache: Path | None = None) -> Path:
    """Unpack the job's libraries once per host and put them first on ``sys.path``.

    The folder is named after the URI (Terraform uploads the zip under a content hash), and it is
    renamed into place only when complete, so a run that dies mid-unpack leaves nothing half-made.
    """
    if not uri.startswith("s3://"):
        raise SystemExit(f"--{ARTIFACT} must be an s3:// URI of the job's libraries, got {uri!r}")
    bucket, _, key = uri[len("s3://") :].partition("/")
    root = (
        cache or Path(tempfile.gettempdir())
    ) / f"vitalflow-libs-{hashlib.sha256(uri.encode()).hexdigest()[:16]}"
    if not root.is_dir():
        work = Path(tempfile.mkdtemp(prefix="vitalflow-libs-", dir=root.parent))
        archive = work / "libs.zip"
        fetch(bucket, key, region, archive)
        with zipfile.ZipFile(archive) as z:
            z.extractall(work / "site")
        with contextlib.suppress(OSError):  # another run on this host got there first: use its folder
            (work / "site").rename(root)
        shutil.rmtree(work, ignore_errors=True)
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return root


def fetch(bucket: str, key: str, region: str, target: Path) -> None:
    """Download an object with the host's boto3 in a child process (Glue hosts have one), so none of
    its modules stay loaded beside the pinned ones; without boto3, a signed GET from the standard
    library with the credentials in the environment."""
    child = subprocess.run(
        [sys.executable, "-c", "import sys, boto3; boto3.client('s3', region_name=sys.argv[4])"
         ".download_file(sys.argv[1], sys.argv[2], sys.argv[3])", bucket, key, str(target), region],
        capture_output=True, text=True,
    )  # fmt: skip
    if child.returncode == 0:
        return
    if "No module named 'boto3'" not in child.stderr:
        last = (child.stderr.strip().splitlines() or ["no error output"])[-1]
        raise SystemExit(f"could not download the job's libraries s3://{bucket}/{key}: {last}")
    request = signed_get(bucket, key, region, os.environ)
    with urllib.request.urlopen(request, timeout=300) as response, open(target, "wb") as out:
        shutil.copyfileobj(response, out, 1 << 20)


def signed_get(
    bucket: str, key: str, region: str, env: dict[str, str] | os._Environ[str]
) -> urllib.request.Request:
    """An S3 GetObject request signed with AWS Signature Version 4 (path-style under an endpoint
    override such as ``AWS_ENDPOINT_URL``, virtual-hosted on AWS)."""
    endpoint = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
    path = "/" + urllib.parse.quote(key, safe="/~")
    if endpoint:
        parsed = urllib.parse.urlsplit(endpoint)
        host, path = parsed.netloc, f"/{bucket}{path}"
        url = f"{parsed.scheme}://{host}{path}"
    else:
        host = f"{bucket}.s3.{region}.amazonaws.com"
        url = f"https://{host}{path}"
    now = datetime.datetime.now(datetime.timezone.utc)
    stamp, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    headers = {"host": host, "x-amz-content-sha256": "UNSIGNED-PAYLOAD", "x-amz-date": stamp}
    if env.get("AWS_SESSION_TOKEN"):
        headers["x-amz-security-token"] = env["AWS_SESSION_TOKEN"]
    signed = ";".join(sorted(headers))
    canonical = "\n".join(
        ["GET", path, "", *(f"{k}:{headers[k]}" for k in sorted(headers)), "", signed, "UNSIGNED-PAYLOAD"]
    )
    scope = f"{day}/{region}/s3/aws4_request"
    to_sign = f"AWS4-HMAC-SHA256\n{stamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    secret = env.get("AWS_SECRET_ACCESS_KEY", "")
    signing = ("AWS4" + secret).encode()
    for part in (day, region, "s3", "aws4_request"):
        signing = hmac.new(signing, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(signing, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={env.get('AWS_ACCESS_KEY_ID', '')}/{scope}, "
        f"SignedHeaders={signed}, Signature={signature}"
    )
    del headers["host"]
    return urllib.request.Request(url, headers=headers, method="GET")


def job_region(arguments: dict[str, str]) -> str:
    """The run's region: the deployment's setting, else the host's."""
    return (
        arguments.get("VITALFLOW_REGION")
        or os.environ.get("AWS_REGION")
        or os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
    )


def libraries(arguments: dict[str, str]) -> None:
    """The job's own libraries on ``sys.path``, when the run names them (``--vitalflow_artifact``)."""
    if arguments.get(ARTIFACT):
        log.info("libraries from %s", bring_libraries(arguments[ARTIFACT], job_region(arguments)))


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    arguments = job_arguments(sys.argv[1:] if argv is None else argv)
    libraries(arguments)
    from vitalflow.glue_job import run

    return run(arguments)


if __name__ == "__main__":
    sys.exit(main())
