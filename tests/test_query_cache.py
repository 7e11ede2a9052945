"""`vitalflow query` keeps each table's current file list under the table's metadata location, so a
query after no new commit starts without loading pyiceberg, and a commit is seen at once."""

from __future__ import annotations

import subprocess
import sys

from conftest import csv_text, row
from vitalflow.config import Settings
from vitalflow.pipeline import run_file
from vitalflow.runtime import local_runtime

PROBE = (
    "import sys; from vitalflow.cli import main; "
    "code = main(['--home', sys.argv[1], 'query', 'SELECT count(*) FROM processed', '--format', 'csv']); "
    "print('pyiceberg' in sys.modules); sys.exit(code)"
)


def query(home) -> tuple[int, bool]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(home)], capture_output=True, text=True, check=True
    )
    lines = done.stdout.split()
    return int(lines[-2]), lines[-1] == "True"


def test_a_query_after_no_commit_skips_pyiceberg_and_a_commit_is_seen_at_once(tmp_path):
    home = tmp_path / "lake"
    runtime = local_runtime(Settings(home=home))
    first = tmp_path / "a.csv"
    first.write_text(csv_text([row(user_id="u1"), row(user_id="u2")]))
    assert run_file(runtime, first).status == "processed"
    assert query(home) == (2, True)  # the first query after a commit loads the tables
    assert query(home) == (2, False)  # then their file lists are kept
    second = tmp_path / "b.csv"
    second.write_text(csv_text([row(user_id="u3")]))
    assert run_file(runtime, second).status == "processed"
    assert query(home) == (3, True)  # a commit changes the metadata location: loaded again
