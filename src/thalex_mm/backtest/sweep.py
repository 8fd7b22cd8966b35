"""Parameter sweeps: a grid of config overrides, each a backtest, run in parallel.

``parse_grid("avellaneda.gamma=0.01,0.1,1")`` → ``("avellaneda.gamma", (0.01, 0.1, 1.0))``;
:func:`grid_points` is the cartesian product in a fixed order. :func:`run_sweep` runs the
points on all local cores or, given an address, on a Ray cluster
(:func:`thalex_mm.backtest.parallel.map_tasks`; ``ray`` is an optional extra: a clear error
when it is missing).

Ranking: :data:`SWEEP_METRICS` maps each summary metric to its natural direction (PnL, Sharpe,
markouts, fills, uptime: higher is better; drawdown, fees, positions, rejects: lower is better;
``final_position``: smaller magnitude is better); :func:`sort_results` sorts by it (missing
values last). :func:`write_sweep` writes the ranked table as ``sweep.json`` and ``sweep.csv``.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from thalex_mm.backtest.parallel import map_tasks
from thalex_mm.backtest.runner import BacktestSettings
from thalex_mm.config.models import BotConfig
from thalex_mm.progress import ProgressSink
from thalex_mm.reports import DEFAULT_MARKOUT_HORIZONS_S, markout_key, stable_json
from thalex_mm.reports.heatmap import sweep_heatmap_html

__all__ = [
    "SWEEP_CSV",
    "SWEEP_HTML",
    "SWEEP_JSON",
    "SWEEP_METRICS",
    "apply_overrides",
    "check_metric",
    "grid_points",
    "parse_grid",
    "run_point",
    "run_sweep",
    "sort_results",
    "write_sweep",
]

Direction = Literal["higher", "lower", "abs_lower"]

SWEEP_JSON = "sweep.json"
SWEEP_CSV = "sweep.csv"
SWEEP_HTML = "sweep.html"

SWEEP_METRICS: dict[str, Direction] = {
    "pnl_total": "higher", "pnl_realised": "higher", "pnl_unrealised": "higher",
    "funding": "higher", "sharpe": "higher", "fills": "higher", "fills_buy": "higher",
    "fills_sell": "higher", "fills_maker": "higher", "volume": "higher",
    "notional_volume": "higher", "quote_uptime": "higher", "quote_uptime_bid": "higher",
    "quote_uptime_ask": "higher", "events_per_second": "higher",
    "max_drawdown": "lower", "fees": "lower", "max_abs_position": "lower",
    "time_weighted_abs_position": "lower", "rejects": "lower", "requotes": "lower",
    "wall_seconds": "lower",
    "final_position": "abs_lower",
    **{markout_key(h): "higher" for h in DEFAULT_MARKOUT_HORIZONS_S},
}  # fmt: skip
"""Metrics ``--metric`` accepts, each with its natural direction (which value is better)."""


def check_metric(metric: str) -> Direction:
    """The natural direction of ``metric``.

    Raises:
        ValueError: an unknown metric (the message lists the valid ones).
    """
    try:
        return SWEEP_METRICS[metric]
    except KeyError:
        raise ValueError(f"--metric: got {metric!r}, expected one of "
                         f"{', '.join(sorted(SWEEP_METRICS))}") from None


def sort_results(results: Sequence[dict[str, Any]], metric: str,
                 ascending: bool | None = None) -> list[dict[str, Any]]:
    """Results best first by ``metric`` (stable: ties keep grid order; missing values last).

    Args:
        results: ``{"params", "summary"}`` per grid point.
        metric: one of :data:`SWEEP_METRICS`.
        ascending: force the order (None: the metric's natural direction, best first;
            ``final_position`` then sorts by magnitude).

    Raises:
        ValueError: unknown metric.
    """
    direction = check_metric(metric)

    def key(r: dict[str, Any]) -> tuple[int, float]:
        v = r["summary"].get(metric)
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return (1, 0.0)
        x = float(v)
        if ascending is None:
            if direction == "abs_lower":
                return (0, abs(x))
            return (0, -x if direction == "higher" else x)
        return (0, x if ascending else -x)

    return sorted(results, key=key)


def _csv_value(v: object) -> object:
    if v is None:
        return ""
    if isinstance(v, float):
        return "" if not math.isfinite(v) else float(f"{v:.12g}")
    return v


def write_sweep(results: Sequence[dict[str, Any]], out_dir: str | Path, metric: str,
                ascending: bool | None = None) -> tuple[Path, Path]:
    """Write the ranked sweep as ``sweep.json`` (params + full summaries) and ``sweep.csv``,
    and ``sweep.html``: a heatmap of the metric over the first two parameters
    (``reports.heatmap``).

    The CSV has one row per grid point, best first: ``rank``, the parameters, then every
    numeric summary metric of :data:`SWEEP_METRICS` present (empty = n/a).

    Returns:
        The two paths written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ranked = sort_results(results, metric, ascending)
    direction = SWEEP_METRICS[metric]
    order = direction if ascending is None else ("lower" if ascending else "higher")
    doc = {"metric": metric, "best_first": order,
           "results": [{"rank": i + 1, **r} for i, r in enumerate(ranked)]}
    jpath = out / SWEEP_JSON
    jpath.write_text(stable_json(doc), encoding="utf-8")
    pkeys = list(ranked[0]["params"]) if ranked else []
    mkeys = [k for k in SWEEP_METRICS if any(k in r["summary"] for r in ranked)]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["rank", *pkeys, *mkeys])
    for i, r in enumerate(ranked):
        w.writerow([i + 1, *(json.dumps(r["params"][k]) if not isinstance(r["params"][k], str)
                             else r["params"][k] for k in pkeys),
                    *(_csv_value(r["summary"].get(k)) for k in mkeys)])
    cpath = out / SWEEP_CSV
    cpath.write_text(buf.getvalue(), encoding="utf-8")
    (out / SWEEP_HTML).write_text(sweep_heatmap_html(results, metric, order), encoding="utf-8")
    return jpath, cpath


