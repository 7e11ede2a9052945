"""Glue 5.0 Spark entry point (Python 3.11, Spark 3.5.4): validate one upload with the Spark engine.

The same adapter as the Python shell job (``validate_batch.py``, shipped beside this script with
``--extra-py-files``): its arguments, its libraries, ``vitalflow.glue_job.run``; only the engine
differs (``VITALFLOW_ENGINE=spark``, ``validate/spark_engine.py``), and the Spark session is Glue's,
started here before vitalflow looks for it. Split size: ``--VITALFLOW_SPLIT_BYTES`` (default 128 MiB).
"""

from __future__ import annotations

import sys

from validate_batch import job_arguments, libraries, main


def spark_arguments(argv: list[str]) -> list[str]:
    """The job's command line with the Spark engine chosen, unless a run names an engine itself."""
    if "VITALFLOW_ENGINE" in job_arguments(argv):
        return argv
    return [*argv, "--VITALFLOW_ENGINE", "spark"]


def run(argv: list[str]) -> int:
    libraries(job_arguments(argv))  # first: the session's Python workers fork from vitalflow's daemon
    from pyspark.sql import SparkSession  # Glue's own pyspark, on the driver's path

    from vitalflow.validate.spark_engine import SPARK_CONF

    builder = SparkSession.builder.appName("vitalflow-validate")
    for key, value in SPARK_CONF.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    try:
        return main(spark_arguments(argv))
    finally:
        spark.stop()


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
