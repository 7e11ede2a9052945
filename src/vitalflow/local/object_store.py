"""The lake as a folder on disk."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO

from vitalflow.exceptions import ObjectNotFound


class LocalObjectStore:
    """Keys map to paths below ``root``; writes go through a temp file and ``os.replace``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if path != self.root and self.root not in path.parents:
            raise ValueError(f"key escapes the lake: {key!r}")
        return path

    def uri(self, key: str) -> str:
        return str(self.path(key))

    def local_copy(self, key: str, version_id: str | None = None) -> AbstractContextManager[Path]:
        return nullcontext(self._file(key))

    def open(self, key: str, version_id: str | None = None) -> AbstractContextManager[BinaryIO]:
        return self._file(key).open("rb")

    def _file(self, key: str) -> Path:
        path = self.path(key)
        if not path.is_file():
            raise ObjectNotFound(f"no such file in the lake: {path}")
        return path

    def local_range(
        self, key: str, version_id: str | None, start: int, stop: int
    ) -> AbstractContextManager[Path]:
        return self.local_copy(key, version_id)  # the lake's own file: every byte at its offset

    def modified_at(self, key: str, version_id: str | None = None) -> datetime | None:
        try:
            return datetime.fromtimestamp(self.path(key).stat().st_mtime, timezone.utc)
        except FileNotFoundError:
            return None

    def put_file(self, path: Path, key: str) -> None:
        dest = self.path(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-")
        os.close(fd)
        try:
            shutil.copyfile(path, tmp)
            os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def copy(self, source: str, key: str) -> None:
        path = self.path(source)
        if not path.is_file():
            raise ObjectNotFound(f"no such file in the lake: {path}")
        self.put_file(path, key)

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None:
        dest = self.path(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get_bytes(self, key: str) -> bytes:
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError:
            raise ObjectNotFound(f"no such file in the lake: {self.path(key)}") from None

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def list_keys(self, prefix: str) -> Iterator[str]:
        base = self.path(prefix.rstrip("/")) if prefix.rstrip("/") else self.root
        if base.is_file():
            yield prefix
            return
        if not base.is_dir():
            return
        for dirpath, _dirs, files in os.walk(base):
            for name in sorted(files):
                if name.startswith(".tmp-"):
                    continue
                yield Path(dirpath, name).relative_to(self.root).as_posix()

    def delete(self, keys: list[str]) -> None:
        for key in keys:
            self.path(key).unlink(missing_ok=True)

    def purge_versions(self, key: str, holds: Callable[[bytes], bool]) -> int:
        return 0  # a folder keeps no older versions
