"""Great Expectations on each distinct row once gives what it gives on every row.

``vitalflow.validate.distinct`` runs a rule group's row-wise rules on the keys a batch has not
seen yet and weights the answers by how many rows hold each key. Here every chunk of generated
files (clean and dirty) and of a suite with extra rule kinds is checked both ways: with the
memo, and with GE on every row (``MAX_KEYS = 0`` sends every group to its full frame). Verdicts,
and every count, sample and success flag Data Docs shows, must be the same.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from vitalflow.generate import GeneratorOptions, generate
from vitalflow.validate import distinct, prepare
from vitalflow.validate.reader import iter_chunks, scan_file
from vitalflow.validate.results import condense, merge_results
from vitalflow.validate.suite import DEFAULT_SUITE, HealthSuite

PARAMETERS = {"latest_event_time": "2026-12-02T00:00:00+00:00"}
EXTRA_RULES = [
    # not row-wise: its group (with user_id's own rules) must see every row
    {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "user_id"}},
    # `mostly`: success is decided on the weighted counts
    {
        "type": "expect_column_values_to_be_between",
        "kwargs": {"column": "steps__num", "max_value": 5, "mostly": 0.5},
    },
    {"type": "expect_column_value_lengths_to_be_between", "kwargs": {"column": "temp_c", "max_value": 4}},
    {
        "type": "expect_column_pair_values_a_to_be_greater_than_b",
        "kwargs": {
            "column_A": "spo2__num",
            "column_B": "heart_rate__num",
            "ignore_row_if": "either_value_is_missing",
        },
    },
    {
        "type": "expect_select_column_values_to_be_unique_within_record",
        "kwargs": {"column_list": ["systolic_bp__num", "diastolic_bp__num", "spo2__num"]},
    },
    # a row condition may name any column: the whole frame, every row
    {
        "type": "expect_column_values_to_be_between",
        "kwargs": {
            "column": "spo2__num",
            "min_value": 90,
            "row_condition": "heart_rate__num>100",
            "condition_parser": "pandas",
        },
    },
]


def _suite_with_extras(tmp_path: Path) -> Path:
    spec = json.loads(DEFAULT_SUITE.read_text())
    for number, rule in enumerate(EXTRA_RULES):
        spec["expectations"].append({**rule, "meta": {"reason": f"extra:{number}"}})
    path = tmp_path / "suite.json"
    path.write_text(json.dumps(spec))
    return path


def _chunks(path: Path, rows: int) -> list[Any]:
    scan = scan_file(path)
    return [c for c in iter_chunks(path, scan, rows) if c.table.num_rows]


def _run(suite_path: Path | None, chunks: list[Any]) -> tuple[list[dict[int, list[str]]], list[Any]]:
    rules = HealthSuite(suite_path).rules_for(PARAMETERS)
    reasons, results = [], []
    for chunk in chunks:
        verdict = rules.verdict()
        rules.check_rows(prepare.check_frame(chunk.table, chunk.lines), verdict)
        reasons.append(verdict.reasons)
        results.extend(verdict.results)
    return reasons, results


def _kwargs(kwargs: dict[str, Any]) -> str:
    """An expectation's arguments without the batch id (each suite has its own data source)."""
    return json.dumps({k: v for k, v in kwargs.items() if k != "batch_id"}, sort_keys=True, default=str)


def _line(item: Any) -> int:
    return int(item["__line"] if isinstance(item, dict) else item)


def _facts(results: list[Any]) -> list[tuple[Any, ...]]:
    """What merging reads of each expectation result, in order (counts come from the merge)."""
    out = []
    for suite_result in results:
        for evr in suite_result.results:
            details = evr.result
            out.append(
                (
                    suite_result.suite_name,
                    evr.expectation_config.type,
                    _kwargs(evr.expectation_config.kwargs),
                    bool(evr.success),
                    int(details["element_count"]),
                    int(details["unexpected_count"]),
                    None if details.get("missing_count") is None else int(details["missing_count"]),
                    [_line(i) for i in details.get("partial_unexpected_index_list") or []][:20],
                    json.dumps((details.get("unexpected_list") or [])[:20], default=str),
                )
            )
    return out


