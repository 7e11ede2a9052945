"""The Spark engine against the single-process engine: the same processed and rejected rows (every
column but the run's own ``ingested_at``, lines, raw text, reasons) and the same manifest counts, on
hostile files split into byte ranges of a few hundred bytes to 1 MiB; and a task that dies after
writing its files is retried without doubling a row.

One local Spark session (local[2], tasks tried twice) serves the whole module.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import subprocess
import sys
import urllib.request
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import boto3
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto.server import ThreadedMotoServer

from aws_stack import DATA, create_stack, stack_settings
from conftest import REPO, outputs
from spark_setup import local_spark
from test_record_parser import HEADER, NAUGHTY, SPECTRUM, WIDTH, messy_file
from test_row_exactness import _missing_column, edited_suite
from vitalflow import stages
from vitalflow.aws.runtime import aws_runtime
from vitalflow.aws.s3_store import S3ObjectStore
from vitalflow.config import Settings
from vitalflow.exceptions import SuiteError
from vitalflow.generate import GeneratorOptions, generate
from vitalflow.models import SourceRef
from vitalflow.pipeline import ingest
from vitalflow.runtime import local_runtime
from vitalflow.validate.spark_engine import SparkBatch, partition_values, spark_hash

RECEIVED = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
COUNTS = ("status", "error", "rows_in", "rows_processed", "rows_rejected", "rows_replaced")
COUNTS += ("rejected_by_reason", "blank_lines", "partitions", "extra_columns")


@pytest.fixture(scope="module")
def spark():
    return local_spark()


def validate(
    home: Path,
    path: Path,
    engine: str,
    split_bytes: int = 1 << 20,
    chunk_rows: int = 1000,
    suite: Path | None = None,
):
    """One batch through ``stages.validate`` (the CLI's and the job's path): manifest, rows out."""
    runtime = local_runtime(
        Settings(home=home, chunk_rows=chunk_rows, engine=engine, split_bytes=split_bytes, suite_path=suite)
    )
    ref = ingest(runtime, path).model_copy(update={"received_at": RECEIVED})
    manifest = stages.validate(runtime, ref).manifest
    if manifest.status != "processed":
        return manifest, [], []
    processed, rejected = outputs(runtime, manifest.batch_id)
    return manifest, rows(processed), rows(rejected)


def rows(found: list[dict]) -> list[dict]:
    """Rows by line, without the run's own time (the only column two runs cannot share)."""
    for one in found:
        assert one.pop("ingested_at") is not None
    return sorted(found, key=lambda r: (r["source_line"], json.dumps(r, default=str)))


def assert_same(
    tmp_path: Path, path: Path, sizes: list[int], chunk_rows: int = 1000, suite: Path | None = None
) -> dict:
    local, processed, rejected = validate(
        tmp_path / "local", path, "local", chunk_rows=chunk_rows, suite=suite
    )
    for size in sizes:
        got, got_processed, got_rejected = validate(
            tmp_path / f"spark-{size}", path, "spark", size, chunk_rows, suite
        )
        for name in COUNTS:
            assert getattr(got, name) == getattr(local, name), f"{name}, splits of {size} B"
        assert got_processed == processed, f"processed rows, splits of {size} B"
        assert got_rejected == rejected, f"rejected rows, splits of {size} B"
    return local.rejected_by_reason


def vitals_file(tmp_path: Path, body: str, name: str) -> Path:
    path = tmp_path / name
    path.write_bytes(body.encode("utf-8"))
    return path


def good(i: int, user: str | None = None, minute: int | None = None, hr: int = 72) -> list[str]:
    m = i if minute is None else minute
    stamp = f"2026-11-{20 + (m // 1440) % 5:02d}T{(m // 60) % 24:02d}:{m % 60:02d}:00Z"
    return [stamp, user or f"u-{i % 37}", str(hr), "98", "100", "36.6", "120", "80"]


