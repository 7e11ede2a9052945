"""Run one file through the local pipeline and SIGKILL this process at a named step boundary.

Used by tests/test_crash_points.py: a kill -9 at a chosen point is deterministic, where a timed
kill only lands somewhere. Usage: python crash_at.py POINT LAKE FILE
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

from vitalflow.config import Settings
from vitalflow.pipeline import lake_lock, run_file
from vitalflow.runtime import local_runtime


def die_after(obj: Any, name: str, when: Any = lambda *a, **k: True, nth: int = 1) -> None:
    original = getattr(obj, name)
    seen = 0

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal seen
        result = original(*args, **kwargs)
        if when(*args, **kwargs):
            seen += 1
            if seen == nth:
                os.kill(os.getpid(), signal.SIGKILL)
        return result

    setattr(obj, name, wrapper)


def die_before(obj: Any, name: str, when: Any) -> None:
    original = getattr(obj, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if when(*args, **kwargs):
            os.kill(os.getpid(), signal.SIGKILL)
        return original(*args, **kwargs)

    setattr(obj, name, wrapper)


def main() -> None:
    point, home, source = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    runtime = local_runtime(Settings(home=home, chunk_rows=500))
    store, state = runtime.store, runtime.state
    points = {
        "uploaded": lambda: die_after(store, "put_file"),
        "first_file_published": lambda: die_after(store, "put_file", nth=2),
        "files_published": lambda: die_before(  # every data file in place, no manifest yet
            store, "put_bytes", lambda key, *a, **k: key.startswith("manifests/")
        ),
        "manifest_written": lambda: die_after(
            store, "put_bytes", lambda key, *a, **k: key.startswith("manifests/")
        ),
        "validated_announced": lambda: die_after(runtime.bus, "put"),
        "analysis_stored": lambda: die_after(runtime.results, "put"),
        "notify_claimed": lambda: die_after(state, "lease"),
        "email_sent": lambda: die_after(runtime.mailer, "send"),
        "send_recorded": lambda: die_after(state, "record_run"),
    }
    points[point]()
    with lake_lock(home):
        run_file(runtime, source)
    sys.exit(3)  # the kill point was never reached


if __name__ == "__main__":
    main()