@pytest.mark.parametrize(
    ("options", "extras"),
    [
        (GeneratorOptions(rows=12_000, seed=11), False),
        (GeneratorOptions(rows=12_000, seed=12, invalid_rate=0.6), False),
        (GeneratorOptions(rows=6_000, seed=13, invalid_rate=0.3), True),
    ],
    ids=["clean", "dirty", "extra-rules"],
)
def test_distinct_rows_give_what_every_row_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, options: GeneratorOptions, extras: bool
) -> None:
    source = tmp_path / "vitals.csv"
    generate(options, source)
    suite_path = _suite_with_extras(tmp_path) if extras else None
    chunks = _chunks(source, 1_500)
    assert len(chunks) >= 4  # later chunks reuse what earlier ones learned
    memo_reasons, memo_results = _run(suite_path, chunks)
    monkeypatch.setattr(distinct, "MAX_KEYS", 0)
    full_reasons, full_results = _run(suite_path, chunks)
    assert memo_reasons == full_reasons
    assert _facts(memo_results) == _facts(full_results)
    meta = {"batch_id": "b"}
    merged_memo = merge_results(memo_results, "s", meta)
    merged_full = merge_results(full_results, "s", meta)
    assert _without_batch_ids(merged_memo.to_json_dict()["results"]) == _without_batch_ids(
        merged_full.to_json_dict()["results"]
    )
    # The Spark engine's tasks condense their chunks' results before the driver merges them: the
    # page must not change (results cut into three runs of chunks, as three splits would be).
    third = len(memo_results) // 3
    runs = [memo_results[:third], memo_results[third : 2 * third], memo_results[2 * third :]]
    condensed = [result for run in runs for result in condense(run)]
    assert len(condensed) < len(memo_results)
    assert merge_results(condensed, "s", meta).to_json_dict() == merged_memo.to_json_dict()


def _without_batch_ids(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_batch_ids(v) for k, v in value.items() if k != "batch_id"}
    if isinstance(value, list):
        return [_without_batch_ids(v) for v in value]
    return value


