"""``thalex-mm backtest``: replay recorded (or synthetic) market data through the trading core.

Exit codes: 0 done; 2 bad input (corrupt data file, bad config, bad time or option).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["add_arguments", "add_world_arguments", "build_settings", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", nargs="+", required=True, metavar="PATH",
                        help="data files or directories (Binance raw, Tardis CSV, recordings; files "
                        "whose contents are continuous in time form one session) or "
                        "synthetic:SECONDS[:SEED]")
    parser.add_argument("--config", metavar="FILE", help="BOT_CONFIG TOML file")
    parser.add_argument("--out", metavar="DIR",
                        help="report directory (default ./backtests/<UTC timestamp>/)")
    parser.add_argument("--from", dest="start", metavar="T",
                        help="start, ISO-8601 UTC or epoch seconds")
    parser.add_argument("--to", dest="end", metavar="T", help="end, ISO-8601 UTC or epoch seconds")
    add_world_arguments(parser)
    parser.add_argument("--strip-timing", action="store_true",
                        help="write wall-clock keys as null (reproducible summary.json)")
    parser.add_argument("--no-progress", action="store_true",
                        help="no progress output on stderr (a bar on a terminal, else a line per 10%%)")


def add_world_arguments(parser: argparse.ArgumentParser) -> None:
    """The simulated world's options (seed, latencies, batch, queue model, band), shared by
    ``backtest``, ``sweep`` and ``evaluate``; :func:`build_settings` reads them."""
    from thalex_mm.backtest.runner import DEFAULT_BATCH_MS, QUEUE_MODELS

    parser.add_argument("--seed", type=int, default=0, help="seed for latency jitter and "
                        "synthetic data (default 0)")
    parser.add_argument("--latency-ms", type=float, default=5.0,
                        help="order-entry latency (core -> engine), ms (default 5)")
    parser.add_argument("--response-latency-ms", type=float, default=None,
                        help="response/notification latency (engine -> core), ms "
                        "(default: same as --latency-ms)")
    parser.add_argument("--latency-jitter", type=float, default=0.0,
                        help="lognormal sigma of the latency (default 0: constant)")
    parser.add_argument("--feed-latency-ms", type=float, default=None,
                        help="constant feed latency, ms (default: from recorded timestamps)")
    parser.add_argument("--batch-ms", type=float, default=DEFAULT_BATCH_MS,
                        help="market-data batch length, ms (default "
                        f"{DEFAULT_BATCH_MS:g}; see BacktestSettings)")
    parser.add_argument("--queue-model", choices=QUEUE_MODELS, default="risk_averse",
                        help="queue-position model (default risk_averse)")
    parser.add_argument("--core-band-bps", type=float, default=None,
                        help="deliver to the core only book levels within this distance of "
                        "the mid, bps (default: all levels)")


def build_settings(args: argparse.Namespace):
    from thalex_mm.backtest.runner import BacktestSettings

    return BacktestSettings(
        order_latency_ms=args.latency_ms,
        response_latency_ms=(args.latency_ms if args.response_latency_ms is None
                             else args.response_latency_ms),
        batch_ms=args.batch_ms,
        latency_jitter=args.latency_jitter, feed_latency_ms=args.feed_latency_ms,
        queue_model=args.queue_model, seed=args.seed, core_band_bps=args.core_band_bps,
    )


def load_bot_config(path: str | None):
    from thalex_mm.config import load_config

    return load_config(path)


def run(args: argparse.Namespace) -> int:
    from thalex_mm.backtest.api import run_backtest
    from thalex_mm.backtest.sessions import parse_time_ns
    from thalex_mm.errors import ConfigError, DataFileError
    from thalex_mm.progress import Progress
    from thalex_mm.reports import format_summary_table

    try:
        start = parse_time_ns(args.start) if args.start else None
        end = parse_time_ns(args.end) if args.end else None
        settings = build_settings(args)
        config = load_bot_config(args.config)
        out = Path(args.out) if args.out else (
            Path("backtests") / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ"))
        outcome = run_backtest(args.data, config, settings, start_ns=start, end_ns=end,
                               out_dir=out, strip_timing=args.strip_timing,
                               progress=None if args.no_progress else Progress)
    except (DataFileError, ConfigError, ValueError) as exc:
        sys.stderr.write(f"thalex-mm backtest: {exc}\n")
        return 2
    summary = {k: v for k, v in outcome.summary.items() if k != "config"}
    sys.stdout.write(format_summary_table(summary) + "\n")
    sys.stdout.write(f"report: {out / 'summary.json'}  {out / 'report.html'}\n")
    return 0
