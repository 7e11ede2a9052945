"""The same bytes are the same batch: a second upload is reported as a duplicate and writes nothing."""

from __future__ import annotations

from conftest import outputs, row
from vitalflow.pipeline import run_file


def snapshot(root):
    return {
        p.relative_to(root): p.stat().st_mtime_ns
        for p in root.rglob("*")
        if p.is_file() and "events" not in p.parts
    }


def test_same_file_twice_is_a_duplicate(runtime, write_csv):
    path = write_csv([row(), row(user_id="u-2", heart_rate="999")])
    first = run_file(runtime, path)
    assert first.status == "processed"
    before = (
        snapshot(runtime.home / "processed")
        | snapshot(runtime.home / "rejected")
        | snapshot(runtime.home / "manifests")
    )
    second = run_file(runtime, path)
    assert second.status == "duplicate"
    assert second.batch_id == first.batch_id
    assert (second.rows_in, second.rows_processed, second.rows_rejected) == (2, 1, 1)
    after = (
        snapshot(runtime.home / "processed")
        | snapshot(runtime.home / "rejected")
        | snapshot(runtime.home / "manifests")
    )
    assert after == before
    processed, rejected = outputs(runtime, first.batch_id)
    assert (len(processed), len(rejected)) == (1, 1)


def test_same_content_under_another_name_is_a_duplicate(runtime, write_csv):
    rows = [row()]
    assert run_file(runtime, write_csv(rows, name="a.csv")).status == "processed"
    assert run_file(runtime, write_csv(rows, name="b.csv")).status == "duplicate"


def test_different_content_same_name_is_a_new_batch(runtime, write_csv):
    a = run_file(runtime, write_csv([row()], name="daily.csv"))
    b = run_file(runtime, write_csv([row(heart_rate="80")], name="daily.csv"))
    assert b.status == "processed" and a.batch_id != b.batch_id
    assert len(list((runtime.home / "raw").rglob("daily*.csv"))) == 2  # the first upload is kept
