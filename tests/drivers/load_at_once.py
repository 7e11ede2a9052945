"""Validate one file in this process, meeting the other loaders just before the processed commit.

Used by tests/test_loads_at_once.py: every loader has classified its rows against the table before
any of them commits (a barrier of marker files, one per process), which is the race two Glue job
runs loading overlapping uploads can run into. Usage: python load_at_once.py LAKE FILE MEET PARTIES
ON_CONFLICT; prints the batch's manifest as JSON.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from vitalflow import stages
from vitalflow.config import Settings
from vitalflow.pipeline import ingest
from vitalflow.runtime import local_runtime
from vitalflow.stored_since import ReadAt
from vitalflow.tables import LakeTables, Reading


class MeetingTables(LakeTables):
    """The lake's tables, whose first processed commit waits until every loader got that far."""

    meet: Path = Path()
    parties = 0
    met = False

    def commit_files(
        self,
        name: str,
        batch_id: str,
        keys: list[str],
        replace: Sequence[Reading] = (),
        read_at: ReadAt | None = None,
    ) -> bool:
        if name == "processed_files" and not self.met:
            self.met = True
            (self.meet / str(os.getpid())).touch()
            deadline = time.monotonic() + 120
            while len(list(self.meet.iterdir())) < self.parties:
                if time.monotonic() > deadline:
                    sys.exit("the other loaders never reached their commit")
                time.sleep(0.01)
        return super().commit_files(name, batch_id, keys, replace, read_at)


def main() -> None:
    home, source, meet = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    runtime = local_runtime(Settings(home=home, chunk_rows=50, on_conflict=sys.argv[5]))
    local = LakeTables.local(home)
    tables = MeetingTables(local._connect, local.namespace, local.root, create=True)
    tables.meet, tables.parties = meet, int(sys.argv[4])
    runtime = dataclasses.replace(runtime, tables=tables)
    validated = stages.validate(runtime, ingest(runtime, source))
    print(validated.manifest.model_dump_json())


if __name__ == "__main__":
    main()
