"""The hourly trend as a PNG: mail clients run no scripts, so the chart is an image attached inline.

Drawn on a bare ``Figure`` with its own Agg canvas inside ``rc_context``: no pyplot, no backend
switch, no rcParams left changed, so one batch's chart cannot affect the next (or the host program).
The PNG carries no version or date metadata, so the same data gives the same bytes.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from vitalflow.models import HourlyPoint

if TYPE_CHECKING:
    from matplotlib.figure import Figure

INK, MUTED, GRID = "#1f2937", "#6b7280", "#e5e7eb"
NORMAL, ANOMALOUS, BASELINE = "#93c5fd", "#dc2626", "#4b5563"
WIDTH_IN, HEIGHT_IN, DPI = 6.4, 3.2, 200  # 1280 x 640 px, shown at half size for sharp HiDPI screens
DISPLAY_WIDTH = 592  # px in the email's 640 px column
MAX_HOURLY_BINS = 96  # beyond four days of hours the bars get too thin to read: bin by day instead
RC = {
    "font.family": "DejaVu Sans",  # ships with matplotlib: same glyphs on every machine
    "font.size": 8,
    "axes.edgecolor": GRID,
    "axes.labelcolor": INK,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.unicode_minus": False,
}


@dataclass(frozen=True)
class Chart:
    png: bytes
    width: int  # display size in CSS pixels (the image itself is twice as large)
    height: int
    alt: str  # what the chart shows, for readers whose client blocks images


@dataclass(frozen=True)
class Bin:
    start: datetime
    readings: int
    anomalies: int

    @property
    def rate(self) -> float:
        return self.anomalies / self.readings if self.readings else math.nan


def bins(points: Sequence[HourlyPoint]) -> tuple[list[Bin], timedelta]:
    """Contiguous bins over the batch's span, empty hours included, so gaps show as gaps."""
    if not points:
        return [], timedelta(hours=1)
    first = min(p.hour for p in points)
    last = max(p.hour for p in points)
    step = timedelta(hours=1) if (last - first) / timedelta(hours=1) < MAX_HOURLY_BINS else timedelta(days=1)
    origin = _floor(first, step)
    totals: dict[datetime, list[int]] = {}
    for p in points:
        cell = totals.setdefault(_floor(p.hour, step), [0, 0])
        cell[0] += p.readings
        cell[1] += p.anomalies
    out: list[Bin] = []
    t = origin
    while t <= last:
        readings, anomalies = totals.get(t, (0, 0))
        out.append(Bin(t, readings, anomalies))
        t += step
    return out, step


def hourly_chart(points: Sequence[HourlyPoint], *, baseline: float | None = None) -> Chart:
    """Readings per hour with the anomalous share in red, and the hourly anomaly rate below.

    ``baseline`` is the anomaly rate of previous batches, drawn as a reference line so the reader
    sees at a glance whether this batch is unusual.
    """
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    series, step = bins(points)
    with matplotlib.rc_context(RC):
        figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, layout="constrained")
        FigureCanvasAgg(figure)
        if series:
            _draw(figure, series, step, baseline)
        else:
            ax = figure.subplots()
            ax.set_axis_off()
            ax.text(0.5, 0.5, "No processed readings in this batch", ha="center", va="center", color=MUTED)
        buf = io.BytesIO()
        figure.savefig(buf, format="png", metadata={"Software": None})
    height = round(DISPLAY_WIDTH * HEIGHT_IN / WIDTH_IN)
    return Chart(buf.getvalue(), DISPLAY_WIDTH, height, describe(series, step, baseline))


