"""Calls started together from threads: how the tests meet races between processes in one run."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


def at_once(call: Callable[[int], T], callers: int) -> list[T]:
    """``call(0)`` to ``call(callers - 1)``, each from its own thread, all released by one barrier so
    they overlap; their answers in order. The first caller's error is raised here."""
    start = threading.Barrier(callers)

    def released(n: int) -> T:
        start.wait()
        return call(n)

    with ThreadPoolExecutor(callers) as pool:
        return list(pool.map(released, range(callers)))
