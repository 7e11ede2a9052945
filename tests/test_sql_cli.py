"""`vitalflow query`: ad-hoc and stored SQL against the local lake, in every output format."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone

from lakefixture import reading, write_batch
from vitalflow.cli import main

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)


def make_lake(root):
    rows = [reading("ann", T0, spo2=88), reading("bob", T0, hr=170), reading("bob", T0.replace(hour=9))]
    return write_batch(root, "dddd000000000004", rows, [{"reasons": ["row:malformed"]}], ingested_at=T0)


def test_adhoc_query_json(tmp_path, capsys):
    make_lake(tmp_path / "lake")
    code = main(
        [
            "--home",
            str(tmp_path / "lake"),
            "query",
            "SELECT user_id, count(*) AS n FROM processed GROUP BY user_id ORDER BY user_id",
            "--format",
            "json",
        ]
    )
    assert code == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert lines == [{"user_id": "ann", "n": 1}, {"user_id": "bob", "n": 2}]


def test_stored_query_with_params_csv(tmp_path, capsys):
    manifest = make_lake(tmp_path / "lake")
    code = main(
        [
            "--home",
            str(tmp_path / "lake"),
            "query",
            "--file",
            "sql/report/anomaly_rules.sql",
            "--param",
            f"batch_id={manifest.batch_id}",
            "--param",
            "dt_from=2026-11-20",
            "--param",
            "dt_to=2026-11-20",
            "--format",
            "csv",
        ]
    )
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    by_rule = {r["rule"]: r for r in rows}
    assert by_rule["low_spo2"]["readings"] == "1" and by_rule["abnormal_heart_rate"]["users"] == "1"


def test_missing_parameter_is_a_clear_error(tmp_path, capsys):
    make_lake(tmp_path / "lake")
    code = main(["--home", str(tmp_path / "lake"), "query", "--file", "sql/report/top_users.sql"])
    assert code == 2
    err = capsys.readouterr().err
    assert "missing query parameter" in err and "batch_id" in err


def test_table_output(tmp_path, capsys):
    make_lake(tmp_path / "lake")
    assert main(["--home", str(tmp_path / "lake"), "query", "SELECT count(*) AS n FROM rejected"]) == 0
    assert "1 row(s)" in capsys.readouterr().out
