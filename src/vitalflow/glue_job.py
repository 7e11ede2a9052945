"""The Glue jobs' adapter: its arguments in, one validation (or one erasure), a line for the log out.

``jobs/validate_batch.py`` splits Glue's command line and brings the job's libraries; this is what
it calls once vitalflow can be imported. The erasure job runs the same script with the same
libraries (``--vitalflow_task erase``, set by Terraform on that job only): the operator's entry
point to ``vitalflow.erasure``, the core ``vitalflow erase`` runs locally. ``--vitalflow_task
migrate``, given to a run of the validation job, is ``vitalflow lake migrate`` on AWS.
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
    settings_args = _settings(arguments)
    bucket, key = arguments["source_bucket"], arguments["source_key"]
    source = SourceRef(
        key=key, version_id=arguments.get("source_version_id") or None, uri=f"s3://{bucket}/{key}"
    )
    return source, settings_args


def run(arguments: Mapping[str, str]) -> int:
    task = arguments.get("vitalflow_task", "validate")
    if task == "erase":
        return erase(arguments)
    if task == "migrate":
        return migrate_lake(arguments)
    return validate_upload(arguments)


def migrate_lake(arguments: Mapping[str, str]) -> int:
    """``--vitalflow_task migrate`` on the validation job: ``vitalflow lake migrate`` on AWS, once
    after the upgrade to Iceberg tables (README "Upgrading"). The validation job's role already
    reads and writes what the migration does (the batches' files, manifests, the tables)."""
    from vitalflow.migration import migrate
    from vitalflow.tables import LakeTables

    runtime = runtime_for(Settings.from_env(extra=_settings(arguments), runtime="aws"))
    result = migrate(runtime.store, runtime.tables or LakeTables.for_store(runtime.store))
    print(
        f"migrated {result.batches} batch(es); rows: {result.rows_before} expected, "
        f"{result.rows_after} in the tables"
    )
    return 0


ERASE_REQUESTS = "erase-requests/"  # in the data bucket: where the operator puts a request


def erase(arguments: Mapping[str, str]) -> int:
    """``--request_key erase-requests/NAME.json``: the request (``{"user_id": ..., "dry_run": ...}``)
    is an encrypted object, so the id is never a job argument (Glue keeps those in the run history and
    CloudTrail may log them); it is deleted once carried out. The log names the person by digest only.
    """
    import json

    from vitalflow.erasure import erase_user
    from vitalflow.tables import LakeTables

    key = arguments.get("request_key", "")
    if not key.startswith(ERASE_REQUESTS) or ".." in key:
        raise ConfigurationError(f"the erasure job needs --request_key {ERASE_REQUESTS}<name>.json")
    settings = Settings.from_env(extra=_settings(arguments), runtime="aws")
    runtime = runtime_for(settings)
    try:
        request = json.loads(runtime.store.get_bytes(key))
        user_id, dry_run = str(request["user_id"]), bool(request.get("dry_run", False))
    except (ValueError, KeyError, TypeError):
        raise ConfigurationError(f'{key} is not {{"user_id": "...", "dry_run": false}}') from None
    tables = runtime.tables or LakeTables.for_store(runtime.store)
    result = erase_user(runtime.store, tables, user_id, dry_run=dry_run)
    if not dry_run:
        runtime.store.delete([key])
    verb = "would remove" if dry_run else "removed"
    print(
        f"erasure {result.subject_sha256[:16]}: {verb} rows {result.rows}, "
        f"{len(result.raw_files)} raw upload(s), {result.raw_versions_deleted} older version(s); "
        f"audit {result.audit}"
    )
    return 0


def _settings(arguments: Mapping[str, str]) -> dict[str, str]:
    return {n: v for n, v in arguments.items() if n.startswith("VITALFLOW_") or n.startswith("AWS_")}


def validate_upload(arguments: Mapping[str, str]) -> int:
    source, settings_args = parse(arguments)
    settings = Settings.from_env(extra=settings_args, runtime="aws")
    manifest = stages.validate(runtime_for(settings), source).manifest
    # A rejected file is a handled outcome (BatchFailed is on the bus), not a job failure.
    print(f"batch {manifest.batch_id}: {manifest.status} ({manifest.rows_in} rows in)")
    return 0
