"""Two uploads of the same new readings loaded at the same moment store each reading once (issue 20).

Two real processes validate overlapping files against the same (empty) table and meet just before
their processed commits, so both classified the shared readings as new. The commit that comes
second finds the other's snapshot holds readings of its dates, commits nothing, and its batch is
validated again from scratch: the shared readings are then stored already (``row:already_loaded``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow.compute as pc
import pytest

from at_once import at_once
from vitalflow import lake
from vitalflow.tables import LakeTables

DRIVER = Path(__file__).parent / "drivers" / "load_at_once.py"
HEADER = "event_time,user_id,heart_rate,spo2,steps,temp_c,systolic_bp,diastolic_bp"
DAY0 = datetime(2026, 11, 1, tzinfo=timezone.utc)


def upload(path: Path, numbers: range, end: str = "\n") -> Path:
    lines = []
    for n in numbers:
        at = DAY0 + timedelta(minutes=13 * n)  # two days: readings of both dates in both files
        lines.append(f"{at:%Y-%m-%dT%H:%M:%SZ},user-{n % 4:03d},{60 + n % 30},97,{n},36.6,120,80")
    path.write_bytes(end.join([HEADER, *lines, ""]).encode())
    return path


@pytest.mark.parametrize("on_conflict", ["reject", "replace"])
def test_the_same_new_readings_loaded_at_once_are_stored_once(tmp_path: Path, on_conflict: str) -> None:
    home, meet = tmp_path / "lake", tmp_path / "meet"
    meet.mkdir()
    home.mkdir()
    LakeTables.local(home).table("processed_files")  # made once, as Terraform does on AWS
    files = [upload(tmp_path / "a.csv", range(0, 200)), upload(tmp_path / "b.csv", range(100, 300), "\r\n")]
    loaders = [
        subprocess.Popen(
            [sys.executable, str(DRIVER), str(home), str(f), str(meet), "2", on_conflict],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for f in files
    ]
    outputs = [loader.communicate(timeout=300) for loader in loaders]
    assert [loader.returncode for loader in loaders] == [0, 0], [err.decode()[-2000:] for _, err in outputs]
    manifests = [json.loads(out) for out, _ in outputs]
    assert [m["status"] for m in manifests] == ["processed", "processed"]

    tables = LakeTables.local(home)
    processed = tables.table("processed_files").scan().to_arrow()
    keys = Counter(zip(processed.column("user_id").to_pylist(), processed.column("event_time").to_pylist()))
    assert len(keys) == 300 and set(keys.values()) == {1}, "a reading was stored twice"
    rejected = tables.table("rejected_files").scan().to_arrow()
    reasons = Counter(r[0] for r in rejected.column("reasons").to_pylist())
    assert reasons == {"row:already_loaded": 100}
    # every input row (400) in exactly one of the tables, once
    assert processed.num_rows + rejected.num_rows == 400
    per_batch = Counter(processed.column("batch_id").to_pylist())
    assert sorted(per_batch.values()) == [100, 200]
    assert sorted(m["rows_processed"] for m in manifests) == [100, 200]
    lost = next(m for m in manifests if m["rows_processed"] == 100)
    assert pc.all(pc.equal(rejected.column("batch_id"), lost["batch_id"])).as_py()
    # nothing of the attempt that lost: every data file in the lake is one the tables hold
    on_disk = sorted(
        str(p.relative_to(home)) for prefix in lake.FILES_TABLES for p in (home / prefix).rglob("*.parquet")
    )
    live = sorted(tables.live_keys("processed_files") + tables.live_keys("rejected_files"))
    assert on_disk == live
    assert not list((home / lake.STAGING).glob("*.intent.json"))


def test_loaders_opening_a_new_lake_at_once_each_get_its_tables(tmp_path: Path) -> None:
    """A new lake's catalog is made by whoever opens it first; openers at once all find it made."""
    openers = 6
    for attempt in range(10):  # one try without the catalog's lock failed about two openers in three
        home = tmp_path / f"lake-{attempt}"
        home.mkdir()

        def open_lake(_: int, home: Path = home) -> str:
            return str(LakeTables.local(home).table("processed_files").name())

        assert set(at_once(open_lake, openers)) == {"('vitalflow', 'processed_files')"}
