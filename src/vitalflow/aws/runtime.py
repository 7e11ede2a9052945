"""The AWS runtime: every port backed by its AWS service, from settings Terraform provides.

Athena (awswrangler, pandas) is imported on the first query, so the notify function's package
needs neither; only the analyze function, which queries, carries the AWS SDK for pandas layer.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vitalflow.aws.batch_state import DynamoBatchState
from vitalflow.aws.dynamodb_store import DynamoResultStore
from vitalflow.aws.event_bus import EventBridgeBus
from vitalflow.aws.s3_store import S3ObjectStore
from vitalflow.aws.ses import SesMailer
from vitalflow.aws.sns import SnsPublisher
from vitalflow.config import Settings
from vitalflow.enrich.rules import RulesAnalyst
from vitalflow.runtime import Runtime, analyst_for
from vitalflow.tables import LakeTables

if TYPE_CHECKING:
    import pyarrow as pa

    from vitalflow.models import Manifest


class LazyAthenaEngine:
    """The Athena engine, built on the first query."""

    def __init__(self, settings: Settings, boto3_session: Any = None) -> None:
        self.settings = settings
        self.session = boto3_session
        self._engine: Any = None

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        if self._engine is None:
            from vitalflow.aws.athena import AthenaEngine

            self._engine = AthenaEngine(self.settings, boto3_session=self.session)
        table: pa.Table = self._engine.query(sql, params)
        return table

    def for_report(self, manifest: Manifest, since: date) -> LazyAthenaEngine:
        """Itself: the report's own predicates (batch, dt) bound what Athena scans."""
        return self

    def for_summaries(self, since: date, until: date) -> LazyAthenaEngine:
        """Itself: the digest's predicates on ``dt`` prune Athena's partitions."""
        return self


def aws_runtime(settings: Settings, boto3_session: Any = None) -> Runtime:
    import boto3

    settings.require("data_bucket", "docs_bucket", "table_name", "event_bus")
    session = boto3_session or boto3.session.Session(region_name=settings.region)
    store = S3ObjectStore(settings.data_bucket, boto3_session=session, kms_key_id=settings.kms_key_id)
    return Runtime(
        settings=settings,
        store=store,
        docs_store=S3ObjectStore(settings.docs_bucket, boto3_session=session, kms_key_id=settings.kms_key_id),
        bus=EventBridgeBus(settings.event_bus, boto3_session=session),
        workdir=Path(tempfile.gettempdir()) / "vitalflow",
        engine=LazyAthenaEngine(settings, boto3_session=session),
        analyst=analyst_for(settings, session),
        fallback=RulesAnalyst(),
        results=DynamoResultStore(settings.table_name, boto3_session=session),
        mailer=SesMailer(boto3_session=session, configuration_set=settings.ses_configuration_set or None),
        state=DynamoBatchState(settings.table_name, boto3_session=session),
        publisher=_publisher(settings, session),
        tables=LakeTables.glue(
            settings.glue_database,
            settings.data_bucket,
            boto3_session=session,
            kms_key_id=settings.kms_key_id,
        ),
    )


def _publisher(settings: Settings, session: Any) -> SnsPublisher | None:
    """The fan-out topic, where the deployment has one (Terraform sets it for analyze and digest)."""
    if not settings.fanout_topic_arn:
        return None
    return SnsPublisher(settings.fanout_topic_arn, boto3_session=session)
