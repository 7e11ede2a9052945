"""EventBridge Scheduler, daily -> the data-quality digest of the UTC ingestion day before the
scheduled time: monitors on Athena, the email through SES and the fan-out message, once per day.

Has the AWS SDK for pandas layer (awswrangler for Athena), like analyze; see scripts/package.sh.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from vitalflow import stages
from vitalflow.aws import lambda_context

logger = Logger()


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    day = digest_day(event)
    outcome = stages.digest(lambda_context.current(), day)
    found = outcome.digest.findings
    logger.info(
        "digest sent" if outcome.sent else "digest was sent before",
        extra={"day": day.isoformat(), "findings": len(found), "risk": outcome.digest.risk_level},
    )
    return {
        "day": day.isoformat(),
        "findings": len(found),
        "sent": outcome.sent,
        "published": outcome.published,
    }


def digest_day(event: dict[str, Any]) -> date:
    """``{"day": "YYYY-MM-DD"}`` (an operator's rerun), else the UTC day before ``scheduled_time``
    (the schedule's input), else the day before now."""
    if event.get("day"):
        return date.fromisoformat(str(event["day"]))
    stamp = str(event.get("scheduled_time") or "")
    when = datetime.fromisoformat(stamp.replace("Z", "+00:00")) if stamp else datetime.now(timezone.utc)
    return when.astimezone(timezone.utc).date() - timedelta(days=1)
