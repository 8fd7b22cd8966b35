"""``evaluation.json`` and the offline single-file ``evaluation.html`` of a walk-forward run.

The page reuses the run reports' style and zoomable uPlot charts (``reports.charts``: the
vendored library inlined, nothing fetched, one offline file): the walk-forward track's metrics overall and per session with their 95 % bootstrap intervals,
its equity and inventory over the trading windows laid end to end in time order (calibration
windows are not drawn: nothing trades there), overall markouts per horizon and side, and, for
a grid, each point's overall figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

from thalex_mm.evaluation.blocks import SIDES, units_of
from thalex_mm.evaluation.session_run import SessionRun
from thalex_mm.reports import markout_key, stable_json
from thalex_mm.reports.charts import Chart, Series, chart_html, inline_assets
from thalex_mm.reports.multi import PALETTE, on_shared_x
from thalex_mm.reports.writer import _CSS, _fmt_value, _time_unit

__all__ = ["EVALUATION_HTML", "EVALUATION_JSON", "render_evaluation_html", "write_evaluation"]

EVALUATION_JSON = "evaluation.json"
EVALUATION_HTML = "evaluation.html"

_KEY_METRICS = ("pnl", "pnl_bps", "fills", "volume", "quote_uptime", "max_abs_position",
                "spread_captured_bps", "markout_1s_bps", "markout_10s_bps", "markout_60s_bps")


def _with_ci(block: Mapping[str, Any], name: str) -> str:
    v = _fmt_value(block["metrics"].get(name))
    ci = block.get("ci95", {}).get(name)
    return v if not ci else f"{v} [{_fmt_value(ci[0])}, {_fmt_value(ci[1])}]"


def _cell(block: Mapping[str, Any], name: str) -> str:
    """A table cell's HTML: the value, the interval below it in small print."""
    v = escape(_fmt_value(block["metrics"].get(name)))
    ci = block.get("ci95", {}).get(name)
    if not ci:
        return v
    return f'{v}<br><small>[{escape(_fmt_value(ci[0]))}, {escape(_fmt_value(ci[1]))}]</small>'


def _metric_table(block: Mapping[str, Any]) -> str:
    names = list(block["metrics"])
    units = units_of(names)
    rows = "".join(
        f'<tr><td>{escape(n)}</td><td class="v">{escape(_with_ci(block, n))}</td>'
        f'<td class="u">{escape(units[n])}</td></tr>' for n in names)
    return ("<table><thead><tr><th>metric</th><th>value [95 % CI]</th><th>unit</th></tr>"
            f"</thead><tbody>{rows}</tbody></table>")


def _session_table(sessions: Sequence[Mapping[str, Any]]) -> str:
    head = "".join(f"<th>{escape(n).replace('_', '_<wbr>')}</th>"
                   for n in ("session", "point", *_KEY_METRICS))
    body = []
    for s in sessions:
        cells = [escape(s["label"]), str(s.get("point", ""))]
        cells += [_cell(s, n) for n in _KEY_METRICS]
        body.append("<tr>" + "".join(f'<td class="v">{c}</td>' for c in cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _curves(track: Sequence[SessionRun]) -> list[Chart]:
    """Equity and inventory of the track, trading windows laid end to end on one x."""
    total_s = sum((r.end_ts_ns - r.trade_from_ns) / 1e9 for r in track)
    scale, unit = _time_unit(total_s)
    x_label = f"trading time, sessions end to end ({unit})"
    ex, ey, px, py = [], [], [], []
    offset = carry = 0.0
    for r in track:
        ex.append((offset + r.equity_x_s) / scale)
        ey.append(r.equity + carry)
        px.append((offset + r.position_x_s) / scale)
        py.append(r.position)
        carry += float(r.equity[-1]) if len(r.equity) else 0.0
        offset += (r.end_ts_ns - r.trade_from_ns) / 1e9
    charts = []
    for cid, title, y_label, step, xs, ys in (
        ("equity", "Walk-forward equity (cumulative, mark-to-mid, after fees and funding)",
         "equity (quote ccy)", False, ex, ey),
        ("inventory", "Inventory", "position (contracts)", True, px, py),
    ):
        x, values = on_shared_x(xs, ys)
        series = [Series(r.label, v, PALETTE[i % len(PALETTE)], step=step)
                  for i, (r, v) in enumerate(zip(track, values, strict=True))]
        charts.append(Chart(cid, title, y_label, x, series, x_label=x_label))
    return charts


def _markout_chart(overall: Mapping[str, Any], horizons_s: Sequence[float]) -> Chart:
    """Overall markouts per horizon, one point series per side (all, buys, sells)."""
    series = [
        Series(sfx.strip("_") or "all",
               [overall["metrics"].get(f"{markout_key(h)}{sfx}_bps") for h in horizons_s],
               PALETTE[i % len(PALETTE)], points=True)
        for i, (sfx, _) in enumerate(SIDES)]
    return Chart("markouts", "Markouts, walk-forward overall (+ = good for us)",
                 "bps of traded notional", [float(h) for h in horizons_s], series,
                 x_label="horizon after fill (s)")


def render_evaluation_html(doc: Mapping[str, Any], track: Sequence[SessionRun],
                           horizons_s: Sequence[float]) -> str:
    """The self-contained HTML page of an evaluation document."""
    wf = doc["walk_forward"]
    title = "Walk-forward evaluation"
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{title}</title>", f"<style>{_CSS}</style>", inline_assets(), "</head><body>",
        f"<h1>{title}</h1>", f"<p>{escape(doc['design'])}</p>",
        f"<p>{len(wf['sessions'])} sessions; prices and PnL in quote currency, bps of traded "
        "notional; intervals in brackets are 95 % block-bootstrap intervals.</p>",
        "<h2>Overall (walk-forward track)</h2>", _metric_table(wf["overall"]),
        "<h2>Per session</h2>", _session_table(wf["sessions"]),
    ]
    for s in wf["sessions"]:
        cal = s.get("calibration") or {}
        cal_text = ", ".join(f"{k}={_fmt_value(v)}" for k, v in cal.items()) or "n/a"
        parts.append(f"<details><summary>{escape(s['label'])}: point {s['point']} "
                     f"({escape(s['why'])}); at trading start {escape(cal_text)}</summary>"
                     f"{_metric_table(s)}</details>")
    parts.append('<p class="muted">Drag across a chart to zoom, double-click to reset.</p>')
    for chart in _curves(track):
        parts.append(f"<h2>{chart.id.capitalize()}</h2>{chart_html(chart)}")
    parts.append(f'<h2>Markouts</h2>{chart_html(_markout_chart(wf["overall"], horizons_s))}')
    if "points" in doc:
        parts.append("<h2>Grid points (all sessions each)</h2>")
        rows = [{"label": stable_json(p["params"]).strip(), "point": p["point"],
                 **p["overall"]} for p in doc["points"]]
        parts.append(_session_table(rows))
    parts.append("<h2>Settings</h2>"
                 f"<pre>{escape(stable_json({'windows': doc['windows'], 'settings': doc['settings']}))}</pre>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def write_evaluation(doc: Mapping[str, Any], track: Sequence[SessionRun], out_dir: str | Path,
                     horizons_s: Sequence[float]) -> tuple[Path, Path]:
    """Write ``evaluation.json`` and ``evaluation.html`` into ``out_dir`` (created)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    jpath, hpath = out / EVALUATION_JSON, out / EVALUATION_HTML
    jpath.write_text(stable_json(doc), encoding="utf-8")
    hpath.write_text(render_evaluation_html(doc, track, horizons_s), encoding="utf-8")
    return jpath, hpath
