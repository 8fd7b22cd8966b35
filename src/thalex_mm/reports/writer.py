"""Write a run report: ``summary.json`` (deterministic), ``fills.csv`` and an offline ``report.html``.

``summary.json`` is ``json`` with sorted keys, two-space indent, one key per line, and every
float rounded to 12 significant digits, so the same :class:`RunRecord` gives byte-identical
files except on the lines of the *timing keys* (values from the wall clock, by default
``wall_seconds`` and ``events_per_second``). ``strip_timing=True`` writes those as ``null`` for
fully reproducible files.

The summary holds the fields that belong to the run's ``mode``: a backtest reports events,
events/s, wall and simulated seconds; a paper or live run its duration instead. Times are
given in ns *and* as readable UTC (``start_utc``/``end_utc``).

``fills.csv``: one row per fill — time (UTC), trade id, side, price, size, fee, liquidity
(maker/taker), position after, and the markouts at 1, 10 and 60 s (quote currency per
contract, + = good for us; empty when the data ends before the horizon).

``report.html`` is one self-contained file, in this order: the header (mode, window in UTC,
exit reason, fee rates), the summary table, the **timeline** (halts, kills, errors,
reconnects; also drawn as dashed markers on every chart), zoomable charts (equity, drawdown,
inventory, quotes vs mid with our fills; drag to zoom, double-click to reset, all charts
follow), markouts by side and horizon with the spread captured, the fills table, the orders
table (paper/live) and the configuration snapshot. The charting library (uPlot, vendored from
npm with its licence) is inlined: nothing is fetched, it opens offline.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from enum import Enum
from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from thalex_mm.reports.charts import (
    Chart,
    Series,
    chart_html,
    inline_assets,
    merge_on_time,
    timeline_marks,
)
from thalex_mm.reports.downsample import downsample_minmax
from thalex_mm.reports.inputs import RunRecord
from thalex_mm.reports.metrics import (
    DEFAULT_MARKOUT_HORIZONS_S,
    compute_summary,
    drawdown_curve,
    equity_curve,
    fill_markouts,
    markout_key,
    positions_after_fills,
)
from thalex_mm.reports.timeline import KIND_COLORS

__all__ = [
    "FILLS_CSV_NAME",
    "HTML_NAME",
    "MODES",
    "SUMMARY_NAME",
    "TABLE_WIDTH",
    "TIMING_KEYS",
    "fills_csv",
    "format_summary_table",
    "mode_summary",
    "position_steps",
    "render_html",
    "stable_json",
    "write_report",
]

SUMMARY_NAME = "summary.json"
HTML_NAME = "report.html"
FILLS_CSV_NAME = "fills.csv"
TIMING_KEYS: tuple[str, ...] = ("wall_seconds", "events_per_second")
#: Run modes a report knows: which summary fields belong to each (see :func:`mode_summary`).
MODES: tuple[str, ...] = ("backtest", "paper", "live")
#: The terminal summary table is at most this wide (columns).
TABLE_WIDTH = 100
MAX_PLOT_POINTS = 2000
MAX_FILL_MARKERS = 1000  # per side
#: Rows shown in the HTML fills/orders tables (the first and last half; all are in fills.csv).
MAX_TABLE_ROWS = 400
#: Summary keys only a backtest has (a simulated clock, events replayed).
_BACKTEST_ONLY = frozenset({"events", "events_per_second", "wall_seconds", "seconds_simulated"})

_UNITS = {
    "seconds_simulated": "s",
    "duration_s": "s",
    "wall_seconds": "s",
    "events_per_second": "1/s",
    "volume": "contracts",
    "notional_volume": "quote",
    "pnl_total": "quote",
    "pnl_realised": "quote",
    "pnl_unrealised": "quote",
    "pnl_bps_of_notional": "bps of notional",
    "fees": "quote (+ = cost)",
    "funding": "quote (+ = received)",
    "max_drawdown": "quote",
    "sharpe": "per interval, not annualised",
    "sharpe_grid_s": "s (adapts to run length)",
    "spread_captured": "quote/contract",
    "spread_captured_bps": "bps",
    "final_position": "contracts",
    "max_abs_position": "contracts",
    "time_weighted_abs_position": "contracts",
    "quote_uptime": "fraction",
    "quote_uptime_bid": "fraction",
    "quote_uptime_ask": "fraction",
    "start_utc": "UTC",
    "end_utc": "UTC",
}
_ORDER = (
    "mode", "instrument", "start_utc", "end_utc", "duration_s", "seconds_simulated", "events",
    "wall_seconds", "events_per_second", "exit_reason", "pnl_total", "pnl_bps_of_notional",
    "pnl_realised", "pnl_unrealised", "fees", "fee_rates", "funding", "max_drawdown", "sharpe",
    "sharpe_grid_s", "fills", "fills_buy", "fills_sell", "fills_maker", "volume",
    "notional_volume", "spread_captured", "spread_captured_bps", "final_position",
    "max_abs_position", "time_weighted_abs_position", "quote_uptime", "quote_uptime_bid",
    "quote_uptime_ask", "requotes", "rejects",
)  # fmt: skip
#: Keys kept in summary.json but not shown in the tables (shown in another form).
_HIDDEN = frozenset({"config", "start_ts_ns", "end_ts_ns"})


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


def _iso_ms(ts_ns: int) -> str:
    """``2026-12-02 17:45:01.123`` (UTC, milliseconds)."""
    dt = datetime.fromtimestamp(ts_ns // 1_000_000_000, tz=UTC)
    return dt.strftime("%Y-%m-%d %H:%M:%S") + f".{(ts_ns // 1_000_000) % 1000:03d}"


def _horizon_of(key: str) -> float:
    """``"markout_10s" -> 10.0`` (inf when the key does not parse), for display order."""
    try:
        return float(key.removeprefix("markout_").removesuffix("s"))
    except ValueError:
        return math.inf


def _flatten(prefix: str, value: Any) -> list[tuple[str, Any]]:
    if isinstance(value, Mapping):
        out: list[tuple[str, Any]] = []
        for k, v in sorted(value.items()):
            out += _flatten(f"{prefix}.{k}", v)
        return out
    return [(prefix, value)]


def _rows(summary: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(key, formatted value, unit) in display order; nested dicts flattened with a dot."""
    keys = [k for k in _ORDER if k in summary]
    keys += sorted(
        (k for k in summary if k.startswith("markout_") and k not in keys
         and not isinstance(summary[k], Mapping)), key=_horizon_of
    )
    keys += sorted(k for k in summary if k not in keys and k not in _HIDDEN)
    rows: list[tuple[str, str, str]] = []
    for k in keys:
        v = summary[k]
        if isinstance(v, Mapping):
            unit = "quote/contract" if k == "markouts_by_side" else ""
            rows.extend((name, _fmt_value(sv), unit) for name, sv in _flatten(k, v))
            continue
        unit = _UNITS.get(k, "quote/contract" if k.startswith("markout_") else "")
        rows.append((k, _fmt_value(v), unit))
    return rows


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(1, width - 1)] + "…"


