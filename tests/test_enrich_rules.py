"""The offline rules analyst: deterministic, useful, and never naming a user."""

from __future__ import annotations

from factories import report
from vitalflow.enrich.rules import RulesAnalyst


def test_quiet_batch_is_low_risk():
    result = RulesAnalyst().analyze(report(rejected=0, reasons=[]))
    assert result.risk_level == "low"
    assert result.insights[0] == "No reading crossed an anomaly threshold."
    assert result.recommendations == ["No action needed for this batch."]
    assert result.model == "rules-v1" and result.tokens_in == 0


def test_many_low_spo2_is_high_risk_and_says_why():
    rep = report(
        rules={"low_spo2": (300, 4), "fever": (20, 1)}, users=[("zz-patient-7781", 250, {"low_spo2": 250})]
    )
    result = RulesAnalyst().analyze(rep)
    assert result.risk_level == "high"
    assert result.insights[0].startswith("SpO2 below 92%: 300 readings (3.0%) from 4 users")
    assert any("SpO2" in r for r in result.recommendations)
    assert "spo2 below 92%" in result.summary.lower()
    assert "zz-patient-7781" not in " ".join(result.insights + result.recommendations + [result.summary])


def test_rising_trend_is_reported():
    rep = report(rules={"fever": (60, 3)}, history=[0.001, 0.002, 0.0015])
    result = RulesAnalyst().analyze(rep)
    assert any("(rising)" in i for i in result.insights)
    assert result.risk_level == "moderate"
    assert any("rising" in r for r in result.recommendations)


def test_deterministic():
    rep = report(rules={"abnormal_heart_rate": (90, 5)}, history=[0.01])
    assert RulesAnalyst().analyze(rep) == RulesAnalyst().analyze(rep)


def test_high_reject_rate_recommends_fixing_the_export():
    result = RulesAnalyst().analyze(report(rejected=900, reasons=[("row:malformed", 900)]))
    assert any("row:malformed" in i for i in result.insights)
    assert any("source export" in r for r in result.recommendations)
