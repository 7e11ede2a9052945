"""``vitalflow serve`` as a user starts it: a real process on a free loopback port, stopped after the test."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Server:
    base: str  # http://host:port
    banner: str  # the line `vitalflow serve` printed (the address to open)
    pid: int


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(
    home: Path, *extra: str, host: str = "127.0.0.1", connect: str = "127.0.0.1", port: int = 0
) -> Iterator[Server]:
    """The running server (``extra``: more ``serve`` options; ``connect``: the address to reach it on;
    ``port``: a given one, e.g. to restart on the same address)."""
    port = port or free_port()
    command = [sys.executable, "-m", "vitalflow.cli", "--home", str(home), "serve"]
    process = subprocess.Popen(
        [*command, "--host", host, "--port", str(port), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://{connect}:{port}"
    try:
        assert process.stdout is not None
        banner = process.stdout.readline().strip()
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/dashboard-config.json", timeout=2)
                break
            except urllib.error.HTTPError:
                break  # up, and asking for a token
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    output = process.stdout.read() if process.stdout else ""
                    raise RuntimeError(f"vitalflow serve did not start: {output}") from None
                time.sleep(0.1)
        yield Server(base, banner, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
