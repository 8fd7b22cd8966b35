"""Tiny inline-SVG charts (no JavaScript, no external resources), used by the walk-forward
evaluation report. Run reports use the zoomable uPlot charts of ``reports.charts`` instead.

Charts are plain strings of ``<svg>`` markup: :func:`line_chart` (lines, optional step
rendering, NaN = gap, triangle markers) and :func:`bar_chart`. Long series should first go
through :func:`downsample_minmax`, which keeps each bucket's minimum and maximum so spikes
survive.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

import numpy as np

from thalex_mm.reports.downsample import downsample_minmax

__all__ = [
    "Bars",
    "Markers",
    "Series",
    "bar_chart",
    "downsample_minmax",
    "line_chart",
    "nice_ticks",
]

_W, _H = 920, 320
_ML, _MR, _MT, _MB = 78, 150, 30, 46  # margins: left (y labels), right (legend), top, bottom


@dataclass(frozen=True, slots=True, kw_only=True)
class Series:
    """One line: ``x``/``y`` float arrays (NaN in ``y`` breaks the line)."""

    x: np.ndarray
    y: np.ndarray
    label: str
    color: str
    dash: str = ""
    step: bool = False
    width: float = 1.4


@dataclass(frozen=True, slots=True, kw_only=True)
class Markers:
    """Triangle markers (``shape`` ``"up"`` or ``"down"``) at ``x``/``y``."""

    x: np.ndarray
    y: np.ndarray
    label: str
    color: str
    shape: str = "up"


@dataclass(frozen=True, slots=True, kw_only=True)
class Bars:
    """Bar values (``None`` = no data, drawn as "n/a") with category labels."""

    labels: Sequence[str]
    values: Sequence[float | None]


def nice_ticks(lo: float, hi: float, target: int = 5) -> list[float]:
    """About ``target`` round tick values (1, 2, 5 · 10^k steps) covering ``[lo, hi]``."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return []
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / max(1, target)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    ticks = []
    v = first
    while v <= hi + step * 1e-9 and len(ticks) < 50:
        ticks.append(0.0 if abs(v) < step * 1e-9 else v)
        v = first + step * len(ticks)
    return ticks


def _fmt_tick(v: float) -> str:
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1e6 or a < 1e-3:
        return f"{v:.3g}"
    return f"{v:.6g}"


def _c(v: float) -> str:
    return f"{v:.1f}"


def _frame(title: str, x_label: str, y_label: str) -> list[str]:
    return [
        f'<svg width="{_W}" height="{_H}" '
        f'viewBox="0 0 {_W} {_H}" role="img" aria-label="{escape(title)}">',
        f'<rect x="0" y="0" width="{_W}" height="{_H}" fill="#ffffff"/>',
        f'<text x="{_ML}" y="18" font-size="14" font-weight="bold">{escape(title)}</text>',
        f'<text x="{_ML + (_W - _ML - _MR) / 2:.0f}" y="{_H - 8}" font-size="12" '
        f'text-anchor="middle">{escape(x_label)}</text>',
        f'<text x="14" y="{_MT + (_H - _MT - _MB) / 2:.0f}" font-size="12" text-anchor="middle" '
        f'transform="rotate(-90 14 {_MT + (_H - _MT - _MB) / 2:.0f})">{escape(y_label)}</text>',
    ]


def _axes(out: list[str], x0: float, x1: float, y0: float, y1: float) -> None:
    left, right, top, bottom = _ML, _W - _MR, _MT, _H - _MB
    out.append(
        f'<rect x="{left}" y="{top}" width="{right - left}" height="{bottom - top}" '
        'fill="none" stroke="#888"/>'
    )
    for t in nice_ticks(y0, y1):
        py = bottom - (t - y0) / (y1 - y0) * (bottom - top)
        out.append(f'<line x1="{left}" x2="{right}" y1="{_c(py)}" y2="{_c(py)}" stroke="#eee"/>')
        out.append(
            f'<text x="{left - 4}" y="{_c(py + 4)}" font-size="11" text-anchor="end">'
            f"{_fmt_tick(t)}</text>"
        )
    for t in nice_ticks(x0, x1, 8):
        px = left + (t - x0) / (x1 - x0) * (right - left)
        out.append(f'<line x1="{_c(px)}" x2="{_c(px)}" y1="{top}" y2="{bottom}" stroke="#eee"/>')
        out.append(
            f'<text x="{_c(px)}" y="{bottom + 16}" font-size="11" text-anchor="middle">'
            f"{_fmt_tick(t)}</text>"
        )


