"""Java and one local Spark session for the Spark engine's tests.

The test setup installs Debian's Java 17 runtime when it is missing (CI runs as root), as
``system_packages.require`` does for chromium; where it cannot, the tests fail under CI and are
skipped elsewhere. One session per test process: local[2] (two task slots, each task may fail
once and be retried), few shuffle partitions, no UI.
"""

from __future__ import annotations

import os
import sys

from system_packages import require


def find_java() -> str:
    return require("java", "openjdk-17-jre-headless")


def local_spark():  # -> SparkSession (pyspark imported here: only the Spark tests need it)
    find_java()
    from pyspark.sql import SparkSession

    from vitalflow.validate.spark_engine import LOCAL_JAVA_OPTIONS, SPARK_CONF

    os.environ["PYSPARK_PYTHON"] = sys.executable  # the workers import vitalflow from this venv
    # Spark's Python workers keep the environment they start with: the AWS tests' fake credentials
    # (each test sets its own endpoint, which the tasks get from the driver's clients).
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")):
        os.environ.setdefault(name, value)

    # 2 slots; a task is tried twice (spark.task.maxFailures)
    return (
        SparkSession.builder.master("local[2,2]")
        .config(map=SPARK_CONF)  # the engine's own (its Python worker daemon)
        .appName("vitalflow-tests")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.default.parallelism", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "1g")
        .config("spark.driver.extraJavaOptions", LOCAL_JAVA_OPTIONS)  # as the CLI's sessions
        .getOrCreate()
    )
