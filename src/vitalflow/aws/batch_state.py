"""Batch state in DynamoDB: one attribute per step on the batch's item, set at most once."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from botocore.exceptions import ClientError


class DynamoBatchState:
    """Conditional writes make each step happen once, across Lambdas, retries and long Glue runs."""

    def __init__(self, table_name: str, *, boto3_session: Any = None) -> None:
        import boto3

        self.table_name = table_name
        self.client = (boto3_session or boto3.session.Session()).client("dynamodb")

    def claim(self, batch_id: str, step: str) -> bool:
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key={"batch_id": {"S": batch_id}},
                UpdateExpression="SET #step = :now",
                ConditionExpression="attribute_not_exists(#step)",
                ExpressionAttributeNames={"#step": f"step_{step}"},
                ExpressionAttributeValues={":now": {"S": datetime.now(timezone.utc).isoformat()}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def release(self, batch_id: str, step: str) -> None:
        self.client.update_item(
            TableName=self.table_name,
            Key={"batch_id": {"S": batch_id}},
            UpdateExpression="REMOVE #step",
            ExpressionAttributeNames={"#step": f"step_{step}"},
        )

    def done(self, batch_id: str, step: str) -> bool:
        item = self.client.get_item(
            TableName=self.table_name, Key={"batch_id": {"S": batch_id}}, ConsistentRead=True
        ).get("Item", {})
        return f"step_{step}" in item
