"""Data Docs: one readable page per batch, an index that lists every batch, and retention."""

from __future__ import annotations

import email
import email.policy
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import row
from docs_pages import T0, batch_ids_listed, mixed_rows, parse, publish
from vitalflow import cli, lake, stages
from vitalflow.config import Settings
from vitalflow.contract import REQUIRED_COLUMNS
from vitalflow.datadocs import site
from vitalflow.datadocs.page import mask
from vitalflow.local.object_store import LocalObjectStore
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
    assert batch_ids_listed(index) == [outcome.batch_id]


def test_rerun_replaces_the_page(tmp_path, write_csv):
    runtime = local_runtime(Settings(home=tmp_path / "lake"))
    first = run_file(runtime, write_csv([row()], name="a.csv"))
    second = run_file(runtime, write_csv([row(heart_rate="80")], name="b.csv"))
    pages = list((runtime.home / "docs" / "validations").rglob("*.html"))
    assert sorted(str(p) for p in pages) == sorted([first.docs, second.docs])


def test_page_speaks_the_datasets_language(tmp_path, real_result):
    store = LocalObjectStore(tmp_path / "lake")
    key = publish(store, real_result, "0123456789abcdef", T0, name="clinic-north.csv")
    assert key == "docs/validations/0123456789abcdef.html"
    html = store.get_bytes(key).decode()
    text = " ".join(parse(html).text)
    for internal in ("__num", "__ts", "__repeat", "__is_", "__line", "__none__", "expect_column", "None"):
        assert internal not in html, internal
    # the top says which file and batch this is, when, and how many rows went where
    head = text[: text.index("Rejected rows by reason")]
    for fact in ("clinic-north.csv", "0123456789abcdef", "2026-11-20 08:00", "50", "47", "3"):
        assert fact in head, fact
    # one section per real column, in the dataset's order, then whole-row rules
    sections = re.findall(r'<section class="column \w+" id="([^"]+)"', html)
    assert sections[:8] == [f"column-{c}" for c in REQUIRED_COLUMNS] and sections[-1] == "rows"
    # GE's own wording of each rule, with the dataset's column names
    assert "Values in systolic_bp must always be greater than those in diastolic_bp." in text
    assert "heart_rate values must be greater than or equal to 20 and less than or equal to 250." in text
    assert "heart_rate is a whole number." in text  # the suite's description of a derived flag
    assert "No repeat of an earlier valid reading with the same user_id and event_time." in text
    assert "row:malformed" in text and "heart_rate:out_of_range" in text
    heart = html[html.index('id="column-heart_rate"') : html.index('id="column-spo2"')]
    assert "lines 2, 12, 22, 32, 42" in heart and '<span class="mask">999</span> ×5' in heart
    user = html[html.index('id="column-user_id"') : html.index('id="column-heart_rate"')]
    assert "user_id:invalid_format" in user and "mask" not in user  # lines only, never a shape


def test_masks_keep_shape_not_text():
    assert mask("72.5") == "99.9"
    assert mask("<script>alert(1)</script>") == "*aaaaaa*aaaaa*9*…"
    assert mask([114.0, 119.0]) == "999 / 999"
    assert mask(None) == "(empty)"


def test_index_lists_the_newest_and_day_pages_list_every_batch(tmp_path, real_result, monkeypatch):
    monkeypatch.setattr(site, "INDEX_LIMIT", 5)
    store = LocalObjectStore(tmp_path / "lake")
    ids = [f"{i:016x}" for i in range(8)]
    start = datetime(2026, 11, 29, 8, 0, tzinfo=timezone.utc)
    for i, batch_id in enumerate(ids):  # two a day: Nov 29, Nov 30, Dec 1, Dec 2
        publish(store, real_result, batch_id, start + timedelta(hours=12 * i), rejected=i % 2)
    index = store.get_bytes("docs/index.html").decode()
    assert batch_ids_listed(index) == ids[::-1][:5]
    assert re.findall(r'href="months/([0-9-]+)\.html"', index) == ["2026-12", "2026-11"]
    november = store.get_bytes("docs/months/2026-11.html").decode()
    assert re.findall(r'href="\.\./days/2026-11/([0-9-]+)\.html"', november) == ["2026-11-30", "2026-11-29"]
    day = store.get_bytes("docs/days/2026-11/2026-11-30.html").decode()
    assert re.findall(r'href="\.\./\.\./validations/([0-9a-f]+)\.html"', day) == [ids[3], ids[2]]
    row_html = index[index.index(ids[7]) :]
    assert re.search(r'badge failed">Rows rejected.*?>50<.*?>49<.*?>1<', row_html, re.S)
    assert 'badge passed">Passed' in index
    assert "clinic.csv" in index


