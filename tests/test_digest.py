"""The daily digest on the local lake (issue 22): ninety days of summaries for three sources give
exactly the expected findings, a three-day-old source is "learning", failed files and new reject
reasons are reported, and `vitalflow digest` sends one email per date, escaped, offline-safe."""

from __future__ import annotations

import email
import email.policy
import json
import shutil
from datetime import datetime, time, timedelta, timezone

import pyarrow as pa
import pytest

from digest_lake import DAY, ninety_days, summary, write
from vitalflow import stages
from vitalflow.cli import main
from vitalflow.config import Settings
from vitalflow.digest.monitors import evaluate
from vitalflow.local.object_store import LocalObjectStore
from vitalflow.local.query_engine import DuckDBEngine
from vitalflow.runtime import local_runtime


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    root = tmp_path_factory.mktemp("lake")
    ninety_days(root)
    return root


@pytest.fixture
def own_lake(lake, tmp_path):
    """A copy of the ninety days, for a test that adds to it (rows, emails)."""
    shutil.copytree(lake / "summaries", tmp_path / "summaries")
    return tmp_path


def findings(digest) -> list[tuple[str, str]]:
    return [(f.source, f.kind) for f in digest.findings]


def test_ninety_days_of_three_sources_give_exactly_the_expected_findings(lake):
    digest = evaluate(DuckDBEngine(LocalObjectStore(lake)), DAY)
    assert findings(digest) == [("climbing", "anomaly"), ("silent", "overdue")]
    by_name = {s.source: s for s in digest.sources}
    climbing = by_name["climbing"].check("reject_rate")
    assert climbing is not None and climbing.verdict == "anomaly"
    assert climbing.actual == pytest.approx(
        0.09, abs=0.002
    )  # reported as Glue DQ does: actual, expected, bounds
    assert climbing.expected == pytest.approx(0.01, abs=0.002) and climbing.history_days == 14
    assert climbing.lower < climbing.expected < climbing.upper < 0.02
    assert [c.metric for c in by_name["climbing"].checks if c.verdict == "anomaly"] == ["reject_rate"]
    assert all(c.verdict == "ok" for c in by_name["steady"].checks) and len(by_name["steady"].checks) == 7
    silent = by_name["silent"]
    assert silent.batches == 0 and silent.freshness is not None
    assert silent.freshness.last_batch_at.date() == DAY - timedelta(days=4)
    assert silent.freshness.typical_gap_hours == pytest.approx(6, abs=0.5)
    assert digest.risk_level == "high"


def test_a_source_with_three_days_of_history_is_learning_never_anomalous(lake):
    digest = evaluate(DuckDBEngine(LocalObjectStore(lake)), DAY)
    newcomer = next(s for s in digest.sources if s.source == "newcomer")
    assert newcomer.learning and newcomer.history_days == 3 and newcomer.findings == []
    assert {c.verdict for c in newcomer.checks} == {"learning"}
    text = stages_text(digest)
    assert "Learning: 3 earlier day(s) with data" in text


def stages_text(digest) -> str:
    from vitalflow.notify.render import render_digest

    return render_digest(digest)[0]


def test_failed_files_and_a_new_reject_reason_are_reported(own_lake):
    at = datetime.combine(DAY, time(22), tzinfo=timezone.utc)
    failed = {"batch_id": "failed-1", "source": "steady", "ingested_at": at, "status": "failed"}
    write(own_lake, failed)  # as summaries.write_failed_summary writes it: status, no counts
    odd = summary("steady", at + timedelta(minutes=5), rows=10, reject_rate=0.01, anomaly_rate=0.05)
    write(own_lake, {**odd, "reject_reasons": ["heart_rate:out_of_range", "spo2:not_a_number"]})
    digest = evaluate(DuckDBEngine(LocalObjectStore(own_lake)), DAY)
    steady = [(f.kind, f.message) for f in digest.findings if f.source == "steady"]
    assert steady == [
        ("failed_files", "1 failed file(s)"),
        ("new_reject_reason", "new reject reason: spo2:not_a_number"),
    ]