def _range(values: list[np.ndarray]) -> tuple[float, float] | None:
    finite = [v[np.isfinite(v)] for v in values if len(v)]
    finite = [v for v in finite if len(v)]
    if not finite:
        return None
    lo = min(float(v.min()) for v in finite)
    hi = max(float(v.max()) for v in finite)
    if hi <= lo:
        pad = abs(lo) * 0.01 or 1.0
        return lo - pad, hi + pad
    pad = (hi - lo) * 0.05
    return lo - pad, hi + pad


def _no_data(out: list[str]) -> str:
    out.append(
        f'<text x="{_ML + (_W - _ML - _MR) / 2:.0f}" y="{_H / 2:.0f}" font-size="14" '
        'text-anchor="middle" fill="#888">no data</text></svg>'
    )
    return "\n".join(out)


def _legend(out: list[str], items: list[tuple[str, str, str]]) -> None:
    x = _W - _MR + 12
    for i, (label, color, kind) in enumerate(items):
        y = _MT + 12 + 18 * i
        if kind == "line":
            out.append(
                f'<line x1="{x}" x2="{x + 18}" y1="{y - 4}" y2="{y - 4}" stroke="{color}" '
                'stroke-width="2"/>'
            )
        else:
            out.append(f'<rect x="{x + 4}" y="{y - 10}" width="10" height="10" fill="{color}"/>')
        out.append(f'<text x="{x + 24}" y="{y}" font-size="11">{escape(label)}</text>')


def line_chart(
    *,
    title: str,
    x_label: str,
    y_label: str,
    series: Sequence[Series],
    markers: Sequence[Markers] = (),
) -> str:
    """An SVG line chart (axes with round ticks, legend on the right).

    Returns:
        ``<svg ...>...</svg>`` markup; a "no data" chart when nothing is finite.
    """
    out = _frame(title, x_label, y_label)
    xr = _range([s.x for s in series] + [m.x for m in markers])
    yr = _range([s.y for s in series] + [m.y for m in markers])
    if xr is None or yr is None:
        return _no_data(out)
    xs = [s.x[np.isfinite(s.x)] for s in series if len(s.x)] + [m.x for m in markers if len(m.x)]
    x0 = min(float(v.min()) for v in xs if len(v))
    x1 = max(float(v.max()) for v in xs if len(v))
    if x1 <= x0:
        x0, x1 = x0 - 0.5, x1 + 0.5
    y0, y1 = yr
    _axes(out, x0, x1, y0, y1)
    left, right, top, bottom = _ML, _W - _MR, _MT, _H - _MB
    sx = (right - left) / (x1 - x0)
    sy = (bottom - top) / (y1 - y0)
    for s in series:
        px = left + (np.asarray(s.x, dtype=np.float64) - x0) * sx
        py = bottom - (np.asarray(s.y, dtype=np.float64) - y0) * sy
        parts: list[str] = []
        pen_up = True
        prev_y = math.nan
        for xv, yv in zip(px.tolist(), py.tolist(), strict=True):
            if not math.isfinite(yv):
                pen_up = True
                continue
            if pen_up:
                parts.append(f"M{_c(xv)} {_c(yv)}")
                pen_up = False
            elif s.step:
                parts.append(f"H{_c(xv)}V{_c(yv)}" if yv != prev_y else f"H{_c(xv)}")
            else:
                parts.append(f"L{_c(xv)} {_c(yv)}")
            prev_y = yv
        if parts:
            dash = f' stroke-dasharray="{s.dash}"' if s.dash else ""
            out.append(
                f'<path d="{"".join(parts)}" fill="none" stroke="{s.color}" '
                f'stroke-width="{s.width}"{dash}/>'
            )
    for m in markers:
        px = left + (np.asarray(m.x, dtype=np.float64) - x0) * sx
        py = bottom - (np.asarray(m.y, dtype=np.float64) - y0) * sy
        d = []
        for xv, yv in zip(px.tolist(), py.tolist(), strict=True):
            if not (math.isfinite(xv) and math.isfinite(yv)):
                continue
            tip, base = (yv - 4, yv + 2) if m.shape == "up" else (yv + 4, yv - 2)
            d.append(f"M{_c(xv)} {_c(tip)}L{_c(xv - 3)} {_c(base)}L{_c(xv + 3)} {_c(base)}Z")
        if d:
            out.append(f'<path d="{"".join(d)}" fill="{m.color}" fill-opacity="0.7"/>')
    _legend(
        out,
        [(s.label, s.color, "line") for s in series]
        + [(m.label, m.color, "marker") for m in markers],
    )
    out.append("</svg>")
    return "\n".join(out)


