"""An OS file lock between local processes: the kernel releases it when its holder dies, so a
crashed process never blocks the next one."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def exclusive(path: Path) -> Iterator[None]:
    """Held by one process at a time. Each call opens the file anew, so a process that holds it
    and asks again waits on itself: nest only distinct files."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
