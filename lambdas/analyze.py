"""EventBridge BatchValidated -> report queries (Athena), Bedrock analyst, DynamoDB record, BatchAnalyzed.

The only function with the AWS SDK for pandas layer (awswrangler for Athena); see scripts/package.sh.
"""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from vitalflow import stages
from vitalflow.aws import lambda_context

RESERVE_S = 30.0
logger = Logger()
metrics = Metrics()


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
@event_source(data_class=EventBridgeEvent)
def handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    batch_id = str(event.detail["batch_id"])
    # On an error this raises: Lambda retries the asynchronous invocation twice (EventBridge only
    # retries delivery), then its on-failure destination puts the failure record on the bus, where
    # the notify function turns it into an alert for the batch.
    # Bedrock gets what is left of this invocation, less the time the fallback and storing need.
    deadline = time.monotonic() + context.get_remaining_time_in_millis() / 1000 - RESERVE_S
    record = stages.analyze(lambda_context.current(), batch_id, deadline=deadline)
    m, a = record.manifest, record.analysis
    for name, value, unit in (
        ("RowsIn", m.rows_in, MetricUnit.Count),
        ("RowsProcessed", m.rows_processed, MetricUnit.Count),
        ("RowsRejected", m.rows_rejected, MetricUnit.Count),
        ("RejectRate", 100 * m.rows_rejected / m.rows_in if m.rows_in else 0.0, MetricUnit.Percent),
        ("BedrockTokens", a.tokens_in + a.tokens_out, MetricUnit.Count),
        ("BedrockCostUSD", a.cost_usd, MetricUnit.NoUnit),
        ("AnalystFallback", 1 if a.fallback_reason else 0, MetricUnit.Count),  # alarmed on
    ):
        metrics.add_metric(name=name, unit=unit, value=value)
    if a.fallback_reason:
        logger.warning("Bedrock failed; the rules analyst stood in", extra={"batch_id": batch_id})
    logger.info("batch analysed", extra={"batch_id": batch_id, "risk": a.risk_level, "model": a.model})
    return {"batch_id": batch_id, "risk_level": a.risk_level}