def _value(text: str) -> object:
    t = text.strip()
    if t.lower() in ("true", "false"):
        return t.lower() == "true"
    for conv in (int, float):
        try:
            return conv(t)
        except ValueError:
            pass
    return t


def parse_grid(spec: str) -> tuple[str, tuple[object, ...]]:
    """``'section.key=v1,v2'`` → ``('section.key', (v1, v2))`` (numbers and booleans parsed).

    Raises:
        ValueError: no ``=``, no dotted key, or no values.
    """
    key, sep, values = spec.partition("=")
    key = key.strip()
    vals = tuple(_value(v) for v in values.split(",") if v.strip())
    if not sep or "." not in key or not vals:
        raise ValueError(f"--grid {spec!r}: expected section.key=v1,v2,... "
                         "(e.g. avellaneda.gamma=0.01,0.1,1)")
    return key, vals


def grid_points(grids: Sequence[tuple[str, tuple[object, ...]]]) -> list[dict[str, object]]:
    """The cartesian product of the grids, first grid varying slowest."""
    keys = [k for k, _ in grids]
    return [dict(zip(keys, combo, strict=True))
            for combo in itertools.product(*(v for _, v in grids))]


def apply_overrides(config: BotConfig, overrides: dict[str, object]) -> BotConfig:
    """A new validated config with ``section.key`` values replaced.

    Raises:
        ConfigError: an unknown key or a bad value (named).
    """
    from thalex_mm.config.loader import parse_config

    data = config.model_dump(mode="json")
    for path, value in overrides.items():
        node = data
        parts = path.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value
    return parse_config(data)


def run_point(args: tuple[list[str], dict[str, Any], dict[str, object], BacktestSettings,
                          int | None, int | None]) -> dict[str, Any]:
    """Run one grid point (a top-level function so spawned workers can import it)."""
    from thalex_mm.backtest.api import run_backtest
    from thalex_mm.config.loader import parse_config

    data, cfg_json, overrides, settings, start, end = args
    config = apply_overrides(parse_config(cfg_json), overrides)
    out = run_backtest(data, config, settings, start_ns=start, end_ns=end)
    summary = {k: v for k, v in out.summary.items() if k != "config"}
    return {"params": overrides, "summary": summary}


def run_sweep(
    data: Sequence[str],
    config: BotConfig,
    grids: Sequence[tuple[str, tuple[object, ...]]],
    settings: BacktestSettings,
    *,
    jobs: int | None = None,
    start_ns: int | None = None,
    end_ns: int | None = None,
    ray_address: str | None = None,
    progress: ProgressSink | None = None,
) -> list[dict[str, Any]]:
    """Run every grid point; results in grid order, each ``{"params", "summary"}``.

    ``progress`` (``thalex_mm.progress``) is told the runs done and the best ``pnl_total``
    so far as each run finishes (local processes or Ray).

    Raises:
        ConfigError: a grid value the config rejects (checked before anything runs).
        RuntimeError: ``ray_address`` given but ``ray`` is not installed.
    """
    points = grid_points(grids)
    for p in points:
        apply_overrides(config, p)  # fail fast, before starting workers
    cfg_json = config.model_dump(mode="json")
    tasks = [(list(data), cfg_json, p, settings, start_ns, end_ns) for p in points]
    done: list[dict[str, Any]] = []

    def finished(_index: int, result: dict[str, Any]) -> None:
        done.append(result)
        if progress is not None:
            progress.update(done=len(done), pnl=_best_pnl(done))

    return map_tasks(run_point, tasks, jobs=jobs, ray_address=ray_address, on_result=finished)


def _best_pnl(results: Sequence[dict[str, Any]]) -> float | None:
    values = [r["summary"].get("pnl_total") for r in results]
    finite = [float(v) for v in values if isinstance(v, int | float) and math.isfinite(v)]
    return max(finite) if finite else None
