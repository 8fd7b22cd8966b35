"""``thalex-mm paper``: trade against the embedded simulated exchange (no account, no network)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from thalex_mm.commands.sim_cmd import add_market_arguments, market_kwargs
from thalex_mm.config import load_config
from thalex_mm.errors import ConfigError, DataFileError
from thalex_mm.logging_setup import configure_logging

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="TOML config file")
    parser.add_argument("--duration", type=float, default=None, metavar="SECONDS", help="stop after this many seconds (default: until Ctrl-C)")
    parser.add_argument("--replay", nargs="+", metavar="PATH", help="replay recorded data instead of the synthetic market")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic market (default 0)")
    parser.add_argument("--db", metavar="PATH", help="journal file (default: monitoring.journal_path)")
    parser.add_argument("--no-journal", action="store_true", help="do not write a journal")
    parser.add_argument("--no-status", action="store_true", help="no live terminal status")
    parser.add_argument("--dashboard-port", type=int, default=None, metavar="PORT", help="dashboard port (default: monitoring.dashboard_port; 0 = any free port)")
    parser.add_argument("--report-dir", metavar="DIR", default=None,
                        help="write the run's report into DIR/RUN_ID at the end "
                             "(default: reports/ next to the journal, e.g. runs/reports)")
    parser.add_argument("--no-report", action="store_true", help="do not write a report at the end")
    add_market_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from thalex_mm.drivers.paper import run_paper

    try:
        # --sim / --fault / mapping first: a typo fails before anything starts
        sim_kwargs = market_kwargs(args)
        config = load_config(args.config)
        configure_logging(config.monitoring)
    except ConfigError as exc:
        for line in exc.lines():
            print(line, file=sys.stderr)
        return 2
    journal = None
    if not args.no_journal:
        from thalex_mm.store import open_journal

        journal = open_journal(args.db or config.monitoring.journal_path)
    try:
        result = asyncio.run(
            run_paper(
                config, duration_s=args.duration, replay=args.replay, seed=args.seed, journal=journal,
                show_status=not args.no_status, dashboard_port=args.dashboard_port,
                sim_kwargs=sim_kwargs,
            )
        )
    except ConfigError as exc:  # e.g. --qty-unit auto on mixed USD/BTC files
        for line in exc.lines():
            print(line, file=sys.stderr)
        return 2
    except DataFileError as exc:
        print(f"thalex-mm paper: {exc}", file=sys.stderr)
        return 2
    finally:
        if journal is not None:
            journal.close()
    print("\n== paper session summary ==")
    for line in result.lines():
        print(line)
    if journal is not None and result.run_id is not None and not args.no_report:
        from thalex_mm.commands.report_cmd import report_after_run

        report_after_run(args.db or config.monitoring.journal_path, result.run_id, args.report_dir)
    return 1 if "fatal: " in result.exit_reason else 0