def test_rerun_lists_a_batch_once(tmp_path, real_result):
    store = LocalObjectStore(tmp_path / "lake")
    publish(store, real_result, "00000000000000aa", T0)
    publish(store, real_result, "00000000000000bb", T0 + timedelta(hours=1))
    publish(store, real_result, "00000000000000aa", T0 + timedelta(days=40), rejected=0)  # next month
    index = store.get_bytes("docs/index.html").decode()
    assert batch_ids_listed(index) == ["00000000000000aa", "00000000000000bb"]
    assert batch_ids_listed(store.get_bytes("docs/days/2026-11/2026-11-20.html").decode()) == [
        "00000000000000bb"
    ]
    entries = [k for k in store.list_keys("docs/index/") if "00000000000000aa" in k]
    assert len(entries) == 1 and "~passed~" in entries[0]


def test_email_link_lands_on_the_batch_page(tmp_path, write_csv):
    settings = Settings(home=tmp_path / "lake", docs_base_url="https://docs.example.org/site/")
    runtime = local_runtime(settings)
    outcome = run_file(runtime, write_csv(mixed_rows(), name="ward-7.csv"))
    from vitalflow.manifests import read_manifest

    manifest = read_manifest(runtime.store, outcome.batch_id)
    assert manifest is not None and manifest.docs == outcome.docs
    url = stages.docs_url(runtime, manifest)
    assert url == f"https://docs.example.org/site/validations/{outcome.batch_id}.html"
    page = Path(manifest.docs).read_text()
    assert "ward-7.csv" in page and outcome.batch_id in page
    assert outcome.report
    message = email.message_from_bytes(Path(outcome.report).read_bytes(), policy=email.policy.default)
    bodies = [p.get_content() for p in message.walk() if p.get_content_type() in ("text/plain", "text/html")]
    assert bodies and all(url in body for body in bodies)


def test_prune_deletes_old_batches_and_rewrites_the_pages(tmp_path, real_result, capsys):
    home = tmp_path / "lake"
    store = LocalObjectStore(home)
    now = datetime.now(timezone.utc)
    old, recent = "00000000000000e1", "00000000000000e2"
    publish(store, real_result, old, now - timedelta(days=120))
    publish(store, real_result, recent, now - timedelta(days=3))
    assert store.exists(f"{lake.GX_VALIDATIONS}{real_result.suite_name}/{old}.json")

    assert cli.main(["--home", str(home), "docs", "prune", "--older-than", "90d", "--dry-run"]) == 0
    assert "would delete 1 batches" in capsys.readouterr().out
    assert store.exists(f"docs/validations/{old}.html")

    assert cli.main(["docs", "prune", "--home", str(home), "--older-than", "90d"]) == 0
    assert "deleted 1 batches" in capsys.readouterr().out
    left = list(store.list_keys("docs/")) + list(store.list_keys(lake.GX_VALIDATIONS))
    assert not [k for k in left if old in k]
    assert [k for k in left if recent in k]
    assert batch_ids_listed(store.get_bytes("docs/index.html").decode()) == [recent]
    then = now - timedelta(days=120)
    assert not store.exists(f"docs/days/{then:%Y-%m}/{then:%Y-%m-%d}.html")  # its only batch went
    assert [k for k in store.list_keys("docs/static/") if k.endswith(".css")]  # styling stays


def test_prune_rejects_a_bad_age(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--home", str(tmp_path), "docs", "prune", "--older-than", "ninety days"])
    assert exit_info.value.code == 2
    assert "expected an age such as 90d" in capsys.readouterr().err


def test_rebuild_restores_an_index_a_dead_job_left_behind(tmp_path, real_result, capsys):
    home = tmp_path / "lake"
    store = LocalObjectStore(home)
    publish(store, real_result, "00000000000000c1", T0)
    publish(store, real_result, "00000000000000c2", T0 + timedelta(minutes=5))
    store.put_bytes("docs/index.html", b"stale")
    assert cli.main(["--home", str(home), "docs", "rebuild"]) == 0
    assert batch_ids_listed(store.get_bytes("docs/index.html").decode()) == [
        "00000000000000c2",
        "00000000000000c1",
    ]


def test_the_pipeline_page_shows_where_the_rows_went(runtime, write_csv):
    from conftest import row
    from vitalflow.pipeline import run_file

    outcome = run_file(runtime, write_csv([row(), row(user_id="u-2"), row(user_id="u-3", heart_rate="abc")]))
    page = (runtime.home / "docs" / "validations" / f"{outcome.batch_id}.html").read_text()
    assert '<span class="label">Processed</span><span class="value">2</span>' in page
    assert '<span class="label">Rejected</span><span class="value">1</span>' in page
