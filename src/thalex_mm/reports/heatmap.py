"""A sweep as an HTML heatmap: one offline page, plain HTML and CSS (no script).

Rows are the values of the grid's first parameter, columns those of the second (one row when
the grid has a single parameter). A cell shows the ranking metric of that pair of values; with
more parameters, the best value over the others (their values are named in the cell's
tooltip). Colour runs from red (worst) to green (best) in the metric's natural direction, so
the good region of the grid stands out at a glance; cells without a value are grey.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from html import escape
from typing import Any

__all__ = ["sweep_heatmap_html"]

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px;color:#222}
table{border-collapse:collapse;font-size:13px}th,td{padding:6px 10px;border:1px solid #fff}
th{background:#f0f0f0}td{text-align:right;font-family:ui-monospace,Menlo,Consolas,monospace}
td.na{background:#ddd;color:#777}.muted{color:#777}
"""


def _label(v: object) -> str:
    return v if isinstance(v, str) else json.dumps(v)


def _score(value: float, direction: str) -> float:
    """Bigger = better, whatever the metric's direction."""
    if direction == "lower":
        return -value
    if direction == "abs_lower":
        return -abs(value)
    return value


def _colour(t: float) -> str:
    """0 = worst (red) .. 1 = best (green), via pale yellow."""
    t = min(1.0, max(0.0, t))
    if t < 0.5:
        r, g, b = 230, int(120 + 200 * t), 110
    else:
        r, g, b = int(230 - 300 * (t - 0.5)), 200, int(110 + 20 * (t - 0.5))
    return f"rgb({r},{g},{b})"


def sweep_heatmap_html(results: Sequence[dict[str, Any]], metric: str, direction: str,
                       *, title: str = "Parameter sweep") -> str:
    """The heatmap page.

    Args:
        results: ``{"params": {key: value}, "summary": {...}}`` per grid point.
        metric: the summary key shown.
        direction: ``higher``, ``lower`` or ``abs_lower`` (what "best" means).
        title: the heading.
    """
    keys = list(results[0]["params"]) if results else []
    row_key = keys[0] if keys else None
    col_key = keys[1] if len(keys) > 1 else None
    rows: list[object] = []
    cols: list[object] = []
    cells: dict[tuple[str, str], tuple[float, dict[str, object]]] = {}
    for r in results:
        p = r["params"]
        rv = p.get(row_key) if row_key else ""
        cv = p.get(col_key) if col_key else ""
        if rv not in rows:
            rows.append(rv)
        if cv not in cols:
            cols.append(cv)
        v = r["summary"].get(metric)
        if not isinstance(v, int | float) or not math.isfinite(v):
            continue
        slot = (_label(rv), _label(cv))
        if slot not in cells or _score(v, direction) > _score(cells[slot][0], direction):
            cells[slot] = (float(v), p)
    scores = [_score(v, direction) for v, _ in cells.values()]
    lo, hi = (min(scores), max(scores)) if scores else (0.0, 0.0)
    head = f"<th>{escape(row_key or '')} \\ {escape(col_key or metric)}</th>" + "".join(
        f"<th>{escape(_label(c))}</th>" for c in cols)
    body = []
    for rv in rows:
        tds = []
        for cv in cols:
            got = cells.get((_label(rv), _label(cv)))
            if got is None:
                tds.append('<td class="na">n/a</td>')
                continue
            value, params = got
            t = 0.5 if hi == lo else (_score(value, direction) - lo) / (hi - lo)
            tip = ", ".join(f"{k}={_label(x)}" for k, x in params.items())
            tds.append(f'<td style="background:{_colour(t)}" title="{escape(tip)}">{value:.6g}</td>')
        body.append(f"<tr><th>{escape(_label(rv))}</th>{''.join(tds)}</tr>")
    others = keys[2:]
    note = (f" Cells show the best over {', '.join(others)} (hover for the values)." if others
            else "")
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f"<p>{escape(metric)} ({'higher' if direction == 'higher' else 'closer to 0' if direction == 'abs_lower' else 'lower'} "
        f"is better; green = best, red = worst) over {len(results)} runs.{escape(note)}</p>",
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>",
        "</body></html>\n",
    ])
