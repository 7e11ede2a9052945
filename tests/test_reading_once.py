"""Each reading once across uploads (issue 20): overlapping exports leave every reading once.

Three exports of the same device readings, a day of overlap each: the second re-exported with CRLF
line ends and a BOM (other bytes, so a new batch), the third with one reading's value corrected.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from vitalflow.cli import main
from vitalflow.config import Settings
from vitalflow.manifests import read_manifest
from vitalflow.pipeline import run_file
from vitalflow.runtime import local_runtime

HEADER = "event_time,user_id,heart_rate,spo2,steps,temp_c,systolic_bp,diastolic_bp"
DAY0 = datetime(2026, 11, 1, tzinfo=timezone.utc)
PER_DAY = 40
CORRECTED = 2 * PER_DAY + 5  # a reading of the third day, in the second and third exports


def readings() -> list[str]:
    """160 distinct readings over four days: (user, instant) is the key."""
    lines = []
    for n in range(4 * PER_DAY):
        at = DAY0 + timedelta(days=n // PER_DAY, minutes=7 * (n % PER_DAY))
        lines.append(f"{at:%Y-%m-%dT%H:%M:%SZ},user-{n % 5:03d},{60 + n % 30},97,{n},36.6,120,80")
    return lines


def exports(tmp_path: Path) -> list[Path]:
    every = readings()
    corrected = every[CORRECTED].split(",")
    corrected[2] = "101"
    third = every[2 * PER_DAY :]
    third[CORRECTED - 2 * PER_DAY] = ",".join(corrected)
    parts = [
        ("a.csv", every[: 2 * PER_DAY], "\n", ""),
        ("b.csv", every[PER_DAY : 3 * PER_DAY], "\r\n", "\ufeff"),
        ("c.csv", third, "\n", ""),
    ]
    paths = []
    for name, lines, end, bom in parts:
        path = tmp_path / name
        path.write_bytes((bom + end.join([HEADER, *lines]) + end).encode())
        paths.append(path)
    return paths


def rows(home: Path, sql: str, capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    code = main(["--home", str(home), "query", sql, "--format", "json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    text = out.out.strip()
    if not text:
        return []
    return [json.loads(line) for line in text.splitlines()]


@pytest.mark.parametrize("on_conflict", ["reject", "replace"])
def test_overlapping_exports_leave_each_reading_once(tmp_path, capsys, on_conflict):
    home = tmp_path / "lake"
    runtime = local_runtime(Settings(home=home, chunk_rows=50, on_conflict=on_conflict))
    outcomes = [run_file(runtime, path) for path in exports(tmp_path)]
    assert [o.status for o in outcomes] == ["processed"] * 3, [o.error for o in outcomes]

    (total,) = rows(
        home,
        "SELECT count(*) AS n, count(DISTINCT user_id || CAST(event_time AS varchar)) AS d FROM processed",
        capsys,
    )
    assert total == {"n": 160, "d": 160}
    reasons = Counter(
        {
            r["reason"]: r["n"]
            for r in rows(home, "SELECT reasons[1] AS reason, count(*) AS n FROM rejected GROUP BY 1", capsys)
        }
    )
    kept = rows(
        home,
        "SELECT heart_rate FROM processed WHERE source_line = 7 AND batch_id = "
        "(SELECT batch_id FROM batch_commits ORDER BY committed_at LIMIT 1 OFFSET 2)",
        capsys,
    )
    if on_conflict == "reject":
        assert reasons == {"row:already_loaded": 79, "row:conflicts_with_loaded": 1}
        assert kept == []  # the corrected row (line 7 of the third export) was not taken
        # the batch's Data Docs page says what the two reasons mean (no expectation of the suite gives them)
        pages = " ".join(" ".join(p.read_text().split()) for p in home.rglob("*.html"))
        assert "is stored from an earlier upload with other values; the stored one stays" in pages
        assert "the same reading (user, instant and values) is stored from an earlier upload" in pages
    else:
        assert reasons == {"row:already_loaded": 79}
        assert kept == [{"heart_rate": 101}]
    (stored,) = rows(home, "SELECT count(*) AS n FROM processed WHERE heart_rate = 101", capsys)
    assert stored["n"] == (1 if on_conflict == "replace" else 0)
    # every input row in exactly one place
    (where,) = rows(
        home, "SELECT (SELECT count(*) FROM processed) + (SELECT count(*) FROM rejected) AS n", capsys
    )
    assert where["n"] == (240 if on_conflict == "reject" else 239)  # one stored reading was replaced
    # What the counts users see mean: a batch's rows_processed is what it stored at its commit; the
    # batch that replaced stored readings says how many (rows_replaced), so the batches' counts add up
    # to the table's rows, in batch_commits as in the manifests.
    (commits,) = rows(
        home,
        "SELECT sum(rows_processed) AS stored, sum(rows_rejected) AS rejected, "
        "sum(coalesce(rows_replaced, 0)) AS replaced FROM batch_commits",
        capsys,
    )
    replaced = 1 if on_conflict == "replace" else 0
    assert commits == {"stored": 160 + replaced, "rejected": 80 - replaced, "replaced": replaced}
    manifests = [read_manifest(runtime.store, o.batch_id) for o in outcomes]
    assert [m.rows_replaced for m in manifests if m] == [0, 0, replaced]
    (live,) = rows(
        home,
        "SELECT (SELECT count(*) FROM processed) - (SELECT sum(rows_processed) - sum(rows_replaced) "
        "FROM batch_commits) AS off",
        capsys,
    )
    assert live == {"off": 0}


def test_readings_sharing_a_first_hash_are_told_apart_by_the_second():
    """Stored readings are kept as hashes (24 bytes each, validate/loaded.py); a key's first hash
    shared by several stored readings must still find the one whose second hash matches."""
    import numpy as np

    from vitalflow.validate.loaded import _Hashes

    def hashes(*columns: list[int]) -> _Hashes:
        return _Hashes(*(np.array(c, dtype=np.uint64) for c in columns))

    stored = _Hashes.merge([hashes([7, 3, 7, 7], [1, 4, 2, 3], [10, 40, 20, 30])])
    rows = hashes([7, 7, 7, 3, 5, 9], [3, 2, 9, 4, 1, 1], [30, 21, 30, 40, 0, 0])
    found, same = stored.find(rows)
    assert [int(stored.key2[i]) if i >= 0 else None for i in found] == [3, 2, None, 4, None, None]
    assert same.tolist() == [True, False, False, True, False, False]


def test_a_re_export_correcting_thousands_of_readings_replaces_each_once(tmp_path, capsys):
    """Corrections are taken out of their files by key, not by a filter expression of one term per
    reading (which raised RecursionError past about a thousand); the old values stay in history."""
    from vitalflow.tables import LakeTables

    home = tmp_path / "lake"
    many = [
        f"{DAY0 + timedelta(days=n % 3, seconds=n):%Y-%m-%dT%H:%M:%SZ},user-{n % 7:03d},70,97,{n},36.6,120,80"
        for n in range(1500)
    ]
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_text("\n".join([HEADER, *many]) + "\n")
    corrected = [line.replace(",70,97,", ",71,97,", 1) if n % 2 else line for n, line in enumerate(many)]
    second.write_text("\n".join([HEADER, *corrected]) + "\r\n")
    runtime = local_runtime(Settings(home=home, on_conflict="replace"))
    run_file(runtime, first)
    before = LakeTables.local(home).table("processed_files").current_snapshot()
    outcome = run_file(runtime, second)
    manifest = read_manifest(runtime.store, outcome.batch_id)
    assert manifest is not None and manifest.rows_replaced == 750
    assert manifest.rows_processed == 750 and manifest.rows_rejected == 750  # the rest: already loaded
    (totals,) = rows(
        home,
        "SELECT count(*) AS n, count(DISTINCT user_id || CAST(event_time AS VARCHAR)) AS k, "
        "sum(heart_rate) AS hr FROM processed",
        capsys,
    )
    assert totals == {"n": 1500, "k": 1500, "hr": 1500 * 70 + 750}
    assert before is not None  # time travel: the snapshot before the correction still has the old values
    old = LakeTables.local(home).table("processed_files").scan(snapshot_id=before.snapshot_id).to_arrow()
    assert old.num_rows == 1500 and sum(old.column("heart_rate").to_pylist()) == 1500 * 70
