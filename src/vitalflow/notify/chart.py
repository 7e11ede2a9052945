"""The hourly trend as a PNG: mail clients run no scripts, so the chart is an image attached inline."""

from __future__ import annotations

import io

import matplotlib
import matplotlib.dates

matplotlib.use("Agg")  # no display, ever: this runs in Lambdas and CI

from matplotlib.figure import Figure

from vitalflow.models import HourlyPoint

INK, ACCENT, GRID = "#1f2937", "#dc2626", "#e5e7eb"


def hourly_chart(points: list[HourlyPoint]) -> bytes:
    """Readings per hour as bars, anomalous readings as a red line; empty batches get a note."""
    figure = Figure(figsize=(6.4, 2.6), dpi=110)  # a Figure, not pyplot: no global state between batches
    ax = figure.subplots()
    if points:
        hours = matplotlib.dates.date2num([p.hour for p in points])
        width = 0.8 / 24
        ax.bar(hours, [p.readings for p in points], width=width, color="#93c5fd", label="readings")
        ax.plot(
            hours, [p.anomalies for p in points], color=ACCENT, marker="o", markersize=3, label="anomalies"
        )
        ax.legend(loc="upper left", frameon=False, fontsize=8)
        ax.xaxis_date()
        figure.autofmt_xdate(rotation=0, ha="center")
    else:
        ax.text(
            0.5, 0.5, "no processed readings", ha="center", va="center", color=INK, transform=ax.transAxes
        )
    ax.set_ylabel("per hour (UTC)", fontsize=8, color=INK)
    ax.tick_params(labelsize=7, colors=INK)
    ax.grid(axis="y", color=GRID)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    figure.tight_layout()
    buf = io.BytesIO()
    figure.savefig(buf, format="png")
    return buf.getvalue()
