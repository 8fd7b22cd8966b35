"""``thalex-mm sweep``: a backtest parameter grid on all cores (or a Ray cluster).

Exit codes: 0 done; 2 bad input (grid, config, data, missing ray for --ray-address).
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
                        help="summary key to sort by, descending (default pnl_total)")
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: cores)")
    parser.add_argument("--ray-address", default=None,
                        help="run on this Ray cluster (needs the optional ray package)")


def format_sweep_table(results: list[dict], metric: str) -> str:
    """Results sorted by ``metric`` (descending; missing values last) as a text table."""
    def key(r: dict) -> tuple[int, float]:
        v = r["summary"].get(metric)
        return (1, 0.0) if v is None else (0, -float(v))

    rows = sorted(results, key=key)
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
    from thalex_mm.backtest.sweep import parse_grid, run_sweep
    from thalex_mm.commands.backtest_cmd import build_settings, load_bot_config
    from thalex_mm.errors import ConfigError, DataFileError

    try:
        grids = [parse_grid(g) for g in args.grid]
        start = parse_time_ns(args.start) if args.start else None
        end = parse_time_ns(args.end) if args.end else None
        results = run_sweep(args.data, load_bot_config(args.config), grids,
                            build_settings(args), jobs=args.jobs, start_ns=start, end_ns=end,
                            ray_address=args.ray_address)
    except (DataFileError, ConfigError, ValueError, RuntimeError) as exc:
        sys.stderr.write(f"thalex-mm sweep: {exc}\n")
        return 2
    sys.stdout.write(format_sweep_table(results, args.metric) + "\n")
    return 0