def format_summary_table(summary: Mapping[str, Any], width: int = TABLE_WIDTH) -> str:
    """The summary as a plain-text, three-column table (metric, value, unit), one per line,
    at most ``width`` columns wide (long names and values are cut with ``…``)."""
    rows = [("metric", "value", "unit"), *_rows(summary)]
    w2 = min(24, max(len(r[2]) for r in rows))
    w0 = min(34, max(len(r[0]) for r in rows))
    w1 = min(width - w0 - w2 - 4, max(len(r[1]) for r in rows))
    lines = [f"{_cut(a, w0):<{w0}}  {_cut(b, w1):>{w1}}  {_cut(c, w2)}".rstrip() for a, b, c in rows]
    lines.insert(1, "-" * (w0 + w1 + w2 + 4))
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


def _at(ts: np.ndarray, values: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Step lookup: the last value at or before each of ``x`` (NaN before the first)."""
    if not len(ts):
        return np.full(len(x), np.nan)
    idx = np.searchsorted(ts, x, side="right") - 1
    out = values[np.clip(idx, 0, len(values) - 1)].astype(np.float64)
    out[idx < 0] = np.nan
    return out


def _seconds(ts_ns: np.ndarray) -> np.ndarray:
    return np.asarray(ts_ns, dtype=np.int64) / 1e9


def _charts(record: RunRecord) -> list[Chart]:
    marks = timeline_marks(record.timeline)
    ts, eq = equity_curve(record)
    ex, ey = downsample_minmax(_seconds(ts), eq, MAX_PLOT_POINTS)
    dx, dy = downsample_minmax(_seconds(ts), drawdown_curve(eq), MAX_PLOT_POINTS)
    pos_ts, pos = position_steps(record)
    px, py = downsample_minmax(_seconds(pos_ts), pos, MAX_PLOT_POINTS)
    charts = [
        Chart("equity", "Equity (mark-to-mid, after fees and funding)", "quote ccy", ex,
              [Series("equity", ey, "#1f5fbf")], marks),
        Chart("drawdown", "Drawdown from the running peak of equity", "quote ccy", dx,
              [Series("drawdown", dy, "#b00020", fill="rgba(176,0,32,0.12)")], marks, height=180),
        Chart("inventory", "Inventory", "contracts", px,
              [Series("position", py, "#7b3fa0", step=True)], marks, height=200),
    ]
    # Quotes vs mid with our fills: one shared x (mid samples, quote changes, fills).
    mid_x = np.zeros(0, dtype=np.int64)
    if len(record.mid_ts_ns):
        sx, _ = downsample_minmax(np.arange(len(record.mid_ts_ns), dtype=np.float64),
                                  record.mid_price, MAX_PLOT_POINTS)
        mid_x = record.mid_ts_ns[sx.astype(np.int64)]
    quote_x = record.quote_ts_ns[_stride(len(record.quote_ts_ns), MAX_PLOT_POINTS)]
    fills_sel = _stride(len(record.fill_ts_ns), 2 * MAX_FILL_MARKERS)
    fill_x = record.fill_ts_ns[fills_sel]
    x = merge_on_time([mid_x, quote_x, fill_x])
    series: list[Series] = []
    if len(record.mid_ts_ns):
        series.append(Series("mid", _at(record.mid_ts_ns, record.mid_price, x), "#333333", width=1.0))
    for arr, label, color, dash in (
        (record.quote_bid, "our bid", "#2a9d4b", ()),
        (record.quote_ask, "our ask", "#c0392b", ()),
        (record.quote_reservation, "reservation", "#e69500", (4, 3)),
    ):
        if len(arr) and bool(np.any(np.isfinite(arr))):
            series.append(Series(label, _at(record.quote_ts_ns, arr, x), color, step=True, dash=dash))
    for sign, label, color in ((1, "buy fill", "#0b7a2a"), (-1, "sell fill", "#a01010")):
        sel = record.fill_side[fills_sel] == sign
        if not bool(np.any(sel)):
            continue
        values = np.full(len(x), np.nan)
        values[np.searchsorted(x, fill_x[sel])] = record.fill_price[fills_sel][sel]
        series.append(Series(label, values, color, points=True))
    charts.append(Chart("quotes", "Quotes vs mid, with our fills", "price (quote ccy)",
                        _seconds(x), series, marks, height=320))
    return charts


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px;
color:#222;max-width:1100px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}
table{border-collapse:collapse;font-size:13px}
td,th{padding:3px 10px;border-bottom:1px solid #e4e4e4;text-align:left}
td.v,td.n{text-align:right;font-family:ui-monospace,Menlo,Consolas,monospace}
td.u,.muted{color:#777}
pre{background:#f6f6f6;padding:10px;font-size:12px;overflow:auto}
figure{margin:8px 0 18px}figcaption{font-weight:600;font-size:14px;margin-bottom:4px}
.plot{width:100%}.kind{font-weight:600}
.buy{color:#0b7a2a}.sell{color:#a01010}
"""


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], numeric: set[int],
           classes: Sequence[str | None] | None = None) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for r, row in enumerate(rows):
        cells = []
        for i, v in enumerate(row):
            cls = "n" if i in numeric else ""
            if classes is not None and i == 0 and classes[r]:
                cls = classes[r] or ""
            cells.append(f'<td class="{cls}">{escape(_fmt_value(v) if not isinstance(v, str) else v)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _head_and_tail(n: int) -> tuple[list[int], str]:
    if n <= MAX_TABLE_ROWS:
        return list(range(n)), ""
    half = MAX_TABLE_ROWS // 2
    return [*range(half), *range(n - half, n)], (
        f'<p class="muted">{n:,} rows: the first and last {half} shown; all fills are in '
        f"{FILLS_CSV_NAME}.</p>")


def _fill_rows(record: RunRecord, horizons_s: Sequence[float]) -> list[list[Any]]:
    per = fill_markouts(record, horizons_s)
    after = positions_after_fills(record)
    rows = []
    for i in range(len(record.fill_ts_ns)):
        rows.append([
            _iso_ms(int(record.fill_ts_ns[i])),
            record.fill_trade_id[i] if record.fill_trade_id else "",
            "buy" if record.fill_side[i] > 0 else "sell",
            float(record.fill_price[i]),
            float(record.fill_amount[i]),
            float(record.fill_fee_quote[i]),
            "maker" if record.fill_is_maker[i] else "taker",
            float(after[i]),
            *[None if not math.isfinite(v) else float(v) for v in per[i]],
        ])
    return rows


def _fill_headers(horizons_s: Sequence[float]) -> list[str]:
    return ["time_utc", "trade_id", "side", "price", "size", "fee", "liquidity",
            "position_after", *[markout_key(h) for h in horizons_s]]


def fills_csv(record: RunRecord, horizons_s: Sequence[float] = DEFAULT_MARKOUT_HORIZONS_S) -> str:
    """``fills.csv``: one row per fill (see the module docstring); floats as ``repr``."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(_fill_headers(horizons_s))
    for row in _fill_rows(record, horizons_s):
        w.writerow(["" if v is None else (repr(v) if isinstance(v, float) else v) for v in row])
    return buf.getvalue()


def _markout_table(summary: Mapping[str, Any], horizons_s: Sequence[float]) -> str:
    by_side = summary.get("markouts_by_side") or {}
    keys = [markout_key(h) for h in horizons_s]
    rows = [["all fills", *[summary.get(k) for k in keys]]]
    rows += [[f"our {side}s", *[(by_side.get(side) or {}).get(k) for k in keys]]
             for side in ("buy", "sell")]
    table = _table(["fills", *[f"{h:g} s" for h in horizons_s]], rows, set(range(1, len(keys) + 1)))
    return (f"{table}<p>Spread captured at the fill (mid − price for buys, price − mid for sells, "
            f"amount-weighted): {escape(_fmt_value(summary.get('spread_captured')))} quote/contract "
            f"= {escape(_fmt_value(summary.get('spread_captured_bps')))} bps. Markouts in quote "
            "currency per contract, + = the price moved our way after the fill.</p>")


def mode_summary(raw: dict[str, Any], record: RunRecord, mode: str) -> dict[str, Any]:
    """Keep the fields that belong to ``mode`` and add readable times (see :data:`MODES`)."""
    if mode not in MODES:
        raise ValueError(f"report mode: got {mode!r}, expected one of {', '.join(MODES)}")
    out = dict(raw)
    start, end = record.window_ns
    out["mode"] = mode
    out["start_utc"] = _iso(start)
    out["end_utc"] = _iso(end)
    if mode != "backtest":
        out["duration_s"] = (end - start) / 1e9
        for key in _BACKTEST_ONLY:
            out.pop(key, None)
    return out


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
    mode = str(summary.get("mode", "backtest"))
    lines = [f"{escape(mode)} run, {escape(_iso(start))} to {escape(_iso(end))} "
             f"({escape(_fmt_value((end - start) / 1e9))} s)."]
    if summary.get("exit_reason"):
        lines.append(f"Exit reason: <b>{escape(str(summary['exit_reason']))}</b>.")
    if summary.get("fee_rates"):
        lines.append(f"Fee rates: {escape(str(summary['fee_rates']))}.")
    lines.append("Prices and PnL in quote currency; amounts in contracts; times in UTC.")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(heading)}</title>",
        f"<style>{_CSS}</style>",
        inline_assets(),
        "</head><body>",
        f"<h1>{escape(heading)}</h1>",
        f"<p>{' '.join(lines)}</p>",
        '<h2 id="summary">Summary</h2>',
        "<table><thead><tr><th>metric</th><th>value</th><th>unit</th></tr></thead><tbody>",
    ]
    parts += [
        f'<tr><td>{escape(k)}</td><td class="v">{escape(v)}</td><td class="u">{escape(u)}</td></tr>'
        for k, v, u in _rows(summary)
    ]
    parts.append("</tbody></table>")
    parts.append('<h2 id="timeline">Timeline</h2>')
    if record.timeline:
        rows = [[_iso_ms(e.ts_ns), e.kind, e.text] for e in record.timeline]
        parts.append('<table id="timeline-table"><thead><tr><th>time (UTC)</th><th>kind</th>'
                     "<th>what</th></tr></thead><tbody>")
        parts += [f'<tr><td>{escape(t)}</td><td class="kind" style="color:'
                  f'{KIND_COLORS.get(k, "#555")}">{escape(k)}</td><td>{escape(w)}</td></tr>'
                  for t, k, w in rows]
        parts.append("</tbody></table>")
    else:
        parts.append('<p id="timeline-table" class="muted">no halts, kills, errors or '
                     "reconnects</p>")
    parts.append('<h2 id="charts">Charts</h2><p class="muted">Drag across a chart to zoom '
                 "(all charts follow), double-click to reset. Dashed lines mark the timeline.</p>")
    parts += [chart_html(c) for c in _charts(record)]
    parts.append('<h2 id="markouts">Markouts</h2>')
    parts.append(_markout_table(summary, markout_horizons_s))
    parts.append(f'<h2 id="fills">Fills</h2><p class="muted">Also in {FILLS_CSV_NAME}.</p>')
    fill_rows = _fill_rows(record, markout_horizons_s)
    keep, note = _head_and_tail(len(fill_rows))
    parts.append(note)
    shown = [fill_rows[i] for i in keep]
    parts.append(_table(_fill_headers(markout_horizons_s), shown,
                        {3, 4, 5, 7, *range(8, 8 + len(markout_horizons_s))}) if shown
                 else '<p class="muted">no fills</p>')
    if record.orders:
        parts.append('<h2 id="orders">Orders</h2>')
        keep, note = _head_and_tail(len(record.orders))
        parts.append(note.replace(f"all fills are in {FILLS_CSV_NAME}", "all are in the journal"))
        order_rows = [[_iso_ms(int(o[0])), *o[1:]] for o in (record.orders[i] for i in keep)]
        parts.append(_table(["time_utc", "event", "side", "price", "amount", "status", "detail"],
                            order_rows, {3, 4}))
    parts.append('<h2 id="config">Configuration</h2>')
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
    sharpe_grid_s: float | None = None,
    title: str | None = None,
    extra: Mapping[str, Any] | None = None,
    mode: str = "backtest",
) -> dict[str, Any]:
    """Compute the summary and write ``summary.json``, ``fills.csv`` and ``report.html``.

    Args:
        record: the run.
        out_dir: directory to write into (created if missing; files are overwritten).
        timing_keys: summary keys whose values come from the wall clock (the only lines that
            may differ between two writes of the same record).
        strip_timing: write the timing keys as ``null`` so the file is fully reproducible.
        markout_horizons_s: markout horizons (s).
        sharpe_grid_s: Sharpe sampling interval (s); None = adapted to the run's length (see
            ``reports.metrics``).
        title: HTML heading; default names the instrument.
        extra: more top-level keys for the summary (e.g. the backtest's ``settings`` block,
            a live run's ``exit_reason`` and ``fee_rates``); they must not clash with
            computed keys.
        mode: ``backtest``, ``paper`` or ``live``: which fields belong (:func:`mode_summary`).

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
    raw = mode_summary(raw, record, mode)
    for key, value in (extra or {}).items():
        if key in raw:
            raise ValueError(f"write_report extra: key {key!r} clashes with a summary key")
        raw[key] = value
    raw["config"] = dict(record.config)
    text = stable_json(raw)
    summary: dict[str, Any] = json.loads(text)
    (out / SUMMARY_NAME).write_text(text, encoding="utf-8")
    (out / FILLS_CSV_NAME).write_text(fills_csv(record, markout_horizons_s), encoding="utf-8")
    html = render_html(record, summary, markout_horizons_s=markout_horizons_s, title=title)
    (out / HTML_NAME).write_text(html, encoding="utf-8")
    return summary
