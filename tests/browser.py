"""Headless Chromium for the tests that look at pages as a reader's browser shows them.

The test setup installs Debian's chromium when it is missing (CI runs as root). Where it cannot be
installed the tests fail under CI and are skipped elsewhere.
"""

from __future__ import annotations

from system_packages import require

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
    return require("chromium", "chromium")
