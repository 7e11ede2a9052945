"""What a Lambda handler needs beyond the event: one runtime per warm container, built on first use.

Clients are created on the first invocation, never at import time; tests may supply a runtime.
"""

from __future__ import annotations

from typing import Any

from vitalflow.config import Settings
from vitalflow.runtime import Runtime

_runtime: Runtime | None = None


def current() -> Runtime:
    global _runtime
    if _runtime is None:
        from vitalflow.aws.runtime import aws_runtime

        _runtime = aws_runtime(Settings.from_env(runtime="aws"))
    return _runtime


def use(runtime: Runtime | None) -> None:
    """Install (or with None, forget) the runtime the handlers use."""
    global _runtime
    _runtime = runtime


def glue_runner() -> Any:
    from vitalflow.aws.glue_runner import GlueJobRunner

    settings = current().settings
    settings.require("glue_job_name")
    return GlueJobRunner(settings.glue_job_name)
