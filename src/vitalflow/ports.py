"""The small interfaces through which stages talk to the outside world.

Each has a local implementation (``vitalflow.local``) and an AWS one (``vitalflow.aws``). A stage
receives them as arguments and never learns which runtime it is in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from datetime import date, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol

if TYPE_CHECKING:  # the start_validation Lambda's package has no pydantic, the notify Lambda's no pyarrow
    import pyarrow as pa

    from vitalflow.models import Analysis, BatchRecord, BatchReport, Manifest


class ObjectStore(Protocol):
    """Keys are relative to the lake root: ``raw/...``, ``processed/dt=.../...``, ``manifests/...``."""

    def uri(self, key: str) -> str:
        """A form a user can open or paste: a file path locally, ``s3://bucket/key`` on AWS."""
        ...

    def local_copy(self, key: str, version_id: str | None = None) -> AbstractContextManager[Path]:
        """A readable local file with the object's bytes, for as long as the context is open."""
        ...

    def open(self, key: str, version_id: str | None = None) -> AbstractContextManager[BinaryIO]:
        """The object's bytes as a stream, read once from the start (nothing is stored locally)."""
        ...

    def local_range(
        self, key: str, version_id: str | None, start: int, stop: int
    ) -> AbstractContextManager[Path]:
        """A local file holding the object's bytes ``[start, stop)`` at their own offsets (the bytes
        outside are unspecified): a Spark task reads its part of an upload, not the whole file."""
        ...

    def modified_at(self, key: str, version_id: str | None = None) -> datetime | None:
        """When the object was written (S3's LastModified): an upload's time, for the event-time window."""
        ...

    def put_file(self, path: Path, key: str) -> None: ...

    def copy(self, source: str, key: str) -> None:
        """Write ``key`` with the bytes of ``source``; readers see nothing or all of it."""
        ...

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None:
        """Write an object so that readers see either nothing or all of it."""
        ...

    def get_bytes(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...

    def list_keys(self, prefix: str) -> Iterator[str]: ...

    def delete(self, keys: list[str]) -> None: ...

    def purge_versions(self, key: str, holds: Callable[[bytes], bool]) -> int:
        """Delete the key's older versions whose bytes ``holds`` matches; how many went.

        A versioned bucket keeps every upload's bytes after an overwrite or delete: erasure must not
        leave them there. Stores without versions have nothing to purge.
        """
        ...


class QueryEngine(Protocol):
    """Runs Athena-dialect SQL over the lake's tables and the views in ``sql/views``."""

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table: ...

    def for_report(self, manifest: Manifest, since: date) -> QueryEngine:
        """An engine for one batch's report: this batch's rows and the summaries of ingestion days
        from ``since``. The report's queries must answer over it exactly as over the whole lake; an
        engine whose scans the queries' own predicates already bound (Athena) returns itself.
        """
        ...

    def for_summaries(self, since: date, until: date) -> QueryEngine:
        """An engine for the daily digest: the summaries of ingestion days ``since`` to ``until``,
        over which the digest's queries (bound to those days) answer exactly as over the whole lake.
        """
        ...


class Analyst(Protocol):
    def analyze(self, report: BatchReport, *, deadline: float | None = None) -> Analysis:
        """``deadline``: a ``time.monotonic()`` value by which to answer or raise (a Lambda's budget)."""
        ...


class ResultStore(Protocol):
    def put(self, record: BatchRecord) -> bool:
        """Store a batch record once; return False (and change nothing) when it already exists."""
        ...

    def get(self, batch_id: str) -> BatchRecord | None: ...


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> str:
        """Send or deliver the message; return an id (SES message id or outbox path)."""
        ...


class Leases(Protocol):
    """Steps taken once per key by processes that may die (DynamoDB on AWS, SQLite locally).

    A Glue run outlives any Lambda, and a local run can be killed, so the record lives outside
    the process; ``vitalflow.leases.run_once`` is the one sequence that uses it.
    """

    def lease(self, batch_id: str, step: str, seconds: int) -> str | None:
        """Take ``step`` unless held: None when taken; else the holder's recorded id ("" while it works).

        A lease older than ``seconds`` with nothing recorded belongs to a process that died, and is
        taken over: that is what turns "claimed, then killed" into a retry instead of a loss.
        """
        ...

    def record_run(self, batch_id: str, step: str, run_id: str) -> None:
        """Mark the leased step as done by ``run_id`` (a Glue run, a message id)."""
        ...

    def release(self, batch_id: str, step: str) -> None:
        """Undo a lease whose work failed, so a retry can take it."""
        ...


class BatchState(Leases, Protocol):
    """Which steps of a batch are done, recorded with conditional writes so each happens once."""


class JobRunner(Protocol):
    """Starts the validation job for one uploaded object version (Glue on AWS); returns its run id."""

    def start(self, bucket: str, key: str, version_id: str | None) -> str: ...


class EventBus(Protocol):
    def put(self, detail_type: str, detail: Mapping[str, Any]) -> None: ...


class Publisher(Protocol):
    """Fan-out to subscribers (SNS on AWS, a JSON-lines file locally).

    ``attributes`` become SNS message attributes (strings), which subscriptions' filter policies
    match, so a subscriber gets only e.g. high-risk batches of one source.
    """

    def publish(self, subject: str, message: Mapping[str, Any], attributes: Mapping[str, str]) -> str:
        """Publish one message; return its id."""
        ...
