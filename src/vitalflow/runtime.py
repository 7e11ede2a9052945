"""Wiring: which implementation of each port a runtime uses.

Stages receive a :class:`Runtime` and never look at the settings' ``runtime`` field themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vitalflow import lake
from vitalflow.config import Settings
from vitalflow.local.event_bus import LocalEventBus
from vitalflow.local.object_store import LocalObjectStore
from vitalflow.ports import Catalog, EventBus, ObjectStore


@dataclass
class Runtime:
    settings: Settings
    store: ObjectStore  # the lake: raw, processed, rejected, manifests
    docs_store: ObjectStore  # the Data Docs site
    bus: EventBus
    workdir: Path  # scratch space for a batch being written
    home: Path | None = None  # the local lake folder, when there is one
    catalog: Catalog | None = None  # partition registration, where the query engine needs it


def local_runtime(settings: Settings) -> Runtime:
    home = Path(settings.home).expanduser().resolve()
    store = LocalObjectStore(home)
    for folder in (lake.RAW, lake.PROCESSED, lake.REJECTED, lake.MANIFESTS, lake.DOCS):
        (home / folder).mkdir(parents=True, exist_ok=True)
    return Runtime(
        settings=settings,
        store=store,
        docs_store=store,
        bus=LocalEventBus(home / "events" / "events.jsonl"),
        workdir=home / lake.STAGING,
        home=home,
    )


def runtime_for(settings: Settings, boto3_session: Any = None) -> Runtime:
    if settings.runtime == "aws":
        from vitalflow.aws.runtime import aws_runtime

        return aws_runtime(settings, boto3_session=boto3_session)
    return local_runtime(settings)
