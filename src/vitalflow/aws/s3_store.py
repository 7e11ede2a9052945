"""The lake in an S3 bucket: SSE-KMS on every write, versions honoured on reads."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, cast

from botocore.exceptions import ClientError

from vitalflow.exceptions import ObjectNotFound

_RANGE_PIECE = 8 << 20  # bytes a ranged GET fetches at a time (``local_range``)


class S3ObjectStore:
    def __init__(self, bucket: str, *, boto3_session: Any = None, kms_key_id: str = "") -> None:
        import boto3

        self.bucket = bucket
        self.client = (boto3_session or boto3.session.Session()).client("s3")
        self.kms_key_id = kms_key_id

    def __getstate__(self) -> dict[str, Any]:
        """The store for another process (a Spark task): bucket, key, region and endpoint, no
        client (a client does not pickle); the task's own credentials come from its host's role."""
        state = {k: v for k, v in self.__dict__.items() if k != "client"}
        state["_client"] = (self.client.meta.region_name, self.client.meta.endpoint_url)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        import boto3

        region, endpoint = state.pop("_client")
        self.__dict__.update(state)
        self.client = boto3.session.Session(region_name=region).client("s3", endpoint_url=endpoint)

    def _sse(self) -> dict[str, Any]:
        if not self.kms_key_id:
            return {}
        return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self.kms_key_id}

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    @contextmanager
    def _found(self, key: str) -> Iterator[None]:
        """S3's answers for a missing object or version, as the store's ``ObjectNotFound``."""
        try:
            yield
        except ClientError as exc:
            if _missing(exc):
                raise ObjectNotFound(f"no such object: {self.uri(key)}") from None
            raise

    @contextmanager
    def local_copy(self, key: str, version_id: str | None = None) -> Iterator[Path]:
        with tempfile.TemporaryDirectory(prefix="vitalflow-") as folder:
            path = Path(folder) / (key.rsplit("/", 1)[-1] or "object")
            with self._found(key):
                self.client.download_file(self.bucket, key, str(path), ExtraArgs=_version(version_id) or None)
            yield path

    @contextmanager
    def open(self, key: str, version_id: str | None = None) -> Iterator[BinaryIO]:
        """One GET of the version, read as it arrives."""
        with self._found(key):
            body = self.client.get_object(Bucket=self.bucket, Key=key, **_version(version_id))["Body"]
        with closing(body):
            yield cast(BinaryIO, body)  # botocore's StreamingBody: read() and close()

    @contextmanager
    def local_range(self, key: str, version_id: str | None, start: int, stop: int) -> Iterator[Path]:
        """Ranged GETs of the version into a sparse file: only ``[start, stop)`` is fetched or stored."""
        with tempfile.TemporaryDirectory(prefix="vitalflow-") as folder:
            path = Path(folder) / "range"
            with path.open("wb") as out:
                out.seek(start)
                at = start
                while at < stop:
                    end = min(at + _RANGE_PIECE, stop)
                    with self._found(key):
                        reply = self.client.get_object(
                            Bucket=self.bucket, Key=key, Range=f"bytes={at}-{end - 1}", **_version(version_id)
                        )
                    for piece in reply["Body"].iter_chunks(1 << 20):
                        at += out.write(piece)
                    if at != end:  # a short body: the object changed or the stream broke
                        raise OSError(f"{self.uri(key)}: bytes {at}-{end - 1} did not arrive whole")
                out.truncate(stop)
            yield path

    def modified_at(self, key: str, version_id: str | None = None) -> datetime | None:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key, **_version(version_id))
        except ClientError as exc:
            if _missing(exc):
                return None
            raise
        modified: datetime | None = head.get("LastModified")
        return modified

    def put_file(self, path: Path, key: str) -> None:
        self.client.upload_file(str(path), self.bucket, key, ExtraArgs=self._sse() or None)

    def copy(self, source: str, key: str) -> None:
        """S3's own copy (multipart above 5 GB): the bytes never pass through this machine."""
        self.client.copy(
            {"Bucket": self.bucket, "Key": source}, self.bucket, key, ExtraArgs=self._sse() or None
        )

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None:
        extra: dict[str, Any] = {"ContentType": content_type} if content_type else {}
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, **extra, **self._sse())

    def read_tagged(self, key: str) -> tuple[bytes | None, str | None]:
        """The object and its ETag, (None, None) when absent: what :meth:`put_if_unchanged` compares."""
        try:
            found = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _missing(exc):
                return None, None
            raise
        return bytes(found["Body"].read()), str(found["ETag"])

    def put_if_unchanged(
        self, key: str, data: bytes, tag: str | None, content_type: str | None = None
    ) -> bool:
        """Write only if the object is still the one read (``tag``), or still absent (``None``).

        False when another writer came first (S3 conditional writes: 412, or 409 for a race in flight).
        """
        condition: dict[str, Any] = {"IfMatch": tag} if tag else {"IfNoneMatch": "*"}
        extra: dict[str, Any] = {"ContentType": content_type} if content_type else {}
        try:
            self.client.put_object(
                Bucket=self.bucket, Key=key, Body=data, **condition, **extra, **self._sse()
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in (
                "PreconditionFailed",
                "ConditionalRequestConflict",
            ):
                return False
            raise
        return True

    def get_bytes(self, key: str) -> bytes:
        with self._found(key):
            return bytes(self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read())

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _missing(exc):
                return False
            raise
        return True

    def list_keys(self, prefix: str) -> Iterator[str]:
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                yield item["Key"]

    def delete(self, keys: list[str]) -> None:
        for start in range(0, len(keys), 1000):
            chunk: list[Any] = [{"Key": k} for k in keys[start : start + 1000]]
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": chunk, "Quiet": True})

    def purge_versions(self, key: str, holds: Callable[[bytes], bool]) -> int:
        """Older versions are immutable: one holding the bytes is deleted whole (its rows, other
        users' too, were loaded from it already; the current version is what a rerun reads)."""
        doomed: list[Any] = []
        pages = self.client.get_paginator("list_object_versions").paginate(Bucket=self.bucket, Prefix=key)
        for page in pages:
            for version in page.get("Versions", []):
                if version["Key"] != key or version.get("IsLatest"):
                    continue
                body = self.client.get_object(Bucket=self.bucket, Key=key, VersionId=version["VersionId"])
                if holds(body["Body"].read()):
                    doomed.append({"Key": key, "VersionId": version["VersionId"]})
        for start in range(0, len(doomed), 1000):
            chunk = doomed[start : start + 1000]
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": chunk, "Quiet": True})
        return len(doomed)


def _version(version_id: str | None) -> dict[str, Any]:
    """The request parameter that reads one version (none: the current one)."""
    return {"VersionId": version_id} if version_id else {}


def _missing(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound", "NoSuchVersion")
