"""What a Lambda handler needs beyond the event: one runtime per warm container, built on first use.

Clients are created on the first invocation, never at import time; tests may supply a runtime.
The start_validation function needs only the batch state table and Glue, so it gets those
without the full runtime (whose query engine would import awswrangler and pandas).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vitalflow.config import Settings

if TYPE_CHECKING:
    from vitalflow.aws.batch_state import DynamoBatchState
    from vitalflow.runtime import Runtime

_runtime: Runtime | None = None
_settings: Settings | None = None
_clients: dict[str, Any] = {}  # per warm container, like the runtime


def settings() -> Settings:
    if _runtime is not None:
        return _runtime.settings
    global _settings
    if _settings is None:
        _settings = Settings.from_env(runtime="aws")
    return _settings


def current() -> Runtime:
    global _runtime
    if _runtime is None:
        from vitalflow.aws.runtime import aws_runtime

        _runtime = aws_runtime(settings())
    return _runtime


def use(runtime: Runtime | None) -> None:
    """Install (or with None, forget) the runtime the handlers use."""
    global _runtime, _settings
    _runtime, _settings = runtime, None
    _clients.clear()


def start_claims() -> DynamoBatchState:
    """The leases on starting validation runs (the batch table)."""
    from vitalflow.aws.batch_state import DynamoBatchState

    config = settings()
    config.require("table_name")
    if _runtime is not None and isinstance(_runtime.state, DynamoBatchState):
        return _runtime.state
    if "claims" not in _clients:
        _clients["claims"] = DynamoBatchState(config.table_name, boto3_session=_session(config))
    claims: DynamoBatchState = _clients["claims"]
    return claims


def glue_runner() -> Any:
    """The validation jobs, routed by upload size (trigger.JobRoute): the Spark job only if configured."""
    from vitalflow.aws.glue_runner import GlueJobRunner
    from vitalflow.trigger import JobRoute

    config = settings()
    config.require("glue_job_name")
    if "glue" not in _clients:
        session = _session(config)
        shell = GlueJobRunner(
            config.glue_job_name, max_active=config.glue_max_active_runs, boto3_session=session
        )
        spark = None
        if config.glue_spark_job_name:
            spark = GlueJobRunner(config.glue_spark_job_name, boto3_session=session)
        _clients["glue"] = JobRoute(shell, spark, config.spark_threshold_bytes)
    return _clients["glue"]


def _session(config: Settings) -> Any:
    import boto3

    return boto3.session.Session(region_name=config.region)


def live() -> tuple[Any, Any, Any]:
    """The live dashboard's docs-bucket store, connections table and websocket management client."""
    from vitalflow.aws.live import Connections
    from vitalflow.aws.s3_store import S3ObjectStore

    config = settings()
    config.require("docs_bucket", "connections_table", "websocket_endpoint")
    if "live" not in _clients:
        session = _session(config)
        _clients["live"] = (
            S3ObjectStore(config.docs_bucket, kms_key_id=config.kms_key_id, boto3_session=session),
            Connections(config.connections_table, boto3_session=session),
            session.client("apigatewaymanagementapi", endpoint_url=config.websocket_endpoint),
        )
    found: tuple[Any, Any, Any] = _clients["live"]
    return found
