"""Java and one local Spark session for the Spark engine's tests.

The test setup installs Debian's Java 17 runtime when it is missing (CI runs as root), as
``browser.find_chromium`` does for chromium; where it cannot, the tests fail under CI and are
skipped elsewhere. One session per test process: local[2] (two task slots, each task may fail
once and be retried), few shuffle partitions, no UI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest


def find_java() -> str:
    """The java binary, installed with apt-get if missing and possible; skips (fails in CI) if not."""
    found = shutil.which("java")
    if not found and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, timeout=600)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "openjdk-17-jre-headless"],
            env=env,
            capture_output=True,
            timeout=900,
        )
        found = shutil.which("java")
    if not found:
        if os.environ.get("CI"):
            pytest.fail("Java is required in CI and could not be installed with apt-get")
        pytest.skip("Java is not installed (apt-get install openjdk-17-jre-headless)")
    return found


def local_spark():  # -> SparkSession (pyspark imported here: only the Spark tests need it)
    find_java()
    from pyspark.sql import SparkSession

    os.environ["PYSPARK_PYTHON"] = sys.executable  # the workers import vitalflow from this venv

    return (
        SparkSession.builder.master("local[2,2]")  # 2 slots; a task is tried twice (spark.task.maxFailures)
        .appName("vitalflow-tests")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.default.parallelism", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "1g")
        .config("spark.python.worker.reuse", "true")
        .getOrCreate()
    )
