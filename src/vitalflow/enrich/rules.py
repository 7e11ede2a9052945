"""The offline analyst: deterministic insights from the aggregates alone.

It is the local default and the fallback when Bedrock fails, so every batch gets a useful report
whatever happens to the model. Its text never names a user: analyses are stored and may be shared.
"""

from __future__ import annotations

from vitalflow.models import Analysis, BatchReport, RiskLevel, RuleStat

MODEL = "rules-v1"

ADVICE = {
    "low_spo2": "Follow up on users with SpO2 below threshold: check sensor placement, then clinical review.",
    "abnormal_heart_rate": "Check abnormal heart-rate readings against activity (steps) before escalating.",
    "fever": "Contact users with repeated fever readings; consider a same-day check.",
    "high_blood_pressure": "Schedule blood-pressure reviews for users with repeated high readings.",
}


def _pct(rate: float) -> str:
    return f"{100 * rate:.1f}%"


class RulesAnalyst:
    model = MODEL

    def analyze(self, report: BatchReport, *, deadline: float | None = None) -> Analysis:
        fired = sorted((r for r in report.rules if r.readings), key=lambda r: -r.readings)
        insights = [self._rule_insight(r) for r in fired]
        recommendations = [ADVICE.get(r.rule, f"Review readings flagged by {r.label}.") for r in fired]
        trend, rising = self._trend(report)
        if trend:
            insights.append(trend)
        if rising:
            recommendations.append(
                "The anomaly rate is rising across batches: look for a common cause (device, site)."
            )
        if report.top_users and report.anomaly_readings:
            top = report.top_users[:3]
            share = sum(u.anomalies for u in top) / report.anomaly_readings
            insights.append(
                f"The {len(top)} users with the most anomalies account for "
                f"{_pct(share)} of anomalous readings."
            )
        ov = report.overview
        if ov.rows_rejected:
            worst = report.reject_reasons[0] if report.reject_reasons else None
            detail = f"; most common reason {worst.reason} ({worst.rows:,} rows)" if worst else ""
            insights.append(f"{ov.rows_rejected:,} rows ({_pct(ov.reject_rate)}) were rejected{detail}.")
            if ov.reject_rate >= 0.05:
                recommendations.append(
                    "More than 5% of rows were rejected: fix the source export before the next batch."
                )
        if not fired:
            insights.insert(0, "No reading crossed an anomaly threshold.")
        if not recommendations:
            recommendations.append("No action needed for this batch.")
        risk = self._risk(report, rising)
        summary = (
            f"{ov.rows_processed:,} readings from {ov.users:,} users; {report.anomaly_readings:,} anomalous "
            f"({_pct(report.anomaly_rate)}). Overall risk: {risk}."
            + (f" Main driver: {fired[0].label.lower()}." if fired else "")
        )
        return Analysis(
            insights=insights, recommendations=recommendations, summary=summary, risk_level=risk, model=MODEL
        )

    @staticmethod
    def _rule_insight(rule: RuleStat) -> str:
        users = "user" if rule.users == 1 else "users"
        return f"{rule.label}: {rule.readings:,} readings ({_pct(rule.rate)}) from {rule.users:,} {users}."

    @staticmethod
    def _trend(report: BatchReport) -> tuple[str | None, bool]:
        if not report.history:
            return None, False
        previous = sum(h.anomaly_rate for h in report.history) / len(report.history)
        now = report.anomaly_rate
        rising = now > previous * 1.5 and now - previous >= 0.002
        falling = now < previous / 1.5 and previous - now >= 0.002
        word = "rising" if rising else "falling" if falling else "stable"
        return (
            f"Anomaly rate {_pct(now)} against {_pct(previous)} on average over the previous "
            f"{len(report.history)} batches ({word}).",
            rising,
        )

    @staticmethod
    def _risk(report: BatchReport, rising: bool) -> RiskLevel:
        rules = {r.rule: r for r in report.rules}
        low_spo2 = rules.get("low_spo2")
        if (low_spo2 and low_spo2.rate >= 0.01) or report.anomaly_rate >= 0.2:
            return "high"
        if rising or report.overview.reject_rate >= 0.05 or any(r.rate >= 0.005 for r in report.rules):
            return "moderate"
        return "low"
