"""Glue Python shell entry point: validate one uploaded object (the job's arguments name it).

Glue passes ``--source_bucket/--source_key/--source_version_id`` per run and the deployment's
settings as ``--VITALFLOW_*`` default arguments; both arrive in ``sys.argv``.
"""

from __future__ import annotations

import argparse
import logging
import sys

from vitalflow import stages
from vitalflow.config import Settings
from vitalflow.models import SourceRef
from vitalflow.runtime import runtime_for


def parse(argv: list[str]) -> tuple[SourceRef, dict[str, str]]:
    parser = argparse.ArgumentParser(prog="validate_batch")
    parser.add_argument("--source_bucket", required=True)
    parser.add_argument("--source_key", required=True)
    parser.add_argument("--source_version_id", default="")
    known, rest = parser.parse_known_args(argv)
    settings_args: dict[str, str] = {}
    it = iter(rest)
    for token in it:
        if token.startswith("--VITALFLOW_") or token.startswith("--AWS_"):
            settings_args[token[2:]] = next(it, "")
    source = SourceRef(
        key=known.source_key,
        version_id=known.source_version_id or None,
        uri=f"s3://{known.source_bucket}/{known.source_key}",
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
