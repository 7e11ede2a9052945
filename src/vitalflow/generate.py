"""Synthetic vitals batches that look like a clinic's export: several users, a daily rhythm,
some clinically abnormal episodes, and a sprinkling of the invalid rows real files contain.

Deterministic per seed, and vectorised so the 10-million-row benchmark file takes seconds.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from vitalflow.contract import REQUIRED_COLUMNS

_CHUNK = 1_000_000


@dataclass(frozen=True)
class GeneratorOptions:
    rows: int
    seed: int = 7
    users: int | None = None  # default: one per ~2,000 readings, at least 8
    start: datetime = datetime(2026, 11, 20, tzinfo=timezone.utc)
    invalid_rate: float = 0.01  # share of rows made invalid on purpose
    abnormal_users: float = 0.25  # share of users with an abnormal episode


def generate(options: GeneratorOptions, out: Path) -> Path:
    """Write the batch to ``out`` as UTF-8 CSV with a header."""
    rng = np.random.default_rng(options.seed)
    users = options.users or max(8, options.rows // 2000)
    profile = _profiles(rng, users, options.abnormal_users)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as fh:
        fh.write((",".join(REQUIRED_COLUMNS) + "\n").encode())
        for begin in range(0, options.rows, _CHUNK):
            n = min(_CHUNK, options.rows - begin)
            fh.write(_chunk(rng, begin, n, options, profile))
    return out


def _profiles(rng: np.random.Generator, users: int, abnormal_share: float) -> dict[str, np.ndarray]:
    kinds = rng.choice(4, size=users)  # which abnormal episode a user may have
    abnormal = rng.random(users) < abnormal_share
    return {
        "ids": np.array([f"user-{i:05d}" for i in range(users)]),
        "hr": rng.normal(74, 5, users),
        "sys": rng.normal(118, 10, users),
        "dia": rng.normal(77, 6, users),
        "kind": np.where(abnormal, kinds, -1),
    }


def _chunk(
    rng: np.random.Generator, begin: int, n: int, options: GeneratorOptions, profile: dict[str, np.ndarray]
) -> bytes:
    users = len(profile["ids"])
    user = rng.integers(0, users, n)
    # A day's readings (an hour for small batches) from ``start``, strictly increasing so no reading
    # repeats by chance. A batch never reaches into the future of a start that is yesterday or earlier.
    span_us = max(3_600_000_000, 86_400_000_000 * min(options.rows, 100_000) // 100_000)
    step = span_us / options.rows
    micros = np.floor((np.arange(begin, begin + n) + rng.random(n) * 0.5) * step).astype(np.int64)
    seconds = micros // 1_000_000
    hour = (seconds // 3600 + options.start.hour) % 24
    awake = ((hour >= 7) & (hour < 23)).astype(float)
    kind = profile["kind"][user]
    episode = (np.sin(seconds / 5400.0 + user) > 0.6) & (kind >= 0)
    hr = profile["hr"][user] + 10 * awake + rng.normal(0, 4, n)
    hr = np.where(episode & (kind == 0), hr + 85, hr)  # tachycardia
    spo2 = np.clip(rng.normal(97.5, 1.2, n), 90, 100)
    spo2 = np.where(episode & (kind == 1), rng.normal(87, 2.5, n), spo2)  # desaturation
    temp = rng.normal(36.7, 0.25, n)
    temp = np.where(episode & (kind == 2), rng.normal(38.9, 0.4, n), temp)  # fever
    sys = profile["sys"][user] + 6 * awake + rng.normal(0, 6, n)
    dia = profile["dia"][user] + 3 * awake + rng.normal(0, 4, n)
    hypertensive = episode & (kind == 3)
    sys = np.where(hypertensive, sys + 40, sys)
    dia = np.where(hypertensive, dia + 18, dia)
    steps = np.where(awake > 0, rng.poisson(55, n), rng.poisson(2, n))
    base = np.datetime64(options.start.replace(tzinfo=None), "us")
    unit = "s" if step >= 1_000_000 else "ms" if step >= 1000 else "us"
    times = (base + micros.astype("timedelta64[us]")).astype(f"datetime64[{unit}]").astype(str)
    columns = {
        "event_time": np.char.add(times, "Z"),
        "user_id": profile["ids"][user],
        "heart_rate": np.round(np.clip(hr, 35, 230)).astype(np.int64).astype(str),
        "spo2": np.round(np.clip(spo2, 70, 100)).astype(np.int64).astype(str),
        "steps": steps.astype(str),
        "temp_c": np.char.mod("%.1f", np.clip(temp, 34.5, 42.0)),
        "systolic_bp": np.round(np.clip(sys, 80, 230)).astype(np.int64).astype(str),
        "diastolic_bp": np.round(np.clip(np.minimum(dia, sys - 15), 45, 140)).astype(np.int64).astype(str),
    }
    malformed = _inject_invalid(rng, columns, n, options.invalid_rate)
    table = pa.table({k: pa.array(v, type=pa.string()) for k, v in columns.items()})
    buf = io.BytesIO()
    pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=False, quoting_style="none"))
    data = buf.getvalue()
    if not malformed.size:
        return data
    lines = data.split(b"\n")
    for i in malformed:
        lines[i] = lines[i].rsplit(b",", 2)[0]  # a truncated line: two fields short
    return b"\n".join(lines)


def _inject_invalid(
    rng: np.random.Generator, columns: dict[str, np.ndarray], n: int, rate: float
) -> np.ndarray:
    """Turn a share of rows invalid in the ways real exports are; return rows to truncate."""
    bad = np.flatnonzero(rng.random(n) < rate)
    kinds = rng.integers(0, 9, len(bad))
    for row, kind in zip(bad, kinds):
        if kind == 0:
            columns["heart_rate"][row] = ""
        elif kind == 1:
            columns["spo2"][row] = str(rng.choice([0, 101, 140, 12]))
        elif kind == 2:
            columns["temp_c"][row] = rng.choice(["98.6", "n/a", "NaN", "-"])
        elif kind == 3:
            columns["event_time"][row] = rng.choice(["2026-13-01T00:00:00Z", "yesterday", "20/11/2026 08:00"])
        elif kind == 4:
            columns["user_id"][row] = rng.choice(["", "user 17", "x" * 80])
        elif kind == 5:
            columns["diastolic_bp"][row] = str(int(columns["systolic_bp"][row]) + 5)
        elif kind == 6 and row > 0:  # a re-sent reading
            for name in columns:
                columns[name][row] = columns[name][row - 1]
        elif kind == 7:
            columns["steps"][row] = rng.choice(["-5", "12.5", "lots"])
    return bad[kinds == 8]


def default_start() -> datetime:
    """Start of yesterday (UTC): demo batches look recent."""
    today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=1)
