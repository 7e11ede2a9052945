"""Batch state in DynamoDB: one attribute per step on the batch's item, set at most once."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from botocore.exceptions import ClientError


class DynamoBatchState:
    """Conditional writes make each step happen once, across Lambdas, retries and long Glue runs."""

    def __init__(self, table_name: str, *, boto3_session: Any = None) -> None:
        import boto3

        self.table_name = table_name
        self.client = (boto3_session or boto3.session.Session()).client("dynamodb")

    def lease(self, batch_id: str, step: str, seconds: int, *, now: datetime | None = None) -> str | None:
        """Take ``step`` unless someone holds it: a run id recorded, or a lease younger than ``seconds``.

        Returns None when taken; otherwise the holder's run id, or "" for a fresh lease without one.
        ISO timestamps in UTC compare as strings, so the stale check is one condition expression.
        """
        now = now or _now()
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key={"batch_id": {"S": batch_id}},
                UpdateExpression="SET #step = :now",
                ConditionExpression=(
                    "attribute_not_exists(#step) OR (attribute_not_exists(#run) AND #step < :stale)"
                ),
                ExpressionAttributeNames={"#step": f"step_{step}", "#run": f"step_{step}_run"},
                ExpressionAttributeValues={
                    ":now": {"S": now.isoformat()},
                    ":stale": {"S": (now - timedelta(seconds=seconds)).isoformat()},
                },
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            item = self._item(batch_id)
            return str(item.get(f"step_{step}_run", {}).get("S", ""))
        return None

    def record_run(self, batch_id: str, step: str, run_id: str) -> None:
        """Turn a lease into a permanent claim: the step is done, by this run."""
        self.client.update_item(
            TableName=self.table_name,
            Key={"batch_id": {"S": batch_id}},
            UpdateExpression="SET #run = :run",
            ExpressionAttributeNames={"#run": f"step_{step}_run"},
            ExpressionAttributeValues={":run": {"S": run_id}},
        )

    def release(self, batch_id: str, step: str) -> None:
        self.client.update_item(
            TableName=self.table_name,
            Key={"batch_id": {"S": batch_id}},
            UpdateExpression="REMOVE #step",
            ExpressionAttributeNames={"#step": f"step_{step}"},
        )

    def _item(self, batch_id: str) -> dict[str, Any]:
        item: dict[str, Any] = self.client.get_item(
            TableName=self.table_name, Key={"batch_id": {"S": batch_id}}, ConsistentRead=True
        ).get("Item", {})
        return item


def _now() -> datetime:
    return datetime.now(timezone.utc)
