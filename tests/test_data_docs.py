"""Great Expectations Data Docs: one page per batch, reflecting the whole batch, without user ids."""

from __future__ import annotations

import json

from conftest import row
from vitalflow.config import Settings
from vitalflow.pipeline import run_file
from vitalflow.runtime import local_runtime


def test_one_page_per_batch_covering_all_chunks(tmp_path, write_csv):
    runtime = local_runtime(Settings(home=tmp_path / "lake", chunk_rows=7))
    rows = [row(user_id=f"u{i}", heart_rate="300" if i % 10 == 0 else "70") for i in range(45)]
    rows.append(row(user_id="secret id 42"))
    outcome = run_file(runtime, write_csv(rows))
    home = runtime.home
    pages = list((home / "docs" / "validations").rglob("*.html"))
    assert len(pages) == 1 and str(pages[0]) == outcome.docs
    (stored,) = list((home / "gx" / "validations").rglob("*.json"))
    result = json.loads(stored.read_text())
    by_reason = {r["expectation_config"]["meta"]["reason"]: r for r in result["results"]}
    hr = by_reason["heart_rate:out_of_range"]["result"]
    assert hr["element_count"] == 46 and hr["unexpected_count"] == 5
    assert len({r["expectation_config"]["meta"]["reason"] for r in result["results"]}) == len(by_reason)
    html = pages[0].read_text()
    assert "secret id 42" not in html and "secret id 42" not in stored.read_text()
    index = (home / "docs" / "index.html").read_text()
    assert outcome.batch_id in index


def test_rerun_replaces_the_page(tmp_path, write_csv):
    runtime = local_runtime(Settings(home=tmp_path / "lake"))
    first = run_file(runtime, write_csv([row()], name="a.csv"))
    second = run_file(runtime, write_csv([row(heart_rate="80")], name="b.csv"))
    pages = list((runtime.home / "docs" / "validations").rglob("*.html"))
    assert sorted(str(p) for p in pages) == sorted([first.docs, second.docs])
