"""Write a run report: ``summary.json`` (deterministic) and an offline ``report.html``.

``summary.json`` is ``json`` with sorted keys, two-space indent, one key per line, and every
float rounded to 12 significant digits, so the same :class:`RunRecord` gives byte-identical
files except on the lines of the *timing keys* (values from the wall clock, by default
``wall_seconds`` and ``events_per_second``). ``strip_timing=True`` writes those as ``null`` for
fully reproducible files.

``report.html`` is self-contained: inline CSS and inline SVG charts (equity, inventory, quotes
vs mid with our fills, markouts), the summary table and the configuration snapshot; no
script, font, stylesheet or image is fetched, so it opens offline.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from enum import Enum
from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from thalex_mm.reports.inputs import RunRecord
from thalex_mm.reports.metrics import (
    DEFAULT_MARKOUT_HORIZONS_S,
    SHARPE_INTERVAL_S,
    compute_summary,
    equity_curve,
    markout_key,
)
from thalex_mm.reports.svg import Bars, Markers, Series, bar_chart, downsample_minmax, line_chart

__all__ = [
    "HTML_NAME",
    "SUMMARY_NAME",
    "TIMING_KEYS",
    "format_summary_table",
    "position_steps",
    "render_html",
    "stable_json",
    "write_report",
]

SUMMARY_NAME = "summary.json"
HTML_NAME = "report.html"
TIMING_KEYS: tuple[str, ...] = ("wall_seconds", "events_per_second")
MAX_PLOT_POINTS = 2000
MAX_FILL_MARKERS = 1000  # per side

_UNITS = {
    "seconds_simulated": "s",
    "wall_seconds": "s",
    "events_per_second": "1/s",
    "volume": "contracts",
    "notional_volume": "quote",
    "pnl_total": "quote",
    "pnl_realised": "quote",
    "pnl_unrealised": "quote",
    "fees": "quote (+ = cost)",
    "funding": "quote (+ = received)",
    "max_drawdown": "quote",
    "sharpe": "per interval, not annualised (null < 30 intervals)",
    "sharpe_grid_s": "s",
    "final_position": "contracts",
    "max_abs_position": "contracts",
    "time_weighted_abs_position": "contracts",
    "quote_uptime": "fraction",
    "quote_uptime_bid": "fraction",
    "quote_uptime_ask": "fraction",
    "start_ts_ns": "ns",
    "end_ts_ns": "ns",
}
_ORDER = (
    "instrument", "start_ts_ns", "end_ts_ns", "seconds_simulated", "events", "wall_seconds",
    "events_per_second", "pnl_total", "pnl_realised", "pnl_unrealised", "fees", "funding",
    "max_drawdown", "sharpe", "sharpe_grid_s", "fills", "fills_buy", "fills_sell",
    "fills_maker", "volume", "notional_volume", "final_position", "max_abs_position",
    "time_weighted_abs_position", "quote_uptime", "quote_uptime_bid", "quote_uptime_ask",
    "requotes", "rejects",
)  # fmt: skip


def _round(x: float) -> float | None:
    if not math.isfinite(x):
        return None
    r = float(f"{x:.12g}")
    return 0.0 if r == 0 else r


def _jsonable(obj: Any) -> Any:
    """A JSON-ready copy: floats rounded (NaN/inf -> None), enums -> values, others -> str."""
    if obj is None or isinstance(obj, bool | str):
        return obj
    if isinstance(obj, Enum):
        return _jsonable(obj.value)
    if isinstance(obj, int | np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        return _round(float(obj))
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset | np.ndarray):
        items = sorted(obj, key=repr) if isinstance(obj, set | frozenset) else list(obj)
        return [_jsonable(v) for v in items]
    return str(obj)


def stable_json(obj: Any) -> str:
    """Deterministic JSON text: sorted keys, indent 2, floats to 12 significant digits."""
    return json.dumps(_jsonable(obj), sort_keys=True, indent=2, allow_nan=False) + "\n"


def _fmt_value(v: Any) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if v == 0:
            return "0"
        if abs(v) >= 1e6 or abs(v) < 1e-4:
            return f"{v:.6g}"
        return f"{v:,.6f}".rstrip("0").rstrip(".")
    return str(v)


def _iso(ts_ns: int) -> str:
    dt = datetime.fromtimestamp(ts_ns // 1_000_000_000, tz=UTC)
    return dt.strftime("%Y-%m-%d %H:%M:%S UTC")


def _horizon_of(key: str) -> float:
    """``"markout_10s" -> 10.0`` (inf when the key does not parse), for display order."""
    try:
        return float(key.removeprefix("markout_").removesuffix("s"))
    except ValueError:
        return math.inf


def _rows(summary: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(key, formatted value, unit) in display order; nested dicts flattened with a dot."""
    keys = [k for k in _ORDER if k in summary]
    keys += sorted(
        (k for k in summary if k.startswith("markout_") and k not in keys), key=_horizon_of
    )
    keys += sorted(k for k in summary if k not in keys and k != "config")
    rows: list[tuple[str, str, str]] = []
    for k in keys:
        v = summary[k]
        if isinstance(v, Mapping):
            rows.extend((f"{k}.{sk}", _fmt_value(sv), "") for sk, sv in sorted(v.items()))
            continue
        unit = _UNITS.get(k, "quote/contract" if k.startswith("markout_") else "")
        text = _fmt_value(v)
        if k in ("start_ts_ns", "end_ts_ns") and isinstance(v, int):
            text = f"{v} ({_iso(v)})"
        rows.append((k, text, unit))
    return rows