def corpora_text() -> str:
    """csv-spectrum cases as vitals rows and raw, naughty strings as user ids and raw lines."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER.split(","))
    for case in sorted(SPECTRUM.glob("*.csv")) if SPECTRUM.exists() else []:
        body = case.read_text(encoding="utf-8")
        for row in csv.reader(io.StringIO(body, newline="")):
            writer.writerow((row + [""] * WIDTH)[:WIDTH])
        out.write(body if body.endswith(("\n", "\r")) else body + "\n")
    for i, value in enumerate(NAUGHTY):
        writer.writerow(good(i, user=value))
        out.write(f'{value},"{value}",x{value}"\r\n')
    return out.getvalue()


def test_hostile_corpora_give_the_same_rows_and_counts(tmp_path, spark):
    path = vitals_file(tmp_path, corpora_text(), "corpora.csv")
    size = path.stat().st_size // 3 + 1  # three splits: each task costs its own GE runs
    reasons = assert_same(tmp_path, path, [size])
    assert reasons.get("row:malformed") and reasons.get("user_id:missing"), reasons


@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(messy_file(), min_size=8, max_size=8))
def test_the_record_parsers_generated_files_give_the_same_rows(tmp_path_factory, spark, texts):
    """Eight generated files' bodies in one file (after the first, each without its header)."""
    bodies = [texts[0]] + [t.split("\n", 1)[-1] if "\n" in t else "" for t in texts[1:]]
    tmp = tmp_path_factory.mktemp("generated")
    path = vitals_file(tmp, "\n".join(bodies), "generated.csv")
    assert_same(tmp, path, [max(256, path.stat().st_size // 2)])


def duplicates_text(n: int) -> str:
    """Readings with twins far apart (other splits): exact copies, other values, the same instant
    with another offset, and twins whose first copy is invalid (the later valid one then wins)."""
    rng = np.random.default_rng(7)
    lines = [HEADER]
    for i in range(n):
        lines.append(",".join(good(i, minute=int(i * 7))))
    for j in rng.choice(n, size=n // 20, replace=False).tolist():
        twin = good(j, minute=int(j * 7))
        kind = j % 4
        if kind == 1:
            twin[2] = "75"  # same key, other values: still a duplicate (the first valid wins)
        elif kind == 2:
            stamp = datetime.fromisoformat(twin[0].replace("Z", "+00:00"))
            twin[0] = stamp.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")
        elif kind == 3:
            lines[1 + j] = lines[1 + j].replace(",72,", ",999,")  # the first is invalid: the twin wins
        lines.insert(int(rng.integers(1, len(lines) + 1)), ",".join(twin))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("keep", [True, False], ids=["kept", "judged-again"])
def test_duplicates_whose_twin_is_in_another_split(tmp_path, spark, monkeypatch, keep):
    """Both ways a finishing task gets its split's judged rows: kept on disk by the first task, or
    judged again (the first task ran on another machine)."""
    monkeypatch.setattr(SparkBatch, "keep_judged", keep)
    path = vitals_file(tmp_path, duplicates_text(4000), "dups.csv")
    reasons = assert_same(tmp_path, path, [path.stat().st_size // 3 + 1], chunk_rows=700)
    assert reasons["row:duplicate"] > 100 and reasons["heart_rate:out_of_range"] > 20, reasons


def _final_rule_on_spo2(expectations: list[dict]) -> None:
    expectations.append(
        {
            "type": "expect_column_values_to_not_be_in_set",  # the trimmed text: no processed column
            "kwargs": {"column": "spo2", "value_set": ["91"]},
            "meta": {"reason": "spo2:low_after_checks", "phase": "after_row_checks"},
        }
    )


def test_an_after_row_checks_rule_reads_the_columns_it_names(tmp_path, spark):
    """A suite's after-row-checks rules may read any column: the judged chunks kept for a split's
    finishing task keep the columns they read, not only those the processed table needs."""
    suite = edited_suite(tmp_path, _final_rule_on_spo2)
    body = duplicates_text(600) + "".join(
        ",".join(good(i, minute=90_000 + i)).replace(",98,", ",91,") + "\n" for i in range(50)
    )
    path = vitals_file(tmp_path, body, "final.csv")
    reasons = assert_same(tmp_path, path, [path.stat().st_size // 4 + 1], chunk_rows=300, suite=suite)
    assert reasons["spo2:low_after_checks"] == 50 and reasons["row:duplicate"] > 10, reasons


def test_row_exactness_cases(tmp_path, spark):
    """CRLF straddling splits, a quoted line break straddling a split, a BOM, blank and bad records."""
    body = [",".join(good(i)) for i in range(14)]
    body.insert(5, '2026-11-20T08:00:00Z,"u-x",72,98,1,36.6,"118\r\n",76')
    body.insert(9, '2026-11-20T08:00:00Z,u-y,7"2,98,1,36.6,118,76')
    body.insert(12, "2026-11-20T08:00:00Z,u-z,72")
    body.insert(14, "   ")
    body.insert(20, '2026-11-20T08:00:00Z,u-1,72,98,1,36.6,118,"76')  # never closed: to the end
    data = b"\xef\xbb\xbf" + "\r\n".join([HEADER, *body]).encode()
    path = tmp_path / "bom.csv"
    path.write_bytes(data)
    start = data.index(b"\r\n") + 2
    crlf = data.index(b"\r\n", start + 200) + 1  # a range ends between a CR and its LF
    quoted = data.index(b'118\r\n"') + 4  # ... or between the CR and LF inside a quoted field
    for size in (crlf - start, quoted - start):
        assert (path.stat().st_size - start) // size >= 2
        assert_same(tmp_path / str(size), path, [size])


def test_readings_already_in_the_lake(tmp_path, spark):
    """row:already_loaded and row:conflicts_with_loaded against the lake's stored readings."""
    first = vitals_file(
        tmp_path, "\n".join([HEADER] + [",".join(good(i)) for i in range(300)]) + "\n", "a.csv"
    )
    again = [",".join(good(i, hr=72 if i % 2 else 80)) for i in range(150, 450)]
    second = vitals_file(tmp_path, "\n".join([HEADER, *again]) + "\n", "b.csv")
    results = {}
    for engine in ("local", "spark"):
        validate(tmp_path / engine, first, "local")
        results[engine] = validate(tmp_path / engine, second, engine, 8192)
    (local, *local_rows), (spark_manifest, *spark_rows) = results["local"], results["spark"]
    assert (
        local.rejected_by_reason["row:already_loaded"]
        and local.rejected_by_reason["row:conflicts_with_loaded"]
    )
    assert [getattr(spark_manifest, n) for n in COUNTS] == [getattr(local, n) for n in COUNTS]
    assert spark_rows == local_rows


def test_a_header_only_file_fails_alike(tmp_path, spark):
    path = vitals_file(tmp_path, HEADER + "\r\n", "empty.csv")
    local, _, _ = validate(tmp_path / "local", path, "local")
    got, _, _ = validate(tmp_path / "spark", path, "spark", 8)
    assert (got.status, got.error) == (local.status, local.error) == ("failed", got.error)


def test_the_cli_runs_spark_and_shows_only_its_own_output(tmp_path, spark):
    """``vitalflow run --engine spark`` starts its own local Spark: the same counts, and on the
    terminal vitalflow's lines only (no Spark start-up notices, progress bars or PySpark warnings)."""
    path = generate(GeneratorOptions(rows=3000, seed=5, invalid_rate=0.2), tmp_path / "vitals.csv")
    local, _, _ = validate(tmp_path / "local", path, "local", chunk_rows=150_000)
    env = {**os.environ, "VITALFLOW_SPLIT_BYTES": "32768"}  # five splits
    env.pop("PYSPARK_SUBMIT_ARGS", None)
    command = [sys.executable, "-m", "vitalflow.cli", "--home", str(tmp_path / "cli"), "run", "--json"]
    command += ["--engine", "spark", str(path)]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    (report,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert report["status"] == "processed"
    counts = ("rows_in", "rows_processed", "rows_rejected")
    assert [report[k] for k in counts] == [getattr(local, k) for k in counts]
    assert result.stderr == ""


def fail_first_attempt(split) -> None:
    """Kills split 1's first attempt after it wrote its files, before it reports to the driver."""
    from pyspark import TaskContext

    context = TaskContext.get()
    if split.index == 1 and context is not None and context.attemptNumber() == 0:
        (MARKS / f"failed-{split.index}").write_text(str(context.taskAttemptId()))
        raise RuntimeError("killed on purpose (first attempt)")


MARKS = Path()


def test_partition_values_follow_sparks_hash(spark):
    """Split i is finished by task i: the driver's copy of Spark's hash must be Spark's."""
    from pyspark.sql import functions as F

    edges = [0, 1, -1, 42, -42, 2**31 - 1, -(2**31), 123_456_789]
    numbers = np.array(edges + list(np.random.default_rng(7).integers(-(2**31), 2**31, 500)), np.int32)
    frame = spark.createDataFrame([(int(v),) for v in numbers], "v int")
    hashed = [row["h"] for row in frame.select(F.hash("v").alias("h")).collect()]
    assert hashed == spark_hash(numbers).tolist()
    for n in (1, 3, 17, 130):
        values = partition_values(n)
        spread = spark.createDataFrame([(v,) for v in values], "v int").repartition(n, "v")
        placed = spread.select("v", F.spark_partition_id().alias("p")).collect()
        assert sorted((row["p"], row["v"]) for row in placed) == list(enumerate(values))


def test_a_task_killed_midway_is_retried_and_rows_stay_exactly_once(tmp_path, spark, monkeypatch):
    from pyspark import cloudpickle

    global MARKS
    MARKS = tmp_path
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    monkeypatch.setattr(SparkBatch, "before_finish", staticmethod(fail_first_attempt))
    path = vitals_file(tmp_path, duplicates_text(1500), "retry.csv")
    assert_same(tmp_path, path, [path.stat().st_size // 3 + 1])
    assert (tmp_path / "failed-1").exists(), "the first attempt of split 1 did not run"


def validation_json(home: Path, batch_id: str) -> dict:
    """The GE result Data Docs renders for the batch, without what depends on chunk boundaries
    (value counts over each chunk's sample of failing values) or on the run (times, ids)."""
    (found,) = (home / "gx" / "validations").rglob(f"{batch_id}.json")
    result = json.loads(found.read_text())
    for one in result["results"]:
        one["result"].pop("partial_unexpected_counts", None)
        # GE's name for the in-memory data source: numbered by the suites a process loaded before
        one["expectation_config"]["kwargs"].pop("batch_id", None)
    return {k: v for k, v in result.items() if k not in ("meta", "batch_id")}


def test_the_data_docs_result_is_the_same(tmp_path, spark):
    """Every expectation's counts, success, first failing lines and values, and the statistics."""
    path = vitals_file(tmp_path, duplicates_text(3000) + corpora_text().split("\n", 1)[1], "docs.csv")
    local, _, _ = validate(tmp_path / "local", path, "local", chunk_rows=700)
    got, _, _ = validate(tmp_path / "spark", path, "spark", path.stat().st_size // 3 + 1, 700)
    expected = validation_json(tmp_path / "local", local.batch_id)
    found = validation_json(tmp_path / "spark", got.batch_id)
    assert any(r["result"].get("unexpected_count") for r in expected["results"])
    for mine, theirs in zip(found.pop("results"), expected.pop("results"), strict=True):
        rule = (theirs["expectation_config"]["type"], theirs["expectation_config"]["kwargs"])
        assert mine == theirs, rule
    assert found == expected


def test_errors_in_tasks_end_the_batch_as_the_single_process_does(tmp_path, spark):
    """A record past the reader's limit fails the batch with the same message; the memory budget
    fails it naming the Spark engine's setting; nothing is committed either way."""
    body = [",".join(good(i)) for i in range(50)]
    body.insert(30, '2026-11-20T08:00:00Z,"u-x' + "x" * (17 << 20))  # a quote never closed, 17 MiB
    path = vitals_file(tmp_path, "\n".join([HEADER, *body]) + "\n", "long.csv")
    local, _, _ = validate(tmp_path / "local", path, "local")
    got, _, _ = validate(tmp_path / "spark", path, "spark", 4 << 20)
    assert "longer than 16 MiB" in local.error
    assert (got.status, got.error) == ("failed", local.error)

    small = vitals_file(tmp_path, duplicates_text(400), "small.csv")
    runtime = local_runtime(Settings(home=tmp_path / "budget", engine="spark", memory_limit_mb=1))
    manifest = stages.validate(runtime, ingest(runtime, small)).manifest
    assert manifest.status == "failed" and "VITALFLOW_SPLIT_BYTES" in manifest.error, manifest.error
    assert not [p for kind in ("processed", "rejected") for p in (tmp_path / "budget" / kind).rglob("*")]


def test_a_suite_that_cannot_be_evaluated_fails_alike(tmp_path, spark):
    suite = edited_suite(tmp_path, _missing_column)
    path = vitals_file(tmp_path, duplicates_text(200), "suite.csv")
    for engine in ("local", "spark"):
        runtime = local_runtime(Settings(home=tmp_path / engine, engine=engine, suite_path=suite))
        with pytest.raises(SuiteError, match="could not be evaluated"):
            stages.validate(runtime, ingest(runtime, path))


@pytest.fixture
def moto_server(monkeypatch):
    """AWS as moto serves it over HTTP: Spark's worker processes reach it as a task on a Glue
    executor reaches AWS (in-process mocks would not follow them)."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    for name, value in {
        "AWS_ENDPOINT_URL": f"http://{host}:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    yield
    # moto keeps its accounts' state per process, not per server: the next test starts from none
    urllib.request.urlopen(urllib.request.Request(f"http://{host}:{port}/moto-api/reset", method="POST"))
    server.stop()


def no_copy(*args, **kwargs):
    raise AssertionError("the Spark engine's driver copied the upload to its disk")


def test_on_aws_the_tasks_share_only_the_object_store(tmp_path, spark, moto_server, monkeypatch):
    """The AWS runtime: S3 and the Glue catalog on a moto server. Tasks read their byte ranges of the
    upload from S3 (a version of it) and put their files in S3's staging area; the driver streams the
    upload once to hash it, keeping no copy, and commits the files to the Iceberg tables. The same
    rows and counts as the single process on the same file."""
    monkeypatch.setattr(S3ObjectStore, "local_copy", no_copy)  # the driver's (tasks are other processes)
    path = vitals_file(tmp_path, duplicates_text(3000) + corpora_text().split("\n", 1)[1], "aws.csv")
    local, processed, rejected = validate(tmp_path / "local", path, "local", chunk_rows=700)
    create_stack()
    s3 = boto3.client("s3")
    version = s3.put_object(Bucket=DATA, Key="raw/clinic/aws.csv", Body=path.read_bytes())["VersionId"]
    s3.put_object(Bucket=DATA, Key="raw/clinic/aws.csv", Body=b"replaced since")  # tasks read the version
    settings = stack_settings(engine="spark", split_bytes=path.stat().st_size // 3 + 1, chunk_rows=700)
    runtime = aws_runtime(settings)
    ref = SourceRef(key="raw/clinic/aws.csv", version_id=version, received_at=RECEIVED)
    got = stages.validate(runtime, ref).manifest
    assert got.status == "processed", got.error
    assert (got.sha256, got.bytes) == (local.sha256, local.bytes)  # the version's, streamed
    for name in COUNTS:
        assert getattr(got, name) == getattr(local, name), name

    def stored(keys: list[str]) -> list[dict]:
        tables = [
            pq.read_table(pa.BufferReader(s3.get_object(Bucket=DATA, Key=k)["Body"].read())) for k in keys
        ]
        return rows(pa.concat_tables(tables).to_pylist())

    assert stored(got.processed_files) == processed
    assert stored(got.rejected_files) == rejected
    assert all("-s0000" in key for key in got.processed_files + got.rejected_files)  # the tasks' files
    assert not s3.list_objects_v2(Bucket=DATA, Prefix="_staging/").get("KeyCount")  # staged copies gone


def test_on_aws_a_file_that_fails_fails_alike_from_the_stream(tmp_path, spark, moto_server, monkeypatch):
    """A byte that is not UTF-8 past the scan's first block: the same failed manifest, line and all,
    as the single process gives, the driver reading the upload as a stream (twice: to name the line)."""
    monkeypatch.setattr(S3ObjectStore, "local_copy", no_copy)
    rows_text = "".join(",".join(good(i, f"u-{i % 50}")) + "\n" for i in range(180_000))
    path = tmp_path / "bad.csv"
    bad = b"2026-11-20T00:00:00Z,u-\xff,70,98,0,36.6,120,80\n"  # line 180,002
    path.write_bytes((HEADER + "\n" + rows_text).encode() + bad)
    assert path.stat().st_size > 8 << 20
    local, _, _ = validate(tmp_path / "local", path, "local")
    create_stack()
    boto3.client("s3").put_object(Bucket=DATA, Key="raw/clinic/bad.csv", Body=path.read_bytes())
    runtime = aws_runtime(stack_settings(engine="spark"))
    got = stages.validate(runtime, SourceRef(key="raw/clinic/bad.csv", received_at=RECEIVED)).manifest
    facts = ("status", "error", "sha256", "bytes")
    assert [getattr(got, k) for k in facts] == [getattr(local, k) for k in facts]
    assert "line 180002" in (got.error or "")


WORKERS = """
import sys
from pyspark.sql import SparkSession

spark = (
    SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false")
    .config("spark.python.daemon.module", "spark_workers")
    .config("spark.executorEnv.VITALFLOW_ARTIFACT", sys.argv[1]).getOrCreate()
)

def probe(batches):
    import sys, pyarrow as pa, vitalflow_probe
    for batch in batches:
        names = [pa.array([vitalflow_probe.__file__]), pa.array(["vitalflow.validate.suite" in sys.modules])]
        yield pa.RecordBatch.from_arrays(names, names=["probe", "vitalflow"])

row = spark.range(1).mapInArrow(probe, "probe string, vitalflow boolean").collect()[0]
print(row["probe"], row["vitalflow"])
"""


def test_executors_workers_bring_the_jobs_libraries(tmp_path, spark, moto_server):
    """jobs/spark_workers.py as a Glue executor runs it: Spark's worker daemon fetches the artefact
    named in the workers' environment from S3, unpacks it first on the path, and starts with
    vitalflow imported; a task then imports a module only the artefact holds."""
    libs = tmp_path / "libs.zip"
    with zipfile.ZipFile(libs, "w") as z:
        z.writestr("vitalflow_probe.py", "SHIPPED = True\n")
    boto3.client("s3").create_bucket(Bucket="vf-data")
    boto3.client("s3").upload_file(str(libs), "vf-data", "artifacts/glue-libs/libs.zip")
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO / "jobs"),
        "TMPDIR": str(tmp_path),
        "PYSPARK_PYTHON": sys.executable,
    }
    run = subprocess.run(
        [sys.executable, "-c", WORKERS, "s3://vf-data/artifacts/glue-libs/libs.zip"],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    probe, imported = run.stdout.split()[-2:]
    assert probe.startswith(str(tmp_path / "vitalflow-libs-")) and imported == "True"


def stored_table(home: Path, keys: list[str]) -> pa.Table:
    """A batch's rows as one table in line order, without the run's own ``ingested_at``."""
    tables = [pq.read_table(home / key, partitioning=None) for key in keys]
    return pa.concat_tables(tables).drop(["ingested_at"]).sort_by([("source_line", "ascending")])


def test_two_million_generated_rows_with_duplicates_across_the_file(tmp_path, spark):
    """A generated file of 2M rows (a third of them invalid, repeats spread over the whole file) in
    1 MiB splits: every processed and rejected row and every count as the single process gives them."""
    path = generate(GeneratorOptions(rows=2_000_000, seed=5, invalid_rate=0.3), tmp_path / "2m.csv")
    runs = {}
    for engine in ("local", "spark"):
        runtime = local_runtime(Settings(home=tmp_path / engine, engine=engine, split_bytes=1 << 20))
        ref = ingest(runtime, path).model_copy(update={"received_at": RECEIVED})
        runs[engine] = stages.validate(runtime, ref).manifest
    local, got = runs["local"], runs["spark"]
    assert local.rejected_by_reason["row:duplicate"] > 10_000 and path.stat().st_size > 100 << 20
    for name in COUNTS:
        assert getattr(got, name) == getattr(local, name), name
    for kind in ("processed_files", "rejected_files"):
        expected = stored_table(tmp_path / "local", getattr(local, kind))
        assert stored_table(tmp_path / "spark", getattr(got, kind)).equals(expected), kind
