"""Zoomable report charts: uPlot (vendored from npm) fed with JSON, all inlined into the page.

A chart is a :class:`Chart`: one shared time axis (seconds since the Unix epoch, shown in
UTC), line, step or point series, and the run's timeline drawn as dashed vertical markers.
:func:`chart_html` writes the placeholder and its data; :func:`inline_assets` the uPlot
library, its stylesheet and ``charts.js`` (which builds every chart on load, syncs zoom and
cursor across charts, and exposes them as ``window.thalexCharts``). Nothing is fetched: the
report stays one offline file.

Series longer than ``max_points`` are downsampled keeping each bucket's minimum and maximum
(``reports.downsample.downsample_minmax``), so spikes survive and a day of data stays a few hundred kB.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from html import escape
from importlib import resources
from typing import Any

import numpy as np

from thalex_mm.reports.timeline import KIND_COLORS, TimelineEvent

__all__ = ["Chart", "Series", "chart_html", "inline_assets", "merge_on_time", "timeline_marks"]

_NS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class Series:
    """One series on a chart's shared x. ``values`` align with the chart's ``x``; None/NaN =
    no value there. ``step``: hold each value until the next; ``points``: markers only."""

    label: str
    values: Sequence[float | None]
    color: str
    step: bool = False
    points: bool = False
    dash: tuple[int, ...] = ()
    width: float = 1.5
    fill: str | None = None


@dataclass(frozen=True, slots=True)
class Chart:
    """A chart: ``x`` in seconds since the epoch (UTC) unless ``x_label`` names another axis;
    ``y_label`` names the unit."""

    id: str
    title: str
    y_label: str
    x: Sequence[float]
    series: Sequence[Series]
    marks: Sequence[tuple[float, str, str]] = field(default_factory=tuple)
    height: int = 260
    x_label: str | None = None
    """None: a UTC time axis (``x`` in seconds since the epoch); else a plain axis so named."""


def _clean(values: Sequence[float | None]) -> list[float | None]:
    out: list[float | None] = []
    for v in values:
        if v is None:
            out.append(None)
            continue
        f = float(v)
        out.append(round(f, 10) if math.isfinite(f) else None)
    return out


def chart_html(chart: Chart) -> str:
    """The chart's figure, its placeholder and its data (a JSON ``<script>`` block)."""
    data: dict[str, Any] = {
        "id": chart.id,
        "y_label": chart.y_label,
        "height": chart.height,
        "x": [round(float(t), 6) for t in chart.x],
        "series": [
            {"label": s.label, "values": _clean(s.values), "color": s.color, "step": s.step,
             "points": s.points, "dash": list(s.dash) or None, "width": s.width,
             "fill": s.fill}
            for s in chart.series
        ],
        "marks": [[round(t, 6), c, lbl] for t, c, lbl in chart.marks],
        "x_label": chart.x_label,
    }
    text = json.dumps(data, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
    empty = "" if len(chart.x) else '<p class="muted">no data</p>'
    return (f'<figure class="chart"><figcaption>{escape(chart.title)}</figcaption>{empty}'
            f'<div class="plot" id="plot-{escape(chart.id)}"></div>'
            f'<script type="application/json" data-chart="{escape(chart.id)}">{text}</script>'
            "</figure>")


@cache
def _asset(package: str, name: str) -> str:
    return (resources.files(package) / name).read_text(encoding="utf-8")


def inline_assets() -> str:
    """uPlot's CSS and JS and ``charts.js``, inline (once per page)."""
    css = _asset("thalex_mm.monitoring", "static/uplot.min.css")
    lib = _asset("thalex_mm.monitoring", "static/uplot.iife.min.js")
    own = _asset("thalex_mm.reports", "charts.js")
    return (f"<style>{css}</style>\n<script>/* uPlot 1.6.32, MIT licence (c) Leon Sorokin */\n"
            f"{lib}</script>\n<script>{own}</script>")


def timeline_marks(events: Sequence[TimelineEvent], limit: int = 200) -> list[tuple[float, str, str]]:
    """Chart markers ``(t_s, colour, label)`` for the timeline (the first ``limit``)."""
    return [(e.ts_ns / _NS, KIND_COLORS.get(e.kind, "#555555"), e.kind) for e in events[:limit]]


def merge_on_time(
    xs: Sequence[np.ndarray],
) -> np.ndarray:
    """The sorted union of several int64 ns time arrays (the shared x of one chart)."""
    parts = [np.asarray(x, dtype=np.int64) for x in xs if len(x)]
    if not parts:
        return np.zeros(0, dtype=np.int64)
    return np.unique(np.concatenate(parts))
