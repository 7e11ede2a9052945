"""The AWS runtime: every port backed by its AWS service, from settings Terraform provides."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from vitalflow.aws.athena import AthenaEngine
from vitalflow.aws.batch_state import DynamoBatchState
from vitalflow.aws.catalog import GlueCatalog
from vitalflow.aws.dynamodb_store import DynamoResultStore
from vitalflow.aws.event_bus import EventBridgeBus
from vitalflow.aws.s3_store import S3ObjectStore
from vitalflow.aws.ses import SesMailer
from vitalflow.config import Settings
from vitalflow.enrich.rules import RulesAnalyst
from vitalflow.runtime import Runtime, analyst_for


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
        engine=AthenaEngine(settings, boto3_session=session),
        analyst=analyst_for(settings, session),
        fallback=RulesAnalyst(),
        results=DynamoResultStore(settings.table_name, boto3_session=session),
        mailer=SesMailer(boto3_session=session),
        state=DynamoBatchState(settings.table_name, boto3_session=session),
        catalog=GlueCatalog(settings, boto3_session=session),
    )
