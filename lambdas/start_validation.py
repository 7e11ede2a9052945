"""SQS (S3 upload notifications) -> one Glue validation run per new object version.

Partial batch failures: a message whose run could not be started (Glue throttling, a fresh lease
held by another invocation) fails alone and SQS redelivers it after the visibility timeout.
This function imports neither pandas nor awswrangler: its package is the handler, vitalflow and
Powertools (see scripts/package.sh).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from vitalflow.aws import lambda_context
from vitalflow.trigger import start_validation, uploaded_objects

processor = BatchProcessor(event_type=EventType.SQS)
logger = Logger()
metrics = Metrics()


def record_handler(record: SQSRecord) -> None:
    for obj in uploaded_objects(record.json_body):
        run_id = start_validation(obj, lambda_context.start_claims(), lambda_context.glue_runner())
        metrics.add_metric(
            name="ValidationStarted" if run_id else "DuplicateUpload", unit=MetricUnit.Count, value=1
        )
        logger.info("validation started" if run_id else "duplicate delivery", extra={"job_run_id": run_id})


@logger.inject_lambda_context(log_event=False)  # events carry object keys only; still, keep them out of logs
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(  # type: ignore[return-value]
        event=event, record_handler=record_handler, processor=processor, context=context
    )
