"""EventBridge BatchAnalyzed -> the report email; BatchFailed or a failed Glue run -> an alert. Once each."""

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
    if event.source == "aws.glue":  # Glue Job State Change: FAILED or TIMEOUT (the rule filters)
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
