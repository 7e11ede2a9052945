"""What the validation path relies on inside Great Expectations 1.8.1, checked so an upgrade cannot
silently change it (the version is pinned in pyproject.toml; this file says why).

* ``pandas_execution_engine.HASH_THRESHOLD``: frames under it are hashed to fingerprint the batch;
  vitalflow sets it to 0 because it never reads the fingerprint and the hash is a full pass.
* One batch per validation through the V1 ``Validator`` (``Batch.validate`` builds a second one).
* An unnamed index is reported as-is in ``unexpected_index_list`` (the line numbers), with no
  per-row Python loop.
* The process's current project context decides where a batch definition finds its data source.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vitalflow.validate import suite as suite_module
from vitalflow.validate.suite import HealthSuite

PARAMETERS = {"latest_event_time": "2030-01-01T00:00:00+00:00"}


def test_pinned_version() -> None:
    import great_expectations as gx

    assert gx.__version__ == "1.8.1", "re-check the behaviours in this file, then update the pin"


def test_frames_are_not_fingerprinted(monkeypatch: pytest.MonkeyPatch) -> None:
    from great_expectations.execution_engine import pandas_execution_engine

    assert pandas_execution_engine.HASH_THRESHOLD == 0
    calls = []
    original = pandas_execution_engine.hash_pandas_dataframe
    monkeypatch.setattr(
        pandas_execution_engine, "hash_pandas_dataframe", lambda df: calls.append(len(df)) or original(df)
    )
    frame = _frame(["72", "abc"])
    suite = HealthSuite()
    suite.rules_for(PARAMETERS).check_rows(frame, suite.verdict())
    assert calls == []


def test_one_batch_per_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    from great_expectations.execution_engine.pandas_execution_engine import PandasExecutionEngine

    suite = HealthSuite()
    built = []
    original = PandasExecutionEngine.get_batch_data_and_markers

    def counting(self, *args, **kwargs):
        built.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(PandasExecutionEngine, "get_batch_data_and_markers", counting)
    suite.rules_for(PARAMETERS).check_rows(_frame(["72"]), suite.verdict())
    assert len(built) == len(suite._row_groups)


def test_failing_rows_are_reported_by_the_unnamed_index() -> None:
    suite = HealthSuite()
    verdict = suite.verdict()
    frame = _frame(["72", "abc", "300"], lines=[7, 9, 12])
    suite.rules_for(PARAMETERS).check_rows(frame, verdict)
    assert dict(verdict.reasons) == {9: ["heart_rate:not_a_number"], 12: ["heart_rate:out_of_range"]}


def test_a_second_context_does_not_orphan_the_suite() -> None:
    import great_expectations as gx

    first = HealthSuite()
    gx.get_context(mode="ephemeral")  # something else makes its own context current
    verdict = first.verdict()
    first.rules_for(PARAMETERS).check_rows(_frame(["abc"]), verdict)
    assert dict(verdict.reasons) == {2: ["heart_rate:not_a_number"]}
    assert suite_module._context() is first._context


def _frame(heart_rates: list[str], lines: list[int] | None = None) -> pd.DataFrame:
    import pyarrow as pa

    from vitalflow.validate import prepare

    good = {
        "event_time": "2026-11-20T08:00:00Z",
        "user_id": "u-1",
        "spo2": "98",
        "steps": "1",
        "temp_c": "36.6",
        "systolic_bp": "118",
        "diastolic_bp": "76",
    }
    n = len(heart_rates)
    table = pa.table(
        {
            "event_time": [good["event_time"]] * n,
            "user_id": [f"u-{i}" for i in range(n)],
            "heart_rate": heart_rates,
            **{k: [v] * n for k, v in good.items() if k not in ("event_time", "user_id")},
        }
    )
    return prepare.check_frame(table, np.array(lines or range(2, n + 2), dtype=np.int64))
