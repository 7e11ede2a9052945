"""Wiring: which implementation of each port a runtime uses.

Stages receive a :class:`Runtime` and never look at the settings' ``runtime`` field themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vitalflow import lake
from vitalflow.config import Settings
from vitalflow.enrich.rules import RulesAnalyst
from vitalflow.ports import (
    Analyst,
    BatchState,
    EventBus,
    Mailer,
    ObjectStore,
    Publisher,
    QueryEngine,
    ResultStore,
)
from vitalflow.tables import LakeTables  # pyiceberg and pyarrow load only when a table is opened


@dataclass
class Runtime:
    settings: Settings
    store: ObjectStore  # the lake: raw, processed, rejected, manifests
    docs_store: ObjectStore  # the Data Docs site
    bus: EventBus
    workdir: Path  # scratch space for a batch being written
    engine: QueryEngine
    analyst: Analyst
    fallback: Analyst  # stands in when the analyst fails
    results: ResultStore
    mailer: Mailer
    state: BatchState
    home: Path | None = None  # the local lake folder, when there is one
    tables: LakeTables | None = None  # the Iceberg tables; None: those of the local lake in ``store``
    publisher: Publisher | None = None  # fan-out to subscribers (SNS); None: not configured


def analyst_for(settings: Settings, boto3_session: Any = None) -> Analyst:
    if settings.analyst == "bedrock":
        from vitalflow.enrich.bedrock import BedrockAnalyst

        return BedrockAnalyst.from_settings(settings, boto3_session)
    return RulesAnalyst()


def local_runtime(settings: Settings) -> Runtime:
    from vitalflow.local.batch_state import SqliteBatchState
    from vitalflow.local.event_bus import LocalEventBus
    from vitalflow.local.fanout import LocalPublisher
    from vitalflow.local.object_store import LocalObjectStore
    from vitalflow.local.outbox import OutboxMailer
    from vitalflow.local.query_engine import DuckDBEngine  # DuckDB: local runs only
    from vitalflow.local.result_store import SqliteResultStore

    settings = settings.with_(notify_lease_s=0)  # runs on a lake are serialised by its lock
    home = Path(settings.home).expanduser().resolve()
    store = LocalObjectStore(home)
    for folder in (lake.RAW, lake.PROCESSED, lake.REJECTED, lake.MANIFESTS, lake.DOCS, lake.OUTBOX):
        (home / folder).mkdir(parents=True, exist_ok=True)
    return Runtime(
        settings=settings,
        store=store,
        docs_store=store,
        bus=LocalEventBus(home / "events" / "events.jsonl"),
        workdir=home / lake.STAGING,
        engine=DuckDBEngine(store),
        analyst=analyst_for(settings),
        fallback=RulesAnalyst(),
        results=SqliteResultStore(home / "results" / "vitalflow.db"),
        mailer=OutboxMailer(home / lake.OUTBOX),
        state=SqliteBatchState(home / "results" / "vitalflow.db"),
        home=home,
        publisher=LocalPublisher(home / "events" / "fanout.jsonl"),
        tables=LakeTables.local(home),
    )


def runtime_for(settings: Settings, boto3_session: Any = None) -> Runtime:
    if settings.runtime == "aws":
        from vitalflow.aws.runtime import aws_runtime

        return aws_runtime(settings, boto3_session=boto3_session)
    return local_runtime(settings)