def bar_chart(*, title: str, x_label: str, y_label: str, bars: Bars) -> str:
    """An SVG bar chart around zero (positive bars green, negative red, None = "n/a")."""
    out = _frame(title, x_label, y_label)
    vals = [v for v in bars.values if v is not None and math.isfinite(v)]
    if not bars.labels:
        return _no_data(out)
    lo = min([0.0, *vals])
    hi = max([0.0, *vals])
    if hi <= lo:
        hi = lo + 1.0
    pad = (hi - lo) * 0.1
    y0, y1 = lo - (pad if lo < 0 else 0.0), hi + (pad if hi > 0 else 0.0)
    left, right, top, bottom = _ML, _W - _MR, _MT, _H - _MB
    out.append(
        f'<rect x="{left}" y="{top}" width="{right - left}" height="{bottom - top}" '
        'fill="none" stroke="#888"/>'
    )
    sy = (bottom - top) / (y1 - y0)
    for t in nice_ticks(y0, y1):
        py = bottom - (t - y0) * sy
        out.append(f'<line x1="{left}" x2="{right}" y1="{_c(py)}" y2="{_c(py)}" stroke="#eee"/>')
        out.append(
            f'<text x="{left - 4}" y="{_c(py + 4)}" font-size="11" text-anchor="end">'
            f"{_fmt_tick(t)}</text>"
        )
    zero = bottom - (0.0 - y0) * sy
    out.append(f'<line x1="{left}" x2="{right}" y1="{_c(zero)}" y2="{_c(zero)}" stroke="#444"/>')
    slot = (right - left) / len(bars.labels)
    for i, (label, v) in enumerate(zip(bars.labels, bars.values, strict=True)):
        cx = left + slot * (i + 0.5)
        out.append(
            f'<text x="{_c(cx)}" y="{bottom + 16}" font-size="11" text-anchor="middle">'
            f"{escape(label)}</text>"
        )
        if v is None or not math.isfinite(v):
            out.append(
                f'<text x="{_c(cx)}" y="{_c(zero - 6)}" font-size="11" text-anchor="middle" '
                'fill="#888">n/a</text>'
            )
            continue
        py = bottom - (v - y0) * sy
        y_top, h = min(py, zero), abs(zero - py)
        color = "#2a9d4b" if v >= 0 else "#c0392b"
        out.append(
            f'<rect x="{_c(cx - slot * 0.3)}" y="{_c(y_top)}" width="{_c(slot * 0.6)}" '
            f'height="{_c(max(h, 0.5))}" fill="{color}"/>'
        )
        ty = y_top - 4 if v >= 0 else y_top + h + 12
        out.append(
            f'<text x="{_c(cx)}" y="{_c(ty)}" font-size="11" text-anchor="middle">'
            f"{_fmt_tick(v)}</text>"
        )
    out.append("</svg>")
    return "\n".join(out)