def test_a_quiet_day_says_so_in_one_line(lake):
    digest = evaluate(DuckDBEngine(LocalObjectStore(lake)), DAY - timedelta(days=30))
    assert digest.findings == [] and digest.risk_level == "low"
    assert (
        stages_text(digest).splitlines()[1]
        == "Nothing unusual: 3 source(s), every monitor within its normal range."
    )


def test_cli_writes_one_digest_per_date_escaped_and_offline(own_lake, capsys):
    hostile = "<img src=x onerror=alert(1)>"
    at = datetime.combine(DAY, time(9), tzinfo=timezone.utc)
    write(own_lake, summary(hostile, at, rows=1000, reject_rate=0.01, anomaly_rate=0.05))
    assert main(["--home", str(own_lake), "digest", "--date", DAY.isoformat()]) == 0
    printed = capsys.readouterr().out
    assert "climbing: reject rate" in printed and "silent: no batch for" in printed
    assert main(["--home", str(own_lake), "digest", "--date", DAY.isoformat(), "--json"]) == 0  # a rerun
    document = json.loads(capsys.readouterr().out)
    assert document["email"] is None and document["risk_level"] == "high"
    assert [(f["source"], f["kind"]) for f in document["findings"]] == [
        ("climbing", "anomaly"),
        ("silent", "overdue"),
    ]
    (sent,) = sorted((own_lake / "outbox").glob("*.eml"))  # one email, however often it runs
    message = email.message_from_bytes(sent.read_bytes(), policy=email.policy.default)
    assert message["Subject"] == f"vitalflow digest {DAY.isoformat()}: 2 finding(s) need attention"
    html = message.get_body(("html",)).get_content()
    assert hostile not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "http://" not in html and "https://" not in html  # nothing to fetch: offline-safe
    published = [json.loads(line) for line in (own_lake / "events" / "fanout.jsonl").read_text().splitlines()]
    assert [m["attributes"] for m in published] == [
        {"kind": "digest", "source": "all", "risk_level": "high", "has_anomalies": "true"}
    ]


def test_each_analysed_batch_is_published_once_with_its_attributes(tmp_path):
    from vitalflow.generate import GeneratorOptions, generate
    from vitalflow.pipeline import run_file

    runtime = local_runtime(Settings(home=tmp_path / "lake"))
    source = generate(GeneratorOptions(rows=300, seed=5), tmp_path / "clinic-a-2026-11-22.csv")
    run_file(runtime, source)
    outcome = run_file(runtime, source)  # a replay publishes nothing new
    (published,) = [
        json.loads(x) for x in (tmp_path / "lake" / "events" / "fanout.jsonl").read_text().splitlines()
    ]
    attributes = published["attributes"]
    assert attributes["kind"] == "batch" and attributes["source"] == "clinic-a"
    assert attributes["risk_level"] == published["message"]["risk_level"]
    assert attributes["has_anomalies"] == ("true" if published["message"]["anomaly_readings"] else "false")
    assert published["message"]["batch_id"] == outcome.batch_id
    events = runtime.bus.events()  # type: ignore[attr-defined]
    (quality,) = [e for e in events if e["detail-type"] == "DataQualityEvaluated"][:1]
    detail = quality["detail"]
    assert (
        detail["rules_evaluated"] > 0
        and detail["rules_passed"] + detail["rules_failed"] == detail["rules_evaluated"]
    )
    assert detail["score"] == pytest.approx(detail["rules_passed"] / detail["rules_evaluated"], abs=1e-4)
    assert "user_id" not in json.dumps(detail)
    _ = stages  # the stage the CLI and the scheduler's function share


