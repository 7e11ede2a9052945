"""The live dashboard: API Gateway websocket $connect/$disconnect -> the connections table;
EventBridge pipeline events -> the state file beside Data Docs and a message to every connection.

$connect reaches this function only once IAM has authorised the caller (the route's authorizer).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from vitalflow.aws import lambda_context
from vitalflow.aws.live import broadcast

logger = Logger()


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    store, connections, api = lambda_context.live()
    route = (event.get("requestContext") or {}).get("routeKey")
    if route == "$connect":
        connections.add(event["requestContext"]["connectionId"])
        return {"statusCode": 200}
    if route == "$disconnect":
        connections.remove(event["requestContext"]["connectionId"])
        return {"statusCode": 200}
    delivery = broadcast(event, store, connections, api)
    logger.info(
        "event posted", extra={"sent": delivery.sent, "gone": delivery.gone, "skipped": delivery.skipped}
    )
    return {"sent": delivery.sent, "gone": delivery.gone}
