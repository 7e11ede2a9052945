"""Batch records in DynamoDB: one item per batch, written once with a conditional update.

The item may already exist (the pipeline's batch state lives on it), so the record is added with
UpdateItem guarded by ``attribute_not_exists(record)`` instead of a PutItem that would replace it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from vitalflow.models import BatchRecord


class DynamoResultStore:
    def __init__(self, table_name: str, *, boto3_session: Any = None) -> None:
        import boto3

        self.table_name = table_name
        self.client = (boto3_session or boto3.session.Session()).client("dynamodb")

    def put(self, record: BatchRecord) -> bool:
        a, m = record.analysis, record.manifest
        values: dict[str, Any] = {
            ":record": {"S": record.model_dump_json()},
            ":created": {"S": record.created_at.isoformat()},
            ":rows_in": {"N": str(m.rows_in)},
            ":rows_processed": {"N": str(m.rows_processed)},
            ":rows_rejected": {"N": str(m.rows_rejected)},
            ":risk": {"S": a.risk_level},
            ":model": {"S": a.model},
            ":tin": {"N": str(a.tokens_in)},
            ":tout": {"N": str(a.tokens_out)},
            ":cost": {"N": str(Decimal(str(a.cost_usd)))},
        }
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key={"batch_id": {"S": record.batch_id}},
                UpdateExpression=(
                    "SET #record = :record, created_at = :created, rows_in = :rows_in, "
                    "rows_processed = :rows_processed, rows_rejected = :rows_rejected, risk_level = :risk, "
                    "#model = :model, tokens_in = :tin, tokens_out = :tout, cost_usd = :cost"
                ),
                ConditionExpression="attribute_not_exists(#record)",
                ExpressionAttributeNames={"#record": "record", "#model": "model"},
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def get(self, batch_id: str) -> BatchRecord | None:
        item = self.client.get_item(
            TableName=self.table_name, Key={"batch_id": {"S": batch_id}}, ConsistentRead=True
        ).get("Item")
        if not item or "record" not in item:
            return None
        return BatchRecord.model_validate_json(item["record"]["S"])
