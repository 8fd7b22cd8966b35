"""The top-level report of a backtest over several sessions: links, summary and plots.

Sessions (separate captures, possibly months apart, each run with a fresh core starting flat
with zero PnL) are laid **end to end in time order** on one axis of *simulated* time, so the
gaps between captures take no room:

* equity is cumulative: each session's mark-to-mid equity curve
  (:func:`thalex_mm.reports.metrics.equity_curve`) is shifted by the final equity of the
  sessions before it, so the last point is the whole backtest's equity;
* inventory is each session's position (contracts) as it was.

Each session is its own line (legend = session label) so the boundaries stay visible.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

import numpy as np

from thalex_mm.reports.charts import Chart, Series, chart_html, inline_assets
from thalex_mm.reports.downsample import downsample_minmax
from thalex_mm.reports.inputs import RunRecord
from thalex_mm.reports.metrics import equity_curve
from thalex_mm.reports.writer import (
    _CSS,
    HTML_NAME,
    MAX_PLOT_POINTS,
    _rows,
    _time_unit,
    position_steps,
)

__all__ = ["PALETTE", "SessionCurves", "concatenated_curves", "on_shared_x", "render_sessions_html"]

#: Series colours, one per session in turn.
PALETTE = ("#1f5fbf", "#c0392b", "#2a9d4b", "#7b3fa0", "#e69500", "#17a2b8", "#555555")


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionCurves:
    """One session's part of the concatenated curves.

    Attributes:
        label: session label.
        offset_s: simulated seconds of the sessions before this one.
        equity_x_s / equity: cumulative equity (quote ccy) at simulated time (s from the
            first session's start, sessions end to end).
        position_x_s / position: position (contracts), a step line, on the same axis.
    """

    label: str
    offset_s: float
    equity_x_s: np.ndarray
    equity: np.ndarray
    position_x_s: np.ndarray
    position: np.ndarray


def concatenated_curves(sessions: Sequence[tuple[str, RunRecord]]) -> list[SessionCurves]:
    """Equity and inventory of several sessions laid end to end in time order.

    Args:
        sessions: ``(label, record)`` per session, any order (sorted by window start).

    Returns:
        One :class:`SessionCurves` per session, in time order.
    """
    ordered = sorted(sessions, key=lambda lr: lr[1].window_ns)
    out: list[SessionCurves] = []
    offset_s = 0.0
    carry = 0.0
    for label, rec in ordered:
        start, end = rec.window_ns
        ts, eq = equity_curve(rec)
        pts, pos = position_steps(rec)
        out.append(SessionCurves(
            label=label, offset_s=offset_s,
            equity_x_s=offset_s + (ts - start) / 1e9, equity=eq + carry,
            position_x_s=offset_s + (pts - start) / 1e9, position=pos,
        ))
        if len(eq):
            carry += float(eq[-1])
        offset_s += (end - start) / 1e9
    return out


def on_shared_x(xs: list[np.ndarray], ys: list[np.ndarray]
                ) -> tuple[np.ndarray, list[list[float | None]]]:
    """One x for all sessions (they lie end to end) and one series per session, None
    outside its own stretch (uPlot draws all series on one x)."""
    x = np.concatenate(xs) if xs else np.zeros(0)
    values: list[list[float | None]] = []
    at = 0
    for sx, sy in zip(xs, ys, strict=True):
        col: list[float | None] = [None] * len(x)
        col[at:at + len(sx)] = [float(v) for v in sy]
        values.append(col)
        at += len(sx)
    return x, values


def _charts(curves: Sequence[SessionCurves]) -> list[Chart]:
    total_s = max((float(c.equity_x_s[-1]) for c in curves if len(c.equity_x_s)), default=0.0)
    scale, unit = _time_unit(total_s)
    x_label = f"simulated time, sessions end to end ({unit})"
    per = max(2, MAX_PLOT_POINTS // max(1, len(curves)))
    charts = []
    for cid, title, y_label, step, get in (
        ("equity", "Equity over all sessions (cumulative, mark-to-mid, after fees and funding)",
         "quote ccy", False, lambda c: (c.equity_x_s, c.equity)),
        ("inventory", "Inventory over all sessions", "contracts", True,
         lambda c: (c.position_x_s, c.position)),
    ):
        xs, ys = [], []
        for c in curves:
            cx, cy = get(c)
            dx, dy = downsample_minmax(cx / scale, cy, per)
            xs.append(dx)
            ys.append(dy)
        x, values = on_shared_x(xs, ys)
        series = [Series(c.label, v, PALETTE[i % len(PALETTE)], step=step)
                  for i, (c, v) in enumerate(zip(curves, values, strict=True))]
        charts.append(Chart(cid, title, y_label, x, series, x_label=x_label))
    return charts


def render_sessions_html(summary: Mapping[str, Any], sessions: Sequence[tuple[str, RunRecord]],
                         *, title: str = "Backtest: all sessions") -> str:
    """The self-contained top-level HTML report of a multi-session run.

    Args:
        summary: the aggregate summary (as written to ``summary.json``).
        sessions: ``(label, record)`` per session; each label is also the folder of that
            session's own report.
        title: the heading.
    """
    curves = concatenated_curves(sessions)
    links = "".join(
        f'<li><a href="{escape(c.label)}/{HTML_NAME}">{escape(c.label)}</a> '
        f"(from {c.offset_s:g} s on the plots' axis)</li>" for c in curves
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title>",
        f"<style>{_CSS}</style>", inline_assets(), "</head><body>",
        f"<h1>{escape(title)}</h1>",
        f"<p>{len(curves)} sessions, each run with a fresh core (flat, zero PnL). "
        f"Per-session reports:</p><ul>{links}</ul>",
    ]
    parts.append('<p class="muted">Drag across a chart to zoom, double-click to reset.</p>')
    parts += [chart_html(c) for c in _charts(curves)]
    parts.append("<h2>Summary</h2>")
    parts.append("<table><thead><tr><th>metric</th><th>value</th><th>unit</th></tr></thead>"
                 "<tbody>")
    parts += [
        f'<tr><td>{escape(k)}</td><td class="v">{escape(v)}</td><td class="u">{escape(u)}</td>'
        "</tr>" for k, v, u in _rows(summary)
    ]
    parts.append("</tbody></table></body></html>\n")
    return "\n".join(parts)