def test_known_rows_are_not_validated_again(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A second chunk of the same values runs GE only for groups whose keys are (nearly) all distinct."""
    source = tmp_path / "vitals.csv"
    generate(GeneratorOptions(rows=3_000, seed=5, invalid_rate=0.2), source)
    (chunk,) = _chunks(source, 10_000)
    suite = HealthSuite()
    calls: list[int] = []
    original = HealthSuite._validate

    def counting(self: HealthSuite, frame: Any, group_suite: Any, parameters: Any) -> Any:
        calls.append(len(frame))
        return original(self, frame, group_suite, parameters)

    monkeypatch.setattr(HealthSuite, "_validate", counting)
    frame = prepare.check_frame(chunk.table, chunk.lines)
    rules = suite.rules_for(PARAMETERS)
    first, second = suite.verdict(), suite.verdict()
    rules.check_rows(frame, first)
    assert len(calls) == len(suite._row_groups)
    assert sorted(calls)[0] < 10  # e.g. the one flag of "every field fits"
    calls.clear()
    rules.check_rows(frame, second)
    assert calls == []  # every key known: the answers alone
    assert first.reasons == second.reasons
    calls.clear()
    suite.rules_for(PARAMETERS).check_rows(frame, suite.verdict())
    assert len(calls) == len(suite._row_groups)  # another batch knows nothing of this one's answers


def test_each_batch_and_each_phase_starts_with_no_answers(tmp_path: Path) -> None:
    """The memo lives and dies with the batch: two batches never share one, nor do the two phases."""
    suite = HealthSuite()
    first, second = suite.rules_for(PARAMETERS), suite.rules_for(PARAMETERS)
    memos = [m for rules in (first, second) for _, m in rules.row_groups + rules.final_groups]
    assert len({id(m) for m in memos}) == len(memos)
    source = tmp_path / "vitals.csv"
    generate(GeneratorOptions(rows=500, seed=5), source)
    (chunk,) = _chunks(source, 10_000)
    first.check_rows(prepare.check_frame(chunk.table, chunk.lines), first.verdict())
    assert any(m.index for _, m in first.row_groups)
    assert not any(m.index for _, m in second.row_groups + second.final_groups)


def test_a_group_of_nearly_distinct_keys_stops_remembering(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Memory must not grow with the file: past MAX_KEYS a group is checked row by row, same verdicts."""
    source = tmp_path / "vitals.csv"
    generate(GeneratorOptions(rows=4_000, seed=6, invalid_rate=0.3), source)
    chunks = _chunks(source, 1_000)
    full_reasons, _ = _run(None, chunks)
    monkeypatch.setattr(distinct, "MAX_KEYS", 1_500)  # event times (one per row) overflow in chunk 2
    rules = HealthSuite().rules_for(PARAMETERS)
    reasons = []
    for chunk in chunks:
        verdict = rules.verdict()
        rules.check_rows(prepare.check_frame(chunk.table, chunk.lines), verdict)
        reasons.append(verdict.reasons)
    memos = [memo for _, memo in rules.row_groups]
    by_sources = {tuple(memo.key_columns): memo for memo in memos}
    assert by_sources[("event_time",)].direct
    assert not by_sources[("event_time",)].index  # let go of what it had learned
    assert not by_sources[("heart_rate",)].direct
    assert max(len(m.index) for m in memos if not m.direct) <= 1_500
    assert reasons == full_reasons


def test_every_derived_column_follows_from_its_fields_text(tmp_path: Path) -> None:
    """What the memo relies on: rows with the same text in a field get the same derived values."""
    from vitalflow.contract import REQUIRED_COLUMNS

    source = tmp_path / "vitals.csv"
    generate(GeneratorOptions(rows=5_000, seed=8, invalid_rate=0.6), source)
    (chunk,) = _chunks(source, 10_000)
    frame = prepare.check_frame(chunk.table, chunk.lines)
    derived = [c for c in frame.columns if "__" in c.strip("_")]
    assert derived and all(c.split("__", 1)[0] in REQUIRED_COLUMNS for c in derived)
    for name in REQUIRED_COLUMNS:
        mine = [c for c in derived if c.split("__", 1)[0] == name]
        if not mine:
            continue
        text = frame[name].astype(object).where(frame[name].notna(), "<missing>")
        spread = (
            frame[mine].astype(object).where(frame[mine].notna(), "<na>").groupby(text.to_numpy()).nunique()
        )
        assert (spread <= 1).all().all(), name


def test_a_sampled_value_ge_never_listed_is_asked_for_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """GE lists the values of 200 failing rows: a later chunk whose first failing rows hold keys
    beyond those still shows GE's own values (the chunk is checked whole)."""
    import numpy as np
    import pyarrow as pa

    from vitalflow.contract import REQUIRED_COLUMNS

    def chunk(heart_rates: list[str], first_line: int) -> Any:
        n = len(heart_rates)
        good = {"event_time": "2026-11-20T08:00:00Z", "user_id": "u-1", "spo2": "98", "steps": "1"}
        good.update(temp_c="36.6", systolic_bp="118", diastolic_bp="76")
        columns = {name: [good.get(name, "")] * n for name in REQUIRED_COLUMNS}
        columns["heart_rate"] = heart_rates
        lines = np.arange(first_line, first_line + n, dtype=np.int64)
        return prepare.check_frame(pa.table(columns), lines), lines

    chunks = [chunk([str(300 + i) for i in range(500)], 2), chunk(["799", "72", "300"], 600)]

    def samples() -> list[Any]:
        rules = HealthSuite().rules_for(PARAMETERS)
        out = []
        for frame, _ in chunks:
            verdict = rules.verdict()
            rules.check_rows(frame, verdict)
            out.append(_facts(verdict.results))
        return out

    remembered = samples()
    monkeypatch.setattr(distinct, "MAX_KEYS", 0)
    assert remembered == samples()
    assert any("799" in str(fact) for fact in remembered[1])  # the value only the second ask gave
