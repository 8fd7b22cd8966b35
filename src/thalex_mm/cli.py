"""The ``thalex-mm`` command line. Each subcommand lives in its own module; this file only wires them."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from thalex_mm import __version__, build_info, build_mode

__all__ = ["main"]

# (name, module, help). Each module exposes ``add_arguments(parser)`` and ``run(args) -> int``.
SUBCOMMANDS: tuple[tuple[str, str, str], ...] = (
    ("paper", "thalex_mm.commands.paper_cmd", "paper-trade against the embedded simulated exchange (main job)"),
    ("live", "thalex_mm.commands.live_cmd", "trade on Thalex (testnet or production)"),
    ("config", "thalex_mm.commands.config_cmd", "show or check the configuration (BOT_CONFIG)"),
    ("validate", "thalex_mm.commands.validate_cmd", "reproduce published model results (as2008)"),
    ("runs", "thalex_mm.commands.runs_cmd", "list the runs in the journal"),
    ("backtest", "thalex_mm.commands.backtest_cmd", "replay market data through the quoter; writes a report"),
    ("sweep", "thalex_mm.commands.sweep_cmd", "run a backtest parameter grid on all cores"),
    ("evaluate", "thalex_mm.commands.evaluate_cmd", "walk-forward evaluation over every session, with confidence intervals"),
    ("report", "thalex_mm.commands.report_cmd", "rebuild a run's summary.json + report.html from the journal"),
    ("sim", "thalex_mm.commands.sim_cmd", "run the simulated Thalex exchange"),
    ("record", "thalex_mm.commands.record_cmd", "record Thalex public feeds to replay files"),
    ("soak", "thalex_mm.commands.soak_cmd", "soak the quoter against the simulator with random faults (invariants checked)"),
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="thalex-mm",
        description="Avellaneda-Stoikov / GLFT market maker for Thalex, with a simulated exchange.",
    )
    parser.add_argument("--version", action="version",
                        version=f"thalex-mm {__version__} ({build_mode()})")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name, help_text in SUBCOMMANDS:
        module = importlib.import_module(module_name)
        p = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    # Logging before anything runs: INFO, secrets redacted, chatty transport loggers capped.
    # Commands that load a config re-apply it with ``monitoring.log_level``/``log_format``.
    from thalex_mm.logging_setup import configure_logging

    configure_logging()
    _warn_if_fallen_back()
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        return 130


def _warn_if_fallen_back() -> None:
    """One line on stderr when the install meant to compile but fell back to pure Python
    (a deliberate ``THALEX_MM_COMPILE=0`` or ``THALEX_MM_PURE_PYTHON=1`` stays quiet)."""
    mode = build_mode()
    if mode.startswith("pure (not compiled") and "THALEX_MM_COMPILE=0" not in str(
        build_info().get("reason")
    ):
        print(f"thalex-mm: running {mode}; see docs/build.md", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
