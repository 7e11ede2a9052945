"""The CLI as a user runs it: a real subprocess, JSON output, exit codes, and every command documented."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from conftest import REPO, csv_text, row
from vitalflow.cli import build_parser


def vitalflow(*args: str, home: Path, check: bool = False) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vitalflow.cli", "--home", str(home), *args],
        capture_output=True,
        text=True,
        check=check,
        timeout=300,
    )


def test_run_json_reports_each_file(tmp_path):
    good = tmp_path / "good.csv"
    good.write_text(csv_text([row(), row(user_id="u-2", spo2="140")]))
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"")
    result = vitalflow("run", str(good), str(bad), str(good), "--json", home=tmp_path / "lake")
    assert result.returncode == 1  # one file failed
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["status"] for r in lines] == ["processed", "failed", "duplicate"]
    first = lines[0]
    for key in (
        "batch_id",
        "status",
        "rows_in",
        "rows_processed",
        "rows_rejected",
        "rejected_by_reason",
        "docs",
        "error",
    ):
        assert key in first
    assert (first["rows_in"], first["rows_processed"], first["rows_rejected"]) == (2, 1, 1)
    assert first["rejected_by_reason"] == {"spo2:out_of_range": 1}
    assert first["error"] is None and Path(first["docs"]).is_file()
    assert "empty" in lines[1]["error"]
    assert "Traceback" not in result.stderr


def test_run_exit_zero_and_human_summary(tmp_path):
    good = tmp_path / "good.csv"
    good.write_text(csv_text([row()]))
    result = vitalflow("run", str(good), home=tmp_path / "lake")
    assert result.returncode == 0, result.stderr
    assert "processed" in result.stdout and "Data Docs" in result.stdout


def test_generate_is_deterministic_per_seed(tmp_path):
    a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    vitalflow("generate", "--rows", "500", "--out", str(a), "--seed", "3", home=tmp_path, check=True)
    vitalflow("generate", "--rows", "500", "--out", str(b), "--seed", "3", home=tmp_path, check=True)
    vitalflow("generate", "--rows", "500", "--out", str(c), "--seed", "4", home=tmp_path, check=True)
    assert a.read_bytes() == b.read_bytes() != c.read_bytes()
    assert len(a.read_text().splitlines()) >= 500  # header + rows (truncated lines stay lines)


def test_generated_batch_has_abnormal_and_invalid_rows(tmp_path):
    path = tmp_path / "g.csv"
    vitalflow("generate", "--rows", "5000", "--out", str(path), home=tmp_path, check=True)
    result = vitalflow("run", str(path), "--json", home=tmp_path / "lake")
    outcome = json.loads(result.stdout)
    assert outcome["rows_in"] == 5000
    assert 0 < outcome["rows_rejected"] < 250
    assert len(outcome["rejected_by_reason"]) >= 5


def test_user_error_is_a_message_not_a_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "vitalflow.cli", "run", str(tmp_path / "x.csv")],
        capture_output=True,
        text=True,
        env={"VITALFLOW_CHUNK_ROWS": "zero", "PATH": "/usr/bin"},
        timeout=120,
    )
    assert result.returncode == 2
    assert "VITALFLOW_CHUNK_ROWS" in result.stderr and "Traceback" not in result.stderr


def test_every_command_is_documented_in_the_readme():
    readme = (REPO / "README.md").read_text()
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    assert commands, "no commands registered"
    for name in commands:
        assert re.search(rf"vitalflow[^\n`]* {name}\b", readme), (
            f"`vitalflow {name}` is not documented in README.md"
        )


def _modules_after(code: str) -> set[str]:
    """Top-level packages loaded once ``code`` ran in a fresh interpreter."""
    script = f"import json, sys\n{code}\nprint(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return set(json.loads(proc.stdout.splitlines()[-1]))


HEAVY = {"great_expectations", "pandas", "duckdb", "matplotlib", "sqlglot", "pyarrow", "numpy"}


def test_starting_the_cli_imports_nothing_heavy():
    """`vitalflow --help` must start fast: commands import what they need when they run."""
    loaded = _modules_after("import vitalflow.cli\nvitalflow.cli.build_parser()")
    assert "vitalflow" in loaded
    assert not loaded & HEAVY, sorted(loaded & HEAVY)


def test_commands_that_do_not_validate_do_not_import_great_expectations(tmp_path):
    home = tmp_path / "lake"
    (home / "docs").mkdir(parents=True)
    query = f"from vitalflow import cli\ncli.main(['--home', {str(home)!r}, 'query', 'SELECT 1'])"
    loaded = _modules_after(query)
    assert "duckdb" in loaded
    assert not loaded & {"great_expectations", "pandas", "matplotlib"}, sorted(loaded)
    rebuild = f"from vitalflow import cli\ncli.main(['--home', {str(home)!r}, 'docs', 'rebuild'])"
    assert not _modules_after(rebuild) & {"great_expectations", "pandas", "duckdb"}