def format_summary_table(summary: Mapping[str, Any]) -> str:
    """The summary as a plain-text, three-column table (metric, value, unit), one per line."""
    rows = [("metric", "value", "unit"), *_rows(summary)]
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    lines = [f"{a:<{w0}}  {b:>{w1}}  {c}".rstrip() for a, b, c in rows]
    lines.insert(1, "-" * (w0 + w1 + 4 + max(len(r[2]) for r in rows)))
    return "\n".join(lines)


def _time_unit(duration_s: float) -> tuple[float, str]:
    if duration_s >= 36_000:
        return 3600.0, "h"
    if duration_s >= 600:
        return 60.0, "min"
    return 1.0, "s"


def _stride(n: int, limit: int) -> slice:
    return slice(None, None, max(1, -(-n // limit)))


def position_steps(record: RunRecord) -> tuple[np.ndarray, np.ndarray]:
    """Position (contracts) as a step line over the window: ``(ts_ns, position)`` at the
    window start, after every fill (clipped into the window) and at the window end."""
    start, end = record.window_ns
    fill_ts = np.clip(record.fill_ts_ns, start, end)
    cum = record.initial_position + np.cumsum(record.fill_side * record.fill_amount)
    pos_ts = np.concatenate(([start], fill_ts, [end])).astype(np.int64)
    pos = np.concatenate(
        ([record.initial_position], cum, [cum[-1] if len(cum) else record.initial_position])
    )
    return pos_ts, pos


def _charts(
    record: RunRecord, summary: Mapping[str, Any], horizons_s: Sequence[float]
) -> list[tuple[str, str]]:
    start, end = record.window_ns
    scale, unit = _time_unit((end - start) / 1e9)

    def tx(ts: np.ndarray) -> np.ndarray:
        return (np.asarray(ts, dtype=np.int64) - start).astype(np.float64) / 1e9 / scale

    x_label = f"time since start ({unit})"
    ts, eq = equity_curve(record)
    ex, ey = downsample_minmax(tx(ts), eq, MAX_PLOT_POINTS)
    equity_svg = line_chart(
        title="Equity (mark-to-mid, after fees and funding)",
        x_label=x_label,
        y_label="equity (quote ccy)",
        series=[Series(x=ex, y=ey, label="equity", color="#1f5fbf")],
    )

    pos_ts, pos = position_steps(record)
    px_, py_ = downsample_minmax(tx(pos_ts), pos, MAX_PLOT_POINTS)
    inventory_svg = line_chart(
        title="Inventory",
        x_label=x_label,
        y_label="position (contracts)",
        series=[Series(x=px_, y=py_, label="position", color="#7b3fa0", step=True)],
    )

    series = []
    if len(record.mid_ts_ns):
        mx, my = downsample_minmax(tx(record.mid_ts_ns), record.mid_price, MAX_PLOT_POINTS)
        series.append(Series(x=mx, y=my, label="mid", color="#333333", width=1.0))
    if len(record.quote_ts_ns):
        qx = tx(np.append(record.quote_ts_ns, max(end, int(record.quote_ts_ns[-1]))))
        for arr, label, color, dash in (
            (record.quote_bid, "our bid", "#2a9d4b", ""),
            (record.quote_ask, "our ask", "#c0392b", ""),
            (record.quote_reservation, "reservation", "#e69500", "4 3"),
        ):
            if not bool(np.any(np.isfinite(arr))):
                continue
            x, y = downsample_minmax(qx, np.append(arr, arr[-1]), MAX_PLOT_POINTS)
            series.append(Series(x=x, y=y, label=label, color=color, dash=dash, step=True))
    markers = []
    for sign, label, color, shape in (
        (1, "buy fill", "#0b7a2a", "up"),
        (-1, "sell fill", "#a01010", "down"),
    ):
        sel = record.fill_side == sign
        fx, fy = record.fill_ts_ns[sel], record.fill_price[sel]
        st = _stride(len(fx), MAX_FILL_MARKERS)
        if len(fx):
            markers.append(Markers(x=tx(fx[st]), y=fy[st], label=label, color=color, shape=shape))
    quotes_svg = line_chart(
        title="Quotes vs mid, with our fills",
        x_label=x_label,
        y_label="price (quote ccy)",
        series=series,
        markers=markers,
    )

    labels = [f"{h:g} s" for h in horizons_s]
    values = [summary.get(markout_key(h)) for h in horizons_s]
    markout_svg = bar_chart(
        title="Markout per horizon (amount-weighted, + = good for us)",
        x_label="horizon after fill",
        y_label="markout (quote ccy / contract)",
        bars=Bars(labels=labels, values=values),
    )
    return [
        ("equity", equity_svg),
        ("inventory", inventory_svg),
        ("quotes", quotes_svg),
        ("markouts", markout_svg),
    ]


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px;
color:#222;max-width:980px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}
table{border-collapse:collapse;font-size:13px}
td,th{padding:3px 10px;border-bottom:1px solid #e4e4e4;text-align:left}
td.v{text-align:right;font-family:ui-monospace,Menlo,Consolas,monospace}
td.u{color:#777}
pre{background:#f6f6f6;padding:10px;font-size:12px;overflow:auto}
figure{margin:8px 0}
"""


def render_html(
    record: RunRecord,
    summary: Mapping[str, Any],
    *,
    markout_horizons_s: Sequence[float] = DEFAULT_MARKOUT_HORIZONS_S,
    title: str | None = None,
) -> str:
    """The self-contained HTML report (no external resources) as a string."""
    start, end = record.window_ns
    heading = title or f"Run report: {record.instrument or 'unknown instrument'}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(heading)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{escape(heading)}</h1>",
        f"<p>Window {escape(_iso(start))} to {escape(_iso(end))} "
        f"({_fmt_value(summary.get('seconds_simulated'))} s simulated). Prices and PnL in "
        "quote currency; amounts in contracts.</p>",
        "<h2>Summary</h2>",
        "<table><thead><tr><th>metric</th><th>value</th><th>unit</th></tr></thead><tbody>",
    ]
    parts += [
        f'<tr><td>{escape(k)}</td><td class="v">{escape(v)}</td><td class="u">{escape(u)}</td></tr>'
        for k, v, u in _rows(summary)
    ]
    parts.append("</tbody></table>")
    for name, svg in _charts(record, summary, markout_horizons_s):
        parts.append(f'<h2>{escape(name.capitalize())}</h2><figure id="plot-{name}">{svg}</figure>')
    parts.append("<h2>Configuration</h2>")
    parts.append(
        f"<details><summary>config snapshot</summary><pre>{escape(stable_json(dict(record.config)))}</pre></details>"
    )
    parts.append("</body></html>\n")
    return "\n".join(parts)


def write_report(
    record: RunRecord,
    out_dir: str | Path,
    *,
    timing_keys: Iterable[str] = TIMING_KEYS,
    strip_timing: bool = False,
    markout_horizons_s: Sequence[float] = DEFAULT_MARKOUT_HORIZONS_S,
    sharpe_grid_s: float = SHARPE_INTERVAL_S,
    title: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Compute the summary and write ``summary.json`` and ``report.html`` into ``out_dir``.

    Args:
        record: the run.
        out_dir: directory to write into (created if missing; files are overwritten).
        timing_keys: summary keys whose values come from the wall clock (the only lines that
            may differ between two writes of the same record).
        strip_timing: write the timing keys as ``null`` so the file is fully reproducible.
        markout_horizons_s: markout horizons (s).
        sharpe_grid_s: Sharpe sampling interval (s); see ``reports.metrics`` for the rule.
        title: HTML heading; default names the instrument.
        extra: more top-level keys for the summary (e.g. the backtest's ``settings`` block:
            how the world was simulated); they must not clash with computed keys.

    Returns:
        The summary exactly as written to ``summary.json`` (rounded floats, None for
        missing values), including ``config``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    raw = compute_summary(
        record, markout_horizons_s=markout_horizons_s, sharpe_grid_s=sharpe_grid_s
    )
    if strip_timing:
        for key in timing_keys:
            if key in raw:
                raw[key] = None
    for key, value in (extra or {}).items():
        if key in raw:
            raise ValueError(f"write_report extra: key {key!r} clashes with a summary key")
        raw[key] = value
    raw["config"] = dict(record.config)
    text = stable_json(raw)
    summary: dict[str, Any] = json.loads(text)
    (out / SUMMARY_NAME).write_text(text, encoding="utf-8")
    html = render_html(record, summary, markout_horizons_s=markout_horizons_s, title=title)
    (out / HTML_NAME).write_text(html, encoding="utf-8")
    return summary
