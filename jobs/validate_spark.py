"""Glue 5.0 Spark entry point (Python 3.11, Spark 3.5.4): validate one upload with the Spark engine.

The same adapter as the Python shell job (``validate_batch.py``, shipped beside this script with
``--extra-py-files``): its arguments, its libraries, ``vitalflow.glue_job.run``; only the engine
differs (``VITALFLOW_ENGINE=spark``, ``validate/spark_engine.py``), and the Spark session is Glue's,
started here before vitalflow looks for it, with the executors' Python workers started by
``spark_workers.py`` (also shipped with ``--extra-py-files``), which brings them the same libraries.
Split size: ``--VITALFLOW_SPLIT_BYTES`` (default 128 MiB).
"""

from __future__ import annotations

import sys
from typing import Any

from validate_batch import ARTIFACT, job_arguments, job_region, libraries, main


def spark_arguments(argv: list[str]) -> list[str]:
    """The job's command line with the Spark engine chosen, unless a run names an engine itself."""
    if "VITALFLOW_ENGINE" in job_arguments(argv):
        return argv
    return [*argv, "--VITALFLOW_ENGINE", "spark"]


def spark_conf(arguments: dict[str, str], base: dict[str, Any]) -> dict[str, Any]:
    """The session's settings: vitalflow's (``base``), and with the job's libraries named, the
    executors bring them too before their first worker (``spark_workers.py``)."""
    if not arguments.get(ARTIFACT):
        return dict(base)
    region = job_region(arguments)
    return {
        **base,
        "spark.python.daemon.module": "spark_workers",
        "spark.executorEnv.VITALFLOW_ARTIFACT": arguments[ARTIFACT],
        "spark.executorEnv.VITALFLOW_REGION": region,
    }


def run(argv: list[str]) -> int:
    arguments = job_arguments(argv)
    libraries(arguments)  # first: vitalflow's settings for the session come from it
    from pyspark.sql import SparkSession  # Glue's own pyspark, on the driver's path

    from vitalflow.validate.spark_engine import SPARK_CONF, start_workers

    conf = spark_conf(arguments, SPARK_CONF)
    spark = SparkSession.builder.appName("vitalflow-validate").config(map=conf).getOrCreate()
    start_workers(spark)  # the executors' imports, while the driver fetches and hashes the upload
    try:
        return main(spark_arguments(argv))
    finally:
        spark.stop()


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
