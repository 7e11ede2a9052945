"""Load the Great Expectations suite and turn its results into per-row reject reasons.

The suite file is the single source of truth for what makes a row valid: every expectation carries
``meta.reason`` (the code a rejected row gets); those with ``meta.phase`` = ``after_row_checks`` (the
duplicate rule) run once a chunk's rows passed every other rule. Each rule group is validated on a
frame indexed by source line number, so GE names failing rows by line.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import logging
import os
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from vitalflow.exceptions import SuiteError
from vitalflow.validate.columns import COLUMN_KEYS, INDEX_COLUMN, source_field

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # no telemetry from a health-data job

import great_expectations as gx
from great_expectations.core.expectation_suite import ExpectationSuite
from great_expectations.core.expectation_validation_result import (
    ExpectationSuiteValidationResult,
)
from great_expectations.data_context.data_context.context_factory import project_manager
from great_expectations.data_context.types.base import DataContextConfig, InMemoryStoreBackendDefaults
from great_expectations.execution_engine import pandas_execution_engine
from great_expectations.expectations.expectation_configuration import (
    ExpectationConfiguration,
)
from great_expectations.validator.v1_validator import Validator as V1Validator

from vitalflow.validate import distinct  # imports GE too: after the telemetry switch above
from vitalflow.validate.results import SAMPLE, keep_samples

logging.getLogger("great_expectations").setLevel(logging.WARNING)
# GE hashes every in-memory frame below this size to fingerprint the batch: a full pass over each
# chunk, for a marker vitalflow never reads. Pinned GE 1.8.1; tests/test_suite_internals.py checks it.
pandas_execution_engine.HASH_THRESHOLD = 0

AFTER_ROW_CHECKS = "after_row_checks"
DEFAULT_SUITE = Path(__file__).resolve().parent.parent / "resources" / "health_vitals.json"


@dataclass
class ChunkVerdict:
    """Which lines of one chunk failed which rules, as arrays, and the GE results (for Data Docs).

    Failures are kept as (line, rank) pairs, rank being the reason's place in the suite, so a
    chunk with a million rejected rows costs array operations, not a Python list per row.
    """

    reason_names: list[str] = field(default_factory=list)  # rank -> reason code
    results: list[ExpectationSuiteValidationResult] = field(default_factory=list)
    _lines: list[np.ndarray] = field(default_factory=list)
    _ranks: list[np.ndarray] = field(default_factory=list)

    def add(
        self,
        result: ExpectationSuiteValidationResult,
        ranks: list[int],
        failing: list[np.ndarray] | None = None,
    ) -> None:
        """Record a group's result; ``failing``: its failing lines per result, when GE's lists are samples."""
        for position, evr in enumerate(result.results):
            details = evr.result
            if failing is not None:
                lines = failing[position]
            else:
                found = details.get("unexpected_index_list") or []
                lines = np.fromiter(
                    (item[INDEX_COLUMN] if isinstance(item, dict) else item for item in found),
                    dtype=np.int64,
                    count=len(found),
                )
            if len(lines):
                self._lines.append(lines)
                self._ranks.append(np.full(len(lines), ranks[position], dtype=np.int32))
            keep_samples(details)
        self.results.append(result)

    def failed(self, lines: np.ndarray) -> np.ndarray:
        """Which of ``lines`` have at least one reason."""
        if not self._lines:
            return np.zeros(len(lines), dtype=bool)
        return np.isin(lines, np.concatenate(self._lines))

    def reasons_of(self, lines: np.ndarray) -> tuple[pa.Array, Counter[str]]:
        """Each of ``lines`` (sorted, all failed) with its reasons in suite order, and counts per reason."""
        all_lines = np.concatenate(self._lines) if self._lines else np.empty(0, dtype=np.int64)
        all_ranks = np.concatenate(self._ranks) if self._ranks else np.empty(0, dtype=np.int32)
        pairs = np.unique(all_lines * 65_536 + all_ranks)  # one reason once per line, sorted
        pair_lines, pair_ranks = pairs // 65_536, (pairs % 65_536).astype(np.int32)
        offsets = np.searchsorted(pair_lines, np.append(lines, np.iinfo(np.int64).max)).astype(np.int32)
        names = pa.array(self.reason_names, pa.string())
        values = names.take(pa.array(pair_ranks[offsets[0] : offsets[-1]]))
        reasons = pa.ListArray.from_arrays(pa.array(offsets - offsets[0]), values)
        counts = np.bincount(pair_ranks[offsets[0] : offsets[-1]], minlength=len(self.reason_names))
        return reasons, Counter({self.reason_names[i]: int(c) for i, c in enumerate(counts) if c})

    @property
    def reasons(self) -> dict[int, list[str]]:
        """Reasons per failing line, in suite order (for tests and small chunks)."""
        lines = np.unique(np.concatenate(self._lines)) if self._lines else np.empty(0, dtype=np.int64)
        reasons, _ = self.reasons_of(lines)
        return dict(zip(lines.tolist(), reasons.to_pylist()))


_SOURCES = itertools.count()


@dataclass(frozen=True)
class _Group:
    sources: frozenset[str] | None  # source fields whose columns the group reads; None: all columns
    suite: ExpectationSuite
    row_wise: bool  # every rule answers for a row from its own values (see ``distinct``)

    def memo(self) -> distinct.GroupMemo:
        keys = sorted(self.sources) if self.sources is not None and self.row_wise else []
        return distinct.GroupMemo.for_columns(keys)

    def columns(self, frame: pd.DataFrame) -> list[str]:
        if self.sources is None:
            return list(frame.columns)
        return [c for c in frame.columns if _source(c) in self.sources]


def _source(column: str) -> str:
    """The field a column derives from; a column of the whole row (``__repeat``) is its own source."""
    return source_field(column) or column


def _sources(kwargs: dict[str, Any]) -> set[str]:
    names = [kwargs[k] for k in COLUMN_KEYS if kwargs.get(k)] + list(kwargs.get("column_list") or [])
    return {_source(str(n)) for n in names}


@functools.lru_cache(maxsize=1)
def _context() -> Any:
    """One ephemeral GE context per process, shared by every suite loaded in it.

    GE 1.x resolves a batch definition's data source through the process's current project
    context (pinned version 1.8.1: tests/test_suite_internals.py covers it), so each validation
    makes this context current first. In-memory stores and no docs site: validating chunks must
    not touch the disk.
    """
    config = DataContextConfig(store_backend_defaults=InMemoryStoreBackendDefaults())
    context = gx.get_context(project_config=config, mode="ephemeral")
    context.variables.progress_bars = {"globally": False}  # type: ignore[assignment]
    return context


class HealthSuite:
    """A loaded suite, split into its two phases, ready to validate pandas chunks."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path or DEFAULT_SUITE)
        try:
            raw_bytes = self.path.read_bytes()
            spec = json.loads(raw_bytes)
        except (OSError, ValueError) as exc:
            raise SuiteError(f"cannot read expectation suite {self.path}: {exc}") from None
        self.sha256 = hashlib.sha256(raw_bytes).hexdigest()
        self.name: str = spec.get("name", "")
        if not self.name or not spec.get("expectations"):
            raise SuiteError(f"{self.path} has no name or no expectations")
        configs = [self._config(e) for e in spec["expectations"]]
        row_configs = [c for c in configs if c.meta.get("phase") != AFTER_ROW_CHECKS]
        final_configs = [c for c in configs if c.meta.get("phase") == AFTER_ROW_CHECKS]
        keys = [c.meta["key"] for c in final_configs if c.meta.get("key")]
        self.duplicate_key: list[str] = list(keys[0]) if keys else []
        # A row's reasons are listed in suite order: rank = the reason's first place in the suite.
        self.reason_order: list[str] = list(dict.fromkeys(c.meta["reason"] for c in configs))
        self._rank = {reason: rank for rank, reason in enumerate(self.reason_order)}
        self._context = _context()
        source = f"vitalflow-{next(_SOURCES)}"  # several suites may live in one process
        asset = self._context.data_sources.add_pandas(source).add_dataframe_asset("chunk")
        self._batch_definition = asset.add_batch_definition_whole_dataframe("whole_chunk")
        self._row_groups = self._groups(row_configs)
        self._final_groups = self._groups(final_configs, ".after_row_checks")

    def verdict(self) -> ChunkVerdict:
        return ChunkVerdict(reason_names=self.reason_order)

    def rules_for(self, parameters: dict[str, Any]) -> BatchRules:
        """The suite's rules for one batch: fresh memos that live and die with it."""
        return BatchRules(self, parameters)

    @staticmethod
    def _config(entry: dict[str, Any]) -> ExpectationConfiguration:
        meta = entry.get("meta") or {}
        if not meta.get("reason"):
            raise SuiteError(f"expectation {entry.get('type')} {entry.get('kwargs')} has no meta.reason")
        try:
            return ExpectationConfiguration(
                type=entry["type"], kwargs=entry["kwargs"], meta=meta, description=entry.get("description")
            )
        except Exception as exc:
            raise SuiteError(f"invalid expectation {entry.get('type')}: {exc}") from None

    def _groups(self, configs: list[ExpectationConfiguration], suffix: str = "") -> list[_Group]:
        """Expectations grouped by the source columns they read, each group validated on its own frame.

        GE copies the whole frame it is given for every metric; a frame with only the columns
        derived from one or two source fields makes that copy a fraction of the size. An
        expectation with a ``row_condition`` (which may name any column) gets the whole frame.
        """
        groups: dict[frozenset[str] | None, list[ExpectationConfiguration]] = {}
        for config in configs:
            key = None if config.kwargs.get("row_condition") else frozenset(_sources(config.kwargs))
            groups.setdefault(key, []).append(config)
        out = []
        for number, (key, members) in enumerate(groups.items()):
            suite = ExpectationSuite(name=f"{self.name}{suffix}.{number}")
            for config in members:
                suite.add_expectation_configuration(config)
            out.append(
                _Group(sources=key, suite=suite, row_wise=distinct.row_wise([c.type for c in members]))
            )
        return out

    def run(
        self,
        frame: pd.DataFrame,
        groups: list[tuple[_Group, distinct.GroupMemo]],
        parameters: dict[str, Any] | None,
        verdict: ChunkVerdict,
    ) -> None:
        """Validate ``frame`` (indexed by line number) group by group into ``verdict``."""
        # GE finds a batch's data source through the process's current context; another part of
        # the program (or a library) may have made a different one current since.
        project_manager.set_project(self._context)
        lines = np.asarray(frame.index, dtype=np.int64)
        for group, memo in groups:

            def validate(data: pd.DataFrame, suite: ExpectationSuite = group.suite) -> Any:
                result = self._validate(data, suite, parameters)
                self._ranks(result)  # a rule that cannot be evaluated fails here, whatever the rows
                return result

            result, failing = distinct.check_group(memo, frame[group.columns(frame)], lines, validate)
            verdict.add(result, self._ranks(result), failing)

    def _validate(
        self, frame: pd.DataFrame, suite: ExpectationSuite, parameters: dict[str, Any] | None
    ) -> Any:
        """One batch per frame (``Batch.validate`` would build a second one), GE's documented V1 validator."""
        validator = V1Validator(
            batch_definition=self._batch_definition,
            batch_parameters={"dataframe": frame},
            result_format={
                "result_format": "COMPLETE",
                # The frame's index is the line number: GE then lists failing rows by index in
                # one pass (naming an index column instead costs a Python loop per failing row).
                "return_unexpected_index_query": False,
                "partial_unexpected_count": SAMPLE,
            },
        )
        with warnings.catch_warnings():  # GE 1.8's parameter parser uses deprecated pyparsing names
            warnings.simplefilter("ignore", DeprecationWarning)
            return validator.validate_expectation_suite(suite, expectation_parameters=parameters or {})

    def _ranks(self, result: ExpectationSuiteValidationResult) -> list[int]:
        """Each result's reason rank; a rule GE could not evaluate fails the batch, naming the rule."""
        ranks = []
        for evr in result.results:
            config = evr.expectation_config
            if config is None or not config.meta:
                raise SuiteError("Great Expectations returned a result without its expectation")
            error = _evaluation_error(evr.exception_info)
            if error is None and not evr.success and evr.result.get("unexpected_index_list") is None:
                error = "it failed without naming the rows that failed it"
            if error is not None:
                raise SuiteError(
                    f"expectation {config.type} {_describe(config.kwargs)} in {self.path.name} could not be "
                    f"evaluated: {error}. Fix the suite; no batch can be committed until then."
                )
            ranks.append(self._rank[config.meta["reason"]])
        return ranks


