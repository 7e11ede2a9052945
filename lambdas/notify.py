"""EventBridge BatchAnalyzed -> the report email; BatchFailed, a failed Glue run or analysis -> an alert.

Once each. This function has no pandas layer: its package is vitalflow, matplotlib and numpy.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from vitalflow import stages
from vitalflow.aws import lambda_context

logger = Logger()


@logger.inject_lambda_context(log_event=False)
@event_source(data_class=EventBridgeEvent)
def handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    runtime = lambda_context.current()
    if event.source == "lambda":  # the analyze function's on-failure destination: retries exhausted
        request = event.detail.get("requestPayload") or {}
        response = event.detail.get("responsePayload") or {}
        sent = stages.notify_analysis_failure(
            runtime,
            str((request.get("detail") or {}).get("batch_id", "unknown")),
            str((event.detail.get("requestContext") or {}).get("requestId", event.get_id)),
            f"{response.get('errorType', 'Error')}: {response.get('errorMessage', '')}",
        )
    elif event.source == "aws.glue":  # Glue Job State Change: FAILED, TIMEOUT or STOPPED (the rule filters)
        sent = stages.notify_job_failure(
            runtime,
            str(event.detail["jobName"]),
            str(event.detail["jobRunId"]),
            str(event.detail.get("state")),
            str(event.detail.get("message", "")),
        )
    elif event.detail_type == stages.BATCH_FAILED:
        sent = stages.notify_failure(runtime, str(event.detail["batch_id"]))
    else:
        sent = stages.notify(runtime, str(event.detail["batch_id"]))
    logger.info("notification sent" if sent else "already notified", extra={"detail_type": event.detail_type})
    return {"sent": sent}
