"""Iceberg's file access on S3 (``aws/iceberg_io.py``): a Parquet file is read by byte ranges.

The Python shell job has 1 GB; a month's file of a busy fleet may be hundreds of MB. Reading one
column of one row group must fetch that much, not the whole object.
"""

from __future__ import annotations

import boto3
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from moto import mock_aws

from vitalflow.aws.iceberg_io import S3FileIO


class Counting:
    """The S3 client, counting the bytes its object reads return."""

    def __init__(self, client) -> None:
        self.client, self.fetched, self.requests = client, 0, 0

    def get_object(self, **kwargs):
        reply = self.client.get_object(**kwargs)
        body = reply["Body"].read()
        self.fetched += len(body)
        self.requests += 1
        reply["Body"] = _Body(body)
        return reply

    def __getattr__(self, name):
        return getattr(self.client, name)


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self) -> bytes:
        return self.data


@pytest.fixture
def s3(monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "t",
        "AWS_SECRET_ACCESS_KEY": "t",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("s3")
        client.create_bucket(Bucket="lake", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        yield client


def test_a_parquet_file_is_read_by_ranges_not_whole(s3, tmp_path):
    rng = np.random.default_rng(1)
    table = pa.table({f"c{i}": rng.random(200_000) for i in range(4)})  # incompressible: ~6 MB
    pq.write_table(table, tmp_path / "f.parquet", row_group_size=100_000, compression="zstd")
    s3.upload_file(str(tmp_path / "f.parquet"), "lake", "processed/f.parquet")
    size = (tmp_path / "f.parquet").stat().st_size
    counting = Counting(s3)
    with S3FileIO(counting).new_input("s3://lake/processed/f.parquet").open() as handle:
        piece = pq.ParquetFile(handle).read_row_group(1, columns=["c2"])
    assert piece.column("c2").to_pylist() == table.column("c2").to_pylist()[100_000:]
    assert counting.fetched < size / 4, (
        counting.fetched,
        size,
    )  # one column of one row group, and the footer
    with S3FileIO(counting).new_input("s3://lake/processed/f.parquet").open() as handle:
        assert handle.read() == (tmp_path / "f.parquet").read_bytes()  # a whole read: the same bytes


def test_a_missing_file_is_file_not_found(s3):
    with pytest.raises(FileNotFoundError):
        S3FileIO(s3).new_input("s3://lake/processed/gone.parquet").open()
    with pytest.raises(FileNotFoundError):
        S3FileIO(s3).new_input("s3://lake/processed/metadata/gone.json").open()
