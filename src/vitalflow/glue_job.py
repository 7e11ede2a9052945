"""The Glue job's adapter: its arguments in, one validation, a line for the run's log out.

``jobs/validate_batch.py`` splits Glue's command line and brings the job's libraries; this is what
it calls once vitalflow can be imported.
"""

from __future__ import annotations

from collections.abc import Mapping

from vitalflow import stages
from vitalflow.config import Settings
from vitalflow.exceptions import ConfigurationError
from vitalflow.models import SourceRef
from vitalflow.runtime import runtime_for


def parse(arguments: Mapping[str, str]) -> tuple[SourceRef, dict[str, str]]:
    """The object to validate, and the deployment's settings (``VITALFLOW_*``, ``AWS_*``).

    VITALFLOW_REGION is among the settings: the region is passed explicitly, not guessed from the
    Glue host.
    """
    missing = [n for n in ("source_bucket", "source_key") if not arguments.get(n)]
    if missing:
        raise ConfigurationError("the job needs --" + " and --".join(missing))
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


def validate_upload(arguments: Mapping[str, str]) -> int:
    source, settings_args = parse(arguments)
    settings = Settings.from_env(extra=settings_args, runtime="aws")
    manifest = stages.validate(runtime_for(settings), source).manifest
    # A rejected file is a handled outcome (BatchFailed is on the bus), not a job failure.
    print(f"batch {manifest.batch_id}: {manifest.status} ({manifest.rows_in} rows in)")
    return 0
