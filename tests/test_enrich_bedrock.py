"""The Bedrock analyst through the real boto3 client against a fake Converse server on 127.0.0.1."""

from __future__ import annotations

import json

import pytest

from factories import manifest, report
from fakes.bedrock_server import FakeBedrock
from vitalflow.config import Settings
from vitalflow.enrich import enrich
from vitalflow.enrich.bedrock import BedrockAnalyst
from vitalflow.enrich.rules import RulesAnalyst
from vitalflow.exceptions import AnalystError
from vitalflow.local.result_store import SqliteResultStore

pytestmark = pytest.mark.usefixtures("aws_credentials")


@pytest.fixture
def fake():
    with FakeBedrock(slow_seconds=1.5) as server:
        yield server


def analyst(fake: FakeBedrock, **settings) -> BedrockAnalyst:
    config = Settings(
        analyst="bedrock",
        bedrock_endpoint_url=fake.url,
        region="us-east-1",
        bedrock_timeout_s=settings.pop("timeout", 5.0),
        bedrock_max_attempts=settings.pop("attempts", 3),
    )
    return BedrockAnalyst.from_settings(config)


SAMPLE = report(rules={"low_spo2": (120, 2)}, users=[("zz-patient-7781", 100, {"low_spo2": 100})])


def test_normal_answer(fake):
    result = analyst(fake).analyze(SAMPLE)
    assert result.risk_level == "high" and result.model == "amazon.nova-lite-v1:0"
    assert result.insights == ["Low SpO2 readings cluster in one user overnight."]
    assert (result.tokens_in, result.tokens_out) == (1200, 300)
    assert result.cost_usd == pytest.approx(1.2 * 0.00006 + 0.3 * 0.00024)
    assert fake.paths == ["/model/amazon.nova-lite-v1%3A0/converse"]


def test_throttled_then_ok_is_retried_by_botocore(fake):
    fake.script.extend(["throttle", "throttle"])
    result = analyst(fake, attempts=4).analyze(SAMPLE)
    assert result.risk_level == "high"
    assert len(fake.requests) == 3


def test_throttled_beyond_attempts_fails(fake):
    fake.script.extend(["throttle"] * 5)
    with pytest.raises(AnalystError, match="ThrottlingException"):
        analyst(fake, attempts=2).analyze(SAMPLE)
    assert len(fake.requests) == 2


def test_malformed_is_retried_once(fake):
    fake.script.append("malformed")
    result = analyst(fake).analyze(SAMPLE)
    assert result.summary and len(fake.requests) == 2
    assert result.tokens_in == 2400  # both calls are paid for


def test_malformed_twice_falls_back_to_rules(fake, tmp_path):
    fake.script.extend(["malformed", "malformed"])
    record = enrich(manifest(), SAMPLE, analyst(fake), RulesAnalyst(), SqliteResultStore(tmp_path / "r.db"))
    assert record.analysis.model == "rules-v1"
    assert record.analysis.fallback_reason and "JSON" in record.analysis.fallback_reason
    assert len(fake.requests) == 2


def test_slow_answer_times_out_and_falls_back(fake, tmp_path):
    fake.script.extend(["slow"] * 3)
    record = enrich(
        manifest(),
        SAMPLE,
        analyst(fake, timeout=0.3, attempts=2),
        RulesAnalyst(),
        SqliteResultStore(tmp_path / "r.db"),
    )
    assert record.analysis.model == "rules-v1"
    assert "Bedrock call failed" in (record.analysis.fallback_reason or "")
    assert len(fake.requests) == 2  # bounded: max_attempts, no more


def test_prompt_carries_aggregates_only(fake):
    distinctive = report(
        readings=4321,
        rules={"low_spo2": (77, 1), "fever": (13, 1)},
        users=[("zz-patient-7781", 77, {"low_spo2": 77}), ("<script>alert(1)</script>", 13, {"fever": 13})],
        reasons=[
            ("heart_rate:out_of_range", 3),
            ('=HYPERLINK("http://evil")', 2),
            ("user_id:invalid_format", 1),
        ],
    )
    analyst(fake).analyze(distinctive)
    sent = json.dumps(fake.requests)
    for secret in ("zz-patient-7781", "script", "HYPERLINK", "evil"):
        assert secret not in sent
    prompt = fake.requests[0]["messages"][0]["content"][0]["text"]
    facts = json.loads(prompt.split("\n", 1)[1])
    assert facts["readings"] == 4321
    assert [u["user"] for u in facts["top_users"]] == ["user A", "user B"]
    assert {r["reason"] for r in facts["reject_reasons"]} == {
        "heart_rate:out_of_range",
        "user_id:invalid_format",
    }
    assert "user_id" not in prompt.replace("user_id:invalid_format", "")


def test_a_slow_model_leaves_the_invocation_time_for_the_fallback(tmp_path):
    """Bedrock gets what is left of the budget (retries included), then the rules analyst stands in."""
    import time

    with FakeBedrock(slow_seconds=30) as slow:
        slow.script.extend(["slow"] * 10)
        started = time.monotonic()
        record = enrich(
            manifest(),
            SAMPLE,
            analyst(slow, timeout=60.0, attempts=4),  # unbudgeted: up to 4 x 60 s
            RulesAnalyst(),
            SqliteResultStore(tmp_path / "r.db"),
            deadline=started + 8,
        )
        took = time.monotonic() - started
    assert record.analysis.fallback_reason and record.analysis.model.startswith("rules")
    assert took < 10, f"the analysis outlived its deadline: {took:.1f} s"
