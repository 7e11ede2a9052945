"""Headless Chromium for the tests that look at pages as a reader's browser shows them.

The test setup installs Debian's chromium when it is missing (CI runs as root). Where it cannot be
installed the tests fail under CI and are skipped elsewhere.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def find_chromium() -> str:
    """The chromium binary, installed with apt-get if missing and possible; skips (fails in CI) if not."""
    found = shutil.which("chromium")
    if not found and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, timeout=600)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "chromium"], env=env, capture_output=True, timeout=900
        )
        found = shutil.which("chromium")
    if not found:
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI and could not be installed with apt-get")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return found
