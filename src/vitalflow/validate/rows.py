"""The row phase of one chunk: parse its values, run the row rules, mark repeats, run the final rule.

Everything that depends on file order happens here in order: a row claims its key only after it
passed every row rule, so the duplicate marks (``duplicates``) sit between the suite's two phases.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from vitalflow.validate import prepare
from vitalflow.validate.duplicates import Repeats
from vitalflow.validate.records import RawChunk
from vitalflow.validate.suite import BatchRules, ChunkVerdict


@dataclass
class CheckedRows:
    frame: pd.DataFrame  # the parsed values the rules judged: what the processed table is built from
    verdict: ChunkVerdict
    failed: np.ndarray  # per row of the chunk: at least one reason


def check_rows(chunk: RawChunk, rules: BatchRules, repeats: Repeats) -> CheckedRows:
    frame = prepare.check_frame(chunk.table, chunk.lines)
    verdict = rules.verdict()
    rules.check_rows(frame, verdict)
    repeats.mark(frame, ~verdict.failed(chunk.lines))
    rules.check_final(frame, verdict)
    return CheckedRows(frame, verdict, verdict.failed(chunk.lines))