class BatchRules:
    """The suite's rules for one batch: its parameters, and what GE answered per distinct row so far.

    The answers (``distinct``) hold for this batch's parameters only, so they belong to the batch:
    a new batch, and each phase of it, starts with none.
    """

    def __init__(self, suite: HealthSuite, parameters: dict[str, Any]) -> None:
        self.suite = suite
        self.parameters = parameters
        self.row_groups = [(group, group.memo()) for group in suite._row_groups]
        self.final_groups = [(group, group.memo()) for group in suite._final_groups]

    def verdict(self) -> ChunkVerdict:
        return self.suite.verdict()

    def check_rows(self, frame: pd.DataFrame, verdict: ChunkVerdict) -> None:
        """The rules every row answers on its own (all but the after-row-checks phase)."""
        self.suite.run(frame, self.row_groups, self.parameters, verdict)

    def final_columns(self, frame: pd.DataFrame) -> list[str]:
        """The columns of ``frame`` the after-row-checks rules read."""
        return list(dict.fromkeys(c for group, _ in self.final_groups for c in group.columns(frame)))

    def check_final(self, frame: pd.DataFrame, verdict: ChunkVerdict) -> None:
        """The after-row-checks rules (the duplicate rule), once ``__repeat`` is set."""
        self.suite.run(frame, self.final_groups, None, verdict)


def _evaluation_error(info: Any) -> str | None:
    """The first error GE recorded, at the top level or per metric (GE 1.x keys those by metric id)."""
    if not info:
        return None
    if isinstance(info, dict):
        if _raised(info.get("raised_exception")):
            return str(info.get("exception_message") or "an exception was raised")
        for value in info.values():
            if isinstance(value, dict):
                found = _evaluation_error(value)
                if found:
                    return found
        return None
    if _raised(getattr(info, "raised_exception", None)):
        return str(getattr(info, "exception_message", "") or "an exception was raised")
    return None


def _raised(flag: Any) -> bool:
    return flag is True or (isinstance(flag, str) and flag.lower() == "true")


def _describe(kwargs: dict[str, Any]) -> str:
    shown = {k: v for k, v in kwargs.items() if k in (*COLUMN_KEYS, "regex", "row_condition")}
    return "(" + ", ".join(f"{k}={v!r}" for k, v in shown.items()) + ")"
