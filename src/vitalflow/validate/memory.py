"""A memory budget for the validation job: fail with a message before the kernel kills the process.

Glue's Python shell job has 1 GB (1/16 DPU). An out-of-memory kill leaves a run that "failed"
with no word on why; checking the process's resident size after each chunk turns that into a
failed batch whose message says what to change. The budget is ``VITALFLOW_MEMORY_LIMIT_MB`` or,
when unset, the container's cgroup limit (none on an ordinary machine: no check).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

from vitalflow.exceptions import OutOfMemoryBudget

SHARE = 0.92  # leave the rest for the commit and the Data Docs page
_CGROUP_FILES = ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")


def budget_mb(configured: int) -> int:
    """The limit to check against, in MB; 0 when there is none."""
    if configured > 0:
        return configured
    for name in _CGROUP_FILES:
        try:
            text = Path(name).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < (1 << 50):  # "max" or a huge number: unlimited
            return int(text) >> 20
    return 0


def resident_mb() -> int:
    """This process's resident set size now (Linux; 0 where /proc is missing)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE") >> 20


@functools.lru_cache(maxsize=1)
def _libc() -> Any:
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim  # noqa: B018  (glibc only)
        return libc
    except (OSError, AttributeError):
        return None


def release_free_memory() -> None:
    """Give the heap's free pages back to the system (glibc ``malloc_trim``; nothing elsewhere).

    A chunk's work frees hundreds of MB in pieces that glibc keeps for reuse, scattered over
    the heap; resident memory then sits well above what is in use, and the next chunk's peak
    comes on top of it.
    """
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


# What to change when the single process outgrows its budget; the Spark engine's tasks say theirs.
SINGLE_PROCESS_ADVICE = "or run large files on the glueetl job type (glue_job_type in Terraform)"


class MemoryGuard:
    def __init__(self, limit_mb: int, chunk_rows: int, advice: str = SINGLE_PROCESS_ADVICE) -> None:
        self.limit_mb = budget_mb(limit_mb)
        self.chunk_rows = chunk_rows
        self.advice = advice

    def check(self, rows_done: int) -> None:
        """Raise OutOfMemoryBudget when this process outgrows the budget."""
        used = resident_mb() if self.limit_mb else 0
        if used > SHARE * self.limit_mb:
            raise OutOfMemoryBudget(
                f"the validation job used {used} MB of its {self.limit_mb} MB after {rows_done:,} rows and "
                f"stopped before running out; nothing was committed. Lower VITALFLOW_CHUNK_ROWS (now "
                f"{self.chunk_rows:,}), {self.advice}."
            )
