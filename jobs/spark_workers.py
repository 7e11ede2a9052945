"""Spark's Python worker daemon on a Glue executor: the job's libraries first, then vitalflow's daemon.

A Glue executor has Glue's Python packages, not the job's: vitalflow and its pinned libraries are
in the artefact zip the driver unpacks (``validate_batch.bring_libraries``). Spark starts one
daemon per executor and forks every Python worker from it, so this module, shipped to every node
with ``--extra-py-files`` and chosen with ``spark.python.daemon.module``, unpacks the same zip
(named in ``VITALFLOW_ARTIFACT``, which ``validate_spark.py`` sets through ``spark.executorEnv``)
once per host, puts it first on ``sys.path`` and runs ``vitalflow.validate.spark_daemon``: the
workers fork with vitalflow imported. Standard library only until then; nothing may be printed
(the daemon tells Spark its port on standard output).
"""

from __future__ import annotations

import os
import runpy

from validate_batch import bring_libraries


def start() -> None:
    artifact = os.environ.get("VITALFLOW_ARTIFACT", "")
    if artifact:
        bring_libraries(artifact, os.environ.get("VITALFLOW_REGION") or "us-east-1")
    runpy.run_module("vitalflow.validate.spark_daemon", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    start()
