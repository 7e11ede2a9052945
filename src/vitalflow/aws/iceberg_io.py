"""Iceberg's file access on S3 through the job's own boto3 client (pyiceberg's ``FileIO``).

pyiceberg would otherwise build its own S3 client (pyarrow's), with its own credentials, retries
and encryption settings: here the tables' metadata, manifests and data files go through the same
client, KMS key and retry mode as every other object the job writes: metadata and manifests whole,
Parquet files by byte ranges (footers, then the row groups and columns a reader asks for).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from pyiceberg.catalog.glue import GlueCatalog
from pyiceberg.io import FileIO, InputFile, InputStream, OutputFile, OutputStream
from pyiceberg.typedef import EMPTY_DICT, Properties

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def _split(location: str) -> tuple[str, str]:
    """``s3://bucket/key`` (or ``s3a://``) into bucket and key."""
    rest = location.split("://", 1)[1]
    bucket, _, key = rest.partition("/")
    return bucket, key


class S3FileIO(FileIO):
    def __init__(self, client: S3Client, kms_key_id: str = "", properties: Properties = EMPTY_DICT) -> None:
        super().__init__(properties)
        self.client = client
        self.kms_key_id = kms_key_id

    def new_input(self, location: str) -> InputFile:
        return _Input(location, self.client)

    def new_output(self, location: str) -> OutputFile:
        return _Output(location, self.client, self.kms_key_id)

    def delete(self, location: str | InputFile | OutputFile) -> None:
        where = location if isinstance(location, str) else location.location
        bucket, key = _split(where)
        self.client.delete_object(Bucket=bucket, Key=key)


class _Input(InputFile):
    def __init__(self, location: str, client: S3Client) -> None:
        super().__init__(location)
        self.client = client

    def __len__(self) -> int:
        bucket, key = _split(self.location)
        return int(self.client.head_object(Bucket=bucket, Key=key)["ContentLength"])

    def exists(self) -> bool:
        bucket, key = _split(self.location)
        try:
            self.client.head_object(Bucket=bucket, Key=key)
        except self.client.exceptions.ClientError:
            return False
        return True

    def open(self, seekable: bool = True) -> InputStream:
        """Metadata and manifests (small, read whole) in one request; a Parquet file as a seekable
        stream of ranged requests, so a reader fetches the footer and the row groups and columns
        it reads, never the whole object into memory (a month's file may be hundreds of MB, the
        Python shell job has 1 GB)."""
        bucket, key = _split(self.location)
        try:
            if key.endswith(".parquet"):
                size = int(self.client.head_object(Bucket=bucket, Key=key)["ContentLength"])
                return io.BufferedReader(_Ranged(self.client, bucket, key, size), buffer_size=1 << 20)
            body = self.client.get_object(Bucket=bucket, Key=key)["Body"].read()
        except self.client.exceptions.NoSuchKey:
            raise FileNotFoundError(self.location) from None
        except self.client.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise FileNotFoundError(self.location) from None
            raise
        return io.BytesIO(body)


class _Ranged(io.RawIOBase):
    """An S3 object read by byte ranges: a request per read the buffer above cannot serve."""

    def __init__(self, client: S3Client, bucket: str, key: str, size: int) -> None:
        super().__init__()
        self.client, self.bucket, self.key, self.size = client, bucket, key, size
        self.position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = max(0, base + offset)
        return self.position

    def readinto(self, buffer: Any) -> int:
        data = self._get(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readall(self) -> bytes:
        return self._get(self.size - self.position)  # the rest in one request, not a buffer's worth each

    def _get(self, wanted: int) -> bytes:
        end = min(self.position + wanted, self.size)
        if end <= self.position:
            return b""
        reply = self.client.get_object(
            Bucket=self.bucket, Key=self.key, Range=f"bytes={self.position}-{end - 1}"
        )
        data = bytes(reply["Body"].read())
        self.position += len(data)
        return data


class _Output(OutputFile):
    def __init__(self, location: str, client: S3Client, kms_key_id: str) -> None:
        super().__init__(location)
        self.client = client
        self.kms_key_id = kms_key_id

    def __len__(self) -> int:
        return len(self.to_input_file())

    def exists(self) -> bool:
        return self.to_input_file().exists()

    def to_input_file(self) -> InputFile:
        return _Input(self.location, self.client)

    def create(self, overwrite: bool = False) -> OutputStream:
        if not overwrite and self.exists():
            raise FileExistsError(self.location)
        return _Upload(self)


class _Upload(io.BytesIO):
    """Buffered in memory, written as one object when closed (metadata and manifests are small)."""

    def __init__(self, target: _Output) -> None:
        super().__init__()
        self.target = target

    def close(self) -> None:
        if not self.closed:
            bucket, key = _split(self.target.location)
            extra: dict[str, Any] = {}
            if self.target.kms_key_id:
                extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self.target.kms_key_id}
            self.target.client.put_object(Bucket=bucket, Key=key, Body=self.getvalue(), **extra)
        super().close()


class BotoGlueCatalog(GlueCatalog):
    """The Glue catalog, with table files read and written through :class:`S3FileIO`."""

    def __init__(self, name: str, glue: Any, s3: S3Client, kms_key_id: str = "") -> None:
        super().__init__(name, client=glue)
        self.file_io = S3FileIO(s3, kms_key_id)

    def _load_file_io(self, properties: Properties = EMPTY_DICT, location: str | None = None) -> FileIO:
        return self.file_io
