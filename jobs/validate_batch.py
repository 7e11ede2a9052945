"""Glue Python shell entry point: validate one uploaded object (the job's arguments name it).

Glue passes ``--source_bucket/--source_key/--source_version_id`` per run and the deployment's
settings as ``--VITALFLOW_*`` default arguments; both arrive in ``sys.argv``.
"""

from __future__ import annotations

import logging
import sys

from vitalflow import stages
from vitalflow.config import Settings
from vitalflow.exceptions import ConfigurationError
from vitalflow.models import SourceRef
from vitalflow.runtime import runtime_for


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


def parse(argv: list[str]) -> tuple[SourceRef, dict[str, str]]:
    arguments = job_arguments(argv)
    missing = [n for n in ("source_bucket", "source_key") if not arguments.get(n)]
    if missing:
        raise ConfigurationError("the job needs --" + " and --".join(missing))
    # Deployment settings: VITALFLOW_* (VITALFLOW_REGION among them: the region is passed
    # explicitly, not guessed from the Glue host) and AWS_* overrides.
    settings_args = {
        name: value
        for name, value in arguments.items()
        if name.startswith("VITALFLOW_") or name.startswith("AWS_")
    }
    bucket, key = arguments["source_bucket"], arguments["source_key"]
    source = SourceRef(
        key=key, version_id=arguments.get("source_version_id") or None, uri=f"s3://{bucket}/{key}"
    )
    return source, settings_args


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    source, settings_args = parse(sys.argv[1:] if argv is None else argv)
    settings = Settings.from_env(extra=settings_args, runtime="aws")
    result = stages.validate(runtime_for(settings), source)
    manifest = result.manifest
    # A rejected file is a handled outcome (BatchFailed is on the bus), not a job failure.
    print(f"batch {manifest.batch_id}: {manifest.status} ({manifest.rows_in} rows in)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
