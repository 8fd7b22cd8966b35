"""``thalex-mm evaluate``: walk-forward evaluation over every session given.

Exit codes: 0 done; 2 bad input (no data, unreadable data, a session too short to calibrate,
an unknown grid key or bad value, bad option, ``--ray-address`` without ray), each as one line
naming the problem.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from thalex_mm.commands.backtest_cmd import add_world_arguments
    from thalex_mm.evaluation.walkforward import DESIGN

    parser.description = ((parser.description or "") + ". " + DESIGN).lstrip(". ")
    parser.add_argument("--data", nargs="+", required=True, metavar="PATH",
                        help="data files or directories (grouped into sessions by the time "
                        "their contents cover, as for backtest) or synthetic:SECONDS[:SEED]")
    parser.add_argument("--config", metavar="FILE", help="BOT_CONFIG TOML file")
    parser.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2",
                        help="config key and values, e.g. avellaneda.gamma=0.05,0.1 "
                        "(repeatable: the cartesian product runs)")
    parser.add_argument("--out", metavar="DIR", help="where evaluation.json and "
                        "evaluation.html go (default ./evaluations/<UTC timestamp>/)")
    parser.add_argument("--calibration-s", type=float, default=60.0,
                        help="calibration window at the start of each session, s (default 60)")
    parser.add_argument("--min-trading-s", type=float, default=60.0,
                        help="shortest trading window a session must leave, s (default 60)")
    parser.add_argument("--block-s", type=float, default=30.0,
                        help="bootstrap block length, s (default 30)")
    parser.add_argument("--bootstrap", type=int, default=1000,
                        help="bootstrap samples (default 1000; 0: no intervals)")
    parser.add_argument("--select-by", default="pnl_bps",
                        help="metric (higher is better) that picks a grid point for the next "
                        "session from the earlier ones (default pnl_bps)")
    parser.add_argument("--jobs", type=int, default=None,
                        help="worker processes (default: all cores)")
    parser.add_argument("--ray-address", default=None,
                        help="run on this Ray cluster (needs the optional ray extra)")
    add_world_arguments(parser)


def _summary_lines(doc: dict) -> list[str]:
    from thalex_mm.reports.writer import _fmt_value

    def cell(block: dict, name: str) -> str:
        v = _fmt_value(block["metrics"].get(name))
        ci = block["ci95"].get(name)
        return v if not ci else f"{v} [{_fmt_value(ci[0])}, {_fmt_value(ci[1])}]"

    names = ("pnl", "pnl_bps", "fills", "markout_10s_bps", "quote_uptime", "max_abs_position")
    wf = doc["walk_forward"]
    lines = []
    for s in [*wf["sessions"], {"label": "overall", "point": "", "data": [""], **wf["overall"]}]:
        lines.append(f"{s['label']:>20} {s['data'][0][:24]:<24} {s['point']!s:>3}  "
                     + "  ".join(f"{n}={cell(s, n)}" for n in names))
    return lines


def run(args: argparse.Namespace) -> int:
    from thalex_mm.backtest.sweep import parse_grid
    from thalex_mm.commands.backtest_cmd import build_settings, load_bot_config
    from thalex_mm.errors import ConfigError, DataFileError
    from thalex_mm.evaluation.report import write_evaluation
    from thalex_mm.evaluation.walkforward import EvaluationSpec, run_evaluation
    from thalex_mm.progress import Progress

    try:
        spec = EvaluationSpec(
            data=tuple(args.data), config=load_bot_config(args.config),
            grids=tuple(parse_grid(g) for g in args.grid), settings=build_settings(args),
            calibration_s=args.calibration_s, min_trading_s=args.min_trading_s,
            block_s=args.block_s, bootstrap=args.bootstrap, select_by=args.select_by,
            jobs=args.jobs, ray_address=args.ray_address)
        doc, extras = run_evaluation(spec, progress=Progress)
    except (DataFileError, ConfigError, ValueError, RuntimeError) as exc:
        sys.stderr.write(f"thalex-mm evaluate: {exc}\n")
        return 2
    out = Path(args.out) if args.out else (
        Path("evaluations") / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ"))
    jpath, hpath = write_evaluation(doc, extras["track"], out, spec.horizons_s)
    sys.stdout.write("\n".join(_summary_lines(doc)) + "\n")
    wall = extras["wall_seconds"]
    rate = f"{extras['rows'] / wall:,.0f} rows/s" if wall > 0 else "n/a"
    sys.stdout.write(f"evaluation: {jpath}  {hpath}  ({extras['rows']:,} rows, {rate} per "
                     "worker)\n")
    return 0
