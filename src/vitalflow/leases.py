"""Doing a step once per key, across processes that may be killed at any point: lease, work, record.

The claim is a lease until the work's id is recorded, so a kill between claim and work means the
next attempt does the work (at least once); a kill between the work and its record is the one
window in which it can happen twice. Work that raises releases the lease, so a retry can take it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from vitalflow.exceptions import VitalflowError
from vitalflow.ports import Leases

log = logging.getLogger(__name__)


def run_once(
    leases: Leases, key: str, step: str, seconds: int, work: Callable[[], str], busy: VitalflowError
) -> str | None:
    """``work()``'s id; None when the step was done before. Raises ``busy`` while another holds the lease."""
    holder = leases.lease(key, step, seconds)
    if holder:
        log.info("%s: %s was done already (%s)", key, step, holder)
        return None
    if holder is not None:
        raise busy
    try:
        done = work()
    except BaseException:
        leases.release(key, step)
        raise
    leases.record_run(key, step, done or "done")
    return done
