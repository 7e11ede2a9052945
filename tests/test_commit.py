"""The commit protocol (``validate/commit.py``): a batch's outputs become visible all at once.

Intent record first (every key this attempt and earlier ones may have written), then the files,
then the stale keys of an earlier attempt go, then the manifest (the commit point), then the
marker the views read, then the intent record goes.
"""

from __future__ import annotations

import json
from pathlib import Path

from factories import manifest
from vitalflow import lake
from vitalflow.local.object_store import LocalObjectStore
from vitalflow.validate.commit import intent_key, mark_committed, publish
from vitalflow.validate.writer import WrittenFile


class Recording(LocalObjectStore):
    """A local store that remembers the order of its writes and deletes."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.calls: list[str] = []

    def put_file(self, path: Path, key: str) -> None:
        self.calls.append(f"file {key}")
        super().put_file(path, key)

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None:
        self.calls.append(f"put {key}")
        super().put_bytes(key, data, content_type)

    def delete(self, keys: list[str]) -> None:
        self.calls.extend(f"delete {k}" for k in keys)
        super().delete(keys)


def written(tmp_path: Path, key: str) -> WrittenFile:
    path = tmp_path / "work" / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"PAR1")
    return WrittenFile(key=key, path=path, dt="2026-11-20", rows=1)


def test_files_then_manifest_then_marker(tmp_path: Path) -> None:
    store = Recording(tmp_path / "lake")
    m = manifest()
    files = [written(tmp_path, lake.data_key("processed", "2026-11-20", m.batch_id))]
    publish(store, m.batch_id, files, m)
    intent = intent_key(m.batch_id)
    assert store.calls == [
        f"put {intent}",
        f"file {files[0].key}",
        f"put {lake.manifest_key(m.batch_id)}",
        f"put {lake.commit_key(m.batch_id)}",
        f"delete {intent}",
    ]


def test_a_rerun_deletes_what_a_crashed_attempt_wrote_and_this_one_did_not(tmp_path: Path) -> None:
    store = Recording(tmp_path / "lake")
    m = manifest()
    stale = lake.data_key("processed", "2026-11-19", m.batch_id)
    store.put_bytes(stale, b"PAR1")
    store.put_bytes(intent_key(m.batch_id), json.dumps({"keys": [stale]}).encode())  # the crash's
    store.calls.clear()
    files = [written(tmp_path, lake.data_key("processed", "2026-11-20", m.batch_id))]
    publish(store, m.batch_id, files, m)
    assert f"delete {stale}" in store.calls
    assert store.calls.index(f"delete {stale}") < store.calls.index(f"put {lake.manifest_key(m.batch_id)}")
    assert not store.exists(stale) and store.exists(files[0].key)
    assert not store.exists(intent_key(m.batch_id))


def test_the_marker_is_written_once(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "lake")
    assert mark_committed(store, manifest()) is True
    assert mark_committed(store, manifest()) is False
