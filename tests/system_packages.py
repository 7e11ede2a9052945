"""Debian packages some tests need (chromium, a Java runtime): installed by the test setup when missing.

CI runs as root on Debian, so a missing package is installed with apt-get; where it cannot be, the
tests that need it fail under CI (``CI`` is set) and are skipped elsewhere.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest


def require(binary: str, package: str) -> str:
    """The path of ``binary``, installing Debian's ``package`` first if it is missing."""
    found = shutil.which(binary)
    if not found and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, timeout=600)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", package], env=env, capture_output=True, timeout=900
        )
        found = shutil.which(binary)
    if not found:
        if os.environ.get("CI"):
            pytest.fail(f"{binary} is required in CI and could not be installed with apt-get")
        pytest.skip(f"{binary} is not installed (apt-get install {package})")
    return found