def test_every_digest_query_reads_only_its_windows_partitions():
    """Athena prunes batch_summaries' partitions (projection on dt) only where dt is bounded: each
    scan of it in sql/digest must be, by the window's parameters, so a digest costs the same on a
    lake of any age (bench/digest_scan.py measures it)."""
    import sqlglot
    from sqlglot import exp

    from vitalflow.aggregate.queries import load_all

    digest_queries = {name: q for name, q in load_all().items() if name.startswith("digest/")}
    assert len(digest_queries) == 4
    for name, query in digest_queries.items():
        tree = sqlglot.parse_one(query.athena, read="athena")
        scans = [t for t in tree.find_all(exp.Table) if t.name == "batch_summaries"]
        assert scans, name
        for table in scans:
            select = table.find_ancestor(exp.Select)
            where = select.args.get("where") if select else None
            bounds = [
                b
                for b in (where.find_all(exp.Between) if where else [])
                if b.this.name == "dt" and isinstance(b.args["low"], exp.Placeholder)
            ]
            assert [(b.args["low"].name, b.args["high"].name) for b in bounds] == [("window_from", "day")], (
                name
            )


@pytest.mark.usefixtures("aws_credentials")
def test_bedrock_narrates_from_the_aggregates_and_the_rules_stand_in_when_it_fails(own_lake):
    from fakes.bedrock_server import FakeBedrock

    with FakeBedrock() as fake:
        settings = Settings(
            home=own_lake,
            analyst="bedrock",
            bedrock_endpoint_url=fake.url,
            region="us-east-1",
            bedrock_timeout_s=5,
        )
        fake.answer = {"narrative": "Climbing's rejects rose ninefold; silent went quiet."}
        first = stages.digest(local_runtime(settings), DAY)
        fake.script.append("malformed")
        second = stages.digest(local_runtime(settings), DAY - timedelta(days=1))
        stages.digest(local_runtime(settings), DAY)  # a rerun: no email, so no Bedrock call either
        assert len(fake.requests) == 2
    assert first.digest.narrative is not None and first.digest.narrative.model == "amazon.nova-lite-v1:0"
    assert "rose ninefold" in first.digest.narrative.text
    (prompt,) = [c["text"] for c in fake.requests[0]["messages"][0]["content"]]
    assert set(json.loads(prompt)) == {"day", "findings", "sources"}  # aggregates only
    assert second.digest.narrative is not None and second.digest.narrative.model == "rules"
    assert second.digest.narrative.fallback_reason == "Bedrock's answer was not the JSON asked for"
    sent = sorted((own_lake / "outbox").glob("*.eml"))
    assert len(sent) == 2
    bodies = [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        .get_body(("plain",))
        .get_content()
        for p in sent
    ]
    assert any("rose ninefold" in b and "summary by amazon.nova-lite-v1:0" in b for b in bodies)
    assert any("vitalflow's rules: Bedrock's answer was not the JSON asked for" in b for b in bodies)


def test_summaries_written_before_the_digest_count_as_history_and_their_rule_rates_as_unknown(own_lake):
    """Rows from before the digest have no status and no rule counts: processed batches whose
    rule rates are unknown, so neither "learning" nor a rate of 0 that today's would break from."""
    import pyarrow.parquet as pq

    old = [p for p in (own_lake / "summaries").rglob("*.parquet") if p.parent.name < f"dt={DAY.isoformat()}"]
    for path in old:
        table = pq.read_table(path)
        for column in ("status", "low_spo2", "abnormal_heart_rate", "fever", "high_blood_pressure"):
            index = table.schema.get_field_index(column)
            table = table.set_column(
                index, table.schema.field(index), pa.nulls(1, table.schema.field(index).type)
            )
        pq.write_table(table, path)
    digest = evaluate(DuckDBEngine(LocalObjectStore(own_lake)), DAY)
    assert findings(digest) == [("climbing", "anomaly"), ("silent", "overdue")]
    steady = next(s for s in digest.sources if s.source == "steady")
    assert not steady.learning and steady.check("reject_rate").verdict == "ok"
    assert (
        steady.check("low_spo2_rate").verdict == "learning"
        and steady.check("low_spo2_rate").history_days == 0
    )
