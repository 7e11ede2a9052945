"""Two validation jobs publishing at once never lose each other's index entries.

The race that loses an entry under last-writer-wins: job A lists the entries, job B publishes
completely, then A writes its (stale) page last. A gated store forces exactly that interleaving;
with a single page write (the old behaviour) B disappears from the pages, with write-and-verify it
stays. Free-running publishers on the local lake and on S3 (moto) must end with every entry listed.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import boto3
import pytest

from at_once import at_once
from docs_pages import T0, batch_ids_listed, publish
from vitalflow.aws.s3_store import S3ObjectStore
from vitalflow.datadocs import site
from vitalflow.local.object_store import LocalObjectStore


class GatedStore:
    """Delegates to a store, but holds the first write of ``gated`` until ``release`` is set."""

    def __init__(self, inner, gated: str) -> None:
        self.inner, self.gated = inner, gated
        self.reached, self.release = threading.Event(), threading.Event()

    def put_bytes(self, key, data, content_type=None):
        if key == self.gated and not self.reached.is_set():
            self.reached.set()
            assert self.release.wait(30)
        self.inner.put_bytes(key, data, content_type)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def race(store, gated_key: str, result) -> None:
    """A renders its page, B publishes in full, then A's stale write lands last."""
    gate = GatedStore(store, gated_key)
    with ThreadPoolExecutor(1) as pool:
        job_a = pool.submit(publish, gate, result, "00000000000000aa", T0)
        assert gate.reached.wait(30)
        publish(store, result, "00000000000000bb", T0 + timedelta(seconds=1))
        gate.release.set()
        job_a.result(30)


@pytest.mark.parametrize("gated_key", ["docs/index.html", "docs/days/2026-11/2026-11-20.html"])
def test_a_stale_page_write_does_not_lose_an_entry(tmp_path, real_result, gated_key):
    store = LocalObjectStore(tmp_path / "lake")
    race(store, gated_key, real_result)
    for page in ("docs/index.html", "docs/days/2026-11/2026-11-20.html"):
        listed = batch_ids_listed(store.get_bytes(page).decode())
        assert listed == ["00000000000000bb", "00000000000000aa"], page


def test_the_race_loses_an_entry_with_a_single_write(tmp_path, real_result, monkeypatch):
    """The gate does reproduce last-writer-wins: without the verify step B is lost."""
    monkeypatch.setattr(site, "MAX_PAGE_WRITES", 1)
    store = LocalObjectStore(tmp_path / "lake")
    race(store, "docs/index.html", real_result)
    assert batch_ids_listed(store.get_bytes("docs/index.html").decode()) == ["00000000000000aa"]


def free_running(store, result, jobs: int, batches: int) -> list[str]:
    def job(j: int) -> list[str]:
        ids = []
        for i in range(batches):
            batch_id = f"{j:08x}{i:08x}"
            publish(store, result, batch_id, T0 + timedelta(minutes=i, seconds=j))
            ids.append(batch_id)
        return ids

    return [b for ids in at_once(job, jobs) for b in ids]


def test_two_publishers_on_the_local_lake(tmp_path, real_result):
    store = LocalObjectStore(tmp_path / "lake")
    published = free_running(store, real_result, jobs=2, batches=12)
    assert sorted(batch_ids_listed(store.get_bytes("docs/index.html").decode())) == sorted(published)
    assert sorted(batch_ids_listed(store.get_bytes("docs/days/2026-11/2026-11-20.html").decode())) == sorted(
        published
    )


def test_two_publishers_on_s3(real_result, aws_credentials):
    """Against moto's server over real HTTP: in-process mocking is not safe for concurrent requests."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        session = boto3.session.Session(region_name="eu-west-1")
        client = session.client("s3", endpoint_url=endpoint)
        client.create_bucket(Bucket="docs", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        store = S3ObjectStore("docs", boto3_session=session)
        store.client = client
        published = free_running(store, real_result, jobs=2, batches=6)
        index = store.get_bytes("docs/index.html").decode()
        assert sorted(batch_ids_listed(index)) == sorted(published)
        head = client.head_object(Bucket="docs", Key="docs/index.html")
        assert head["ContentType"] == "text/html; charset=utf-8"
    finally:
        server.stop()
