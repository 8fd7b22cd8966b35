"""``thalex-mm sweep``: a backtest parameter grid on all cores (or a Ray cluster).

Exit codes: 0 done; 2 bad input (grid, metric, config, data, missing ray for --ray-address).
``--out DIR`` writes the ranked table as ``sweep.json`` and ``sweep.csv`` there (no per-point
reports).
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["add_arguments", "format_sweep_table", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from thalex_mm.commands.backtest_cmd import add_arguments as bt_args

    bt_args(parser)
    parser.add_argument("--grid", action="append", required=True, metavar="KEY=V1,V2",
                        help="config key and values, e.g. avellaneda.gamma=0.01,0.1,1 "
                        "(repeatable: the cartesian product runs)")
    parser.add_argument("--metric", default="pnl_total",
                        help="summary key to rank by, best first in its natural direction "
                        "(higher PnL/Sharpe/markouts; lower drawdown/fees/positions; "
                        "default pnl_total)")
    order = parser.add_mutually_exclusive_group()
    order.add_argument("--ascending", dest="ascending", action="store_const", const=True,
                       default=None, help="sort ascending instead of the natural direction")
    order.add_argument("--descending", dest="ascending", action="store_const", const=False,
                       help="sort descending instead of the natural direction")
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: cores)")
    parser.add_argument("--ray-address", default=None,
                        help="run on this Ray cluster (needs the optional ray package)")


def format_sweep_table(results: list[dict], metric: str, ascending: bool | None = None) -> str:
    """Results ranked by ``metric`` (best first, see ``sort_results``) as a text table.

    Raises:
        ValueError: unknown metric (the message lists the valid ones).
    """
    from thalex_mm.backtest.sweep import sort_results

    rows = sort_results(results, metric, ascending)
    cols = ["pnl_total", "fills", "volume", "max_drawdown", "sharpe", "max_abs_position"]
    if metric not in cols:
        cols.insert(0, metric)
    pkeys = list(results[0]["params"]) if results else []
    head = pkeys + cols
    body = [[str(r["params"][k]) for k in pkeys]
            + [_fmt(r["summary"].get(c)) for c in cols] for r in rows]
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(head)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(head, widths, strict=True))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(b, widths, strict=True)) for b in body]
    return "\n".join(lines)


def _fmt(v: object) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def run(args: argparse.Namespace) -> int:
    from thalex_mm.backtest.sessions import parse_time_ns
    from thalex_mm.backtest.sweep import (
        check_metric,
        grid_points,
        parse_grid,
        run_sweep,
        write_sweep,
    )
    from thalex_mm.commands.backtest_cmd import build_settings, load_bot_config
    from thalex_mm.errors import ConfigError, DataFileError
    from thalex_mm.progress import Progress

    try:
        check_metric(args.metric)  # before any work
        grids = [parse_grid(g) for g in args.grid]
        start = parse_time_ns(args.start) if args.start else None
        end = parse_time_ns(args.end) if args.end else None
        total = len(grid_points(grids))
        with Progress("sweep", total, unit="runs", pnl_label="best pnl_total",
                      enabled=not getattr(args, "no_progress", False)) as progress:
            results = run_sweep(args.data, load_bot_config(args.config), grids,
                                build_settings(args), jobs=args.jobs, start_ns=start, end_ns=end,
                                ray_address=args.ray_address, progress=progress)
    except (DataFileError, ConfigError, ValueError, RuntimeError) as exc:
        sys.stderr.write(f"thalex-mm sweep: {exc}\n")
        return 2
    sys.stdout.write(format_sweep_table(results, args.metric, args.ascending) + "\n")
    if args.out:
        jpath, cpath = write_sweep(results, args.out, args.metric, args.ascending)
        sys.stdout.write(f"sweep: {jpath}  {cpath}  {jpath.with_name('sweep.html')} (heatmap)\n")
    return 0
