"""Keep a batch record small whatever the batch: a DynamoDB item holds at most 400 KB.

The hourly series grows with the time a batch spans (eight months of hours is 5,800 points) and
the manifest's file lists with its partitions. Both are bounded here, before the analyst is asked,
so the prompt is bounded too and nothing is paid for a record that could not be stored:

* the trend keeps at most ``MAX_POINTS`` points, coarsened from hours to days, weeks or 30-day
  periods as the span needs (totals are kept exactly: points are sums of the finer ones);
* the manifest copy lists at most ``MAX_FILES`` files per table (the manifest in the lake, which
  readers use, is untouched and complete).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from vitalflow.models import BatchRecord, BatchReport, HourlyPoint, Manifest

MAX_POINTS = 336  # two weeks of hours
MAX_FILES = 50
MAX_RECORD_BYTES = 350_000  # DynamoDB's item limit is 400 KB, keys and summary attributes included
_STEPS = (timedelta(hours=1), timedelta(days=1), timedelta(days=7), timedelta(days=30), timedelta(days=365))
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def bounded_report(report: BatchReport) -> BatchReport:
    if len(report.hourly) <= MAX_POINTS:
        return report
    first, last = min(p.hour for p in report.hourly), max(p.hour for p in report.hourly)
    step = next((s for s in _STEPS if (last - first) / s < MAX_POINTS), _STEPS[-1])
    bins: dict[datetime, list[int]] = {}
    for point in report.hourly:
        start = _EPOCH + ((point.hour - _EPOCH) // step) * step
        cell = bins.setdefault(start, [0, 0])
        cell[0] += point.readings
        cell[1] += point.anomalies
    hourly = [HourlyPoint(hour=h, readings=r, anomalies=a) for h, (r, a) in sorted(bins.items())]
    return report.model_copy(update={"hourly": hourly})


def bounded_manifest(manifest: Manifest) -> Manifest:
    return manifest.model_copy(
        update={
            "processed_files": manifest.processed_files[:MAX_FILES],
            "rejected_files": manifest.rejected_files[:MAX_FILES],
            "partitions": manifest.partitions[: MAX_FILES * 4],
        }
    )


def record_size(record: BatchRecord) -> int:
    return len(record.model_dump_json().encode("utf-8"))