def _draw(figure: Figure, series: list[Bin], step: timedelta, baseline: float | None) -> None:
    import matplotlib.dates as mdates
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    x = mdates.date2num([b.start + step / 2 for b in series])
    width = 0.8 * step / timedelta(days=1)
    normal = [b.readings - b.anomalies for b in series]
    anomalous = [b.anomalies for b in series]
    top.bar(x, normal, width=width, color=NORMAL, linewidth=0, label="normal readings")
    top.bar(x, anomalous, width=width, bottom=normal, color=ANOMALOUS, linewidth=0, label="anomalous readings")
    unit = "hour" if step == timedelta(hours=1) else "day"
    top.set_ylabel(f"readings per {unit}")
    top.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
    top.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    top.legend(loc="upper left", bbox_to_anchor=(0, 1.18), ncols=2, frameon=False)

    rates = [100 * b.rate for b in series]
    bottom.plot(x, rates, color=ANOMALOUS, linewidth=1.4, marker="o" if len(series) <= 48 else None,
                markersize=2.5, label="anomaly rate")
    peak = max((r for r in rates if not math.isnan(r)), default=0.0)
    if baseline is not None:
        bottom.axhline(100 * baseline, color=BASELINE, linewidth=1, linestyle=(0, (4, 3)))
        bottom.annotate(
            f"previous batches {100 * baseline:.1f}%",
            xy=(1, 100 * baseline),
            xycoords=("axes fraction", "data"),
            xytext=(0, 3),
            textcoords="offset points",
            ha="right",
            va="bottom",
            color=BASELINE,
            fontsize=7,
        )
        peak = max(peak, 100 * baseline)
    bottom.set_ylim(0, max(peak * 1.25, 1.0))
    bottom.set_ylabel("anomalous %")
    bottom.yaxis.set_major_locator(MaxNLocator(nbins=3))
    bottom.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}%"))

    for ax in (top, bottom):
        ax.grid(axis="y", color=GRID, linewidth=0.8)
        ax.set_axisbelow(True)
        ax.tick_params(length=0)
    shown = max(len(series), 6)  # a batch of one or two hours still gets a readable time axis
    pad = step * ((shown - len(series)) / 2 + 0.6)
    bottom.set_xlim(
        mdates.date2num(series[0].start - pad + step / 2), mdates.date2num(series[-1].start + pad + step / 2)
    )
    locator: mdates.DateLocator
    if step == timedelta(hours=1):
        every = next(k for k in (1, 2, 3, 4, 6, 12, 24) if shown / k <= 8)
        locator = mdates.HourLocator(byhour=range(0, 24, every), tz=timezone.utc)
    else:
        locator = mdates.AutoDateLocator(minticks=3, maxticks=8, tz=timezone.utc)
    bottom.xaxis.set_major_locator(locator)
    bottom.xaxis.set_major_formatter(mdates.ConciseDateFormatter(
            locator, tz=timezone.utc, show_offset=False, zero_formats=["", "%Y", "%b", "%d %b", "%H:%M", "%H:%M"]
        ))
    first, last = series[0].start, series[-1].start
    span = f"{first:%d %b %Y}" + (f" to {last:%d %b %Y}" if last.date() != first.date() else "")
    bottom.set_xlabel(f"{span} (UTC)", color=MUTED, fontsize=7, loc="right")

def describe(series: list[Bin], step: timedelta, baseline: float | None) -> str:
    """The chart in one sentence: the alt text, and what a reader without images gets."""
    if not series:
        return "No processed readings in this batch."
    unit = "hour" if step == timedelta(hours=1) else "day"
    busiest = max(series, key=lambda b: (b.anomalies, b.readings))
    fmt = "%Y-%m-%d %H:00" if unit == "hour" else "%Y-%m-%d"
    text = f"Readings per {unit} over {len(series)} {unit}s (UTC)"
    if busiest.anomalies:
        text += (
            f"; most anomalies in the {unit} from {busiest.start:{fmt}}: "
            f"{busiest.anomalies:,} of {busiest.readings:,} readings"
        )
    else:
        text += "; no anomalous readings"
    if baseline is not None:
        text += f"; previous batches averaged {100 * baseline:.1f}% anomalous"
    return text + "."


def _floor(moment: datetime, step: timedelta) -> datetime:
    if step >= timedelta(days=1):
        return moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return moment.replace(minute=0, second=0, microsecond=0)
