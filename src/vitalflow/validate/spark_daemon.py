"""The Python worker daemon of vitalflow's Spark jobs: PySpark's own, with vitalflow imported first.

Spark forks each Python worker from one daemon process. PySpark's daemon imports nothing but
PySpark, so each new worker spent 3 s importing Great Expectations and pandas before its first split.
Imported here once, before the daemon forks, every worker starts with them (copy-on-write). The
imported objects are then frozen out of the garbage collector: the daemon's workers collect after
every task, and walking GE's 300,000 objects cost 0.14 s a task. Chosen with Spark's
``spark.python.daemon.module`` (``spark_engine.SPARK_CONF``).
"""

import gc

from pyspark import daemon

import vitalflow.validate.split_batch  # noqa: F401 (imports GE, pandas and pyarrow for every fork)

if __name__ == "__main__":
    gc.freeze()  # after the imports, before the first fork (the use the gc docs give for it)
    daemon.manager()
