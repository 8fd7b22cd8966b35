"""``thalex-mm runs``: list the runs in the journal, newest first.

One row per run: run id, mode (paper/live/backtest), start (UTC), duration, fills, volume
(contracts), PnL after fees and funding (quote currency, at the run's last PnL snapshot),
max |position| (contracts) and the exit reason (what ended the run: a kill switch or risk
halt first, then the stop that followed, e.g. ``duration reached`` or ``signal``).
"""

from __future__ import annotations

import argparse
import sys
import time

from thalex_mm.commands.journal_path import NO_JOURNAL_HINT, default_journal_path
from thalex_mm.errors import ConfigError, DataFileError, TransportError
from thalex_mm.progress import format_duration, format_pnl
from thalex_mm.store import RunInfo, open_reader
from thalex_mm.store.records import RunTotals
from thalex_mm.store.scrub import scrub_text

__all__ = ["add_arguments", "format_duration", "format_runs", "run"]

_HEADERS = ("RUN ID", "MODE", "STARTED (UTC)", "DURATION", "FILLS", "VOLUME", "PNL",
            "MAX |POS|", "EXIT REASON")
#: Right-aligned columns (numbers).
_NUMERIC = frozenset({"DURATION", "FILLS", "VOLUME", "PNL", "MAX |POS|"})


def add_arguments(parser: argparse.ArgumentParser) -> None:
    src = parser.add_mutually_exclusive_group()
    src.add_argument("--db", metavar="PATH|URL",
                     help="journal file or postgresql:// URL "
                          "(default: monitoring.journal_path of the config and environment, "
                          "THALEX_MM__MONITORING__JOURNAL_PATH)")
    src.add_argument("--config", metavar="FILE",
                     help="take the journal path from this config file's monitoring.journal_path")


def format_runs(runs: list[RunInfo], totals: dict[str, RunTotals] | None = None) -> str:
    """The runs as a plain-text table, in the order given.

    Columns: run id, mode, start (UTC), duration, fills, volume (contracts), PnL after fees
    and funding (quote currency, last snapshot), max |position| (contracts), exit reason.
    ``totals`` per run id (``JournalReader.run_totals``); a run without shows ``-``.
    """
    totals = totals or {}
    rows = []
    for r in runs:
        t = totals.get(r.run_id)
        rows.append((
            r.run_id,
            r.mode,
            time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(r.started_ns // 1_000_000_000)),
            format_duration(r.duration_s),
            str(r.fill_count),
            "-" if t is None else f"{t.volume:.3f}",
            "-" if t is None else format_pnl(t.pnl_total),
            "-" if t is None else f"{t.max_abs_position:.3f}",
            r.exit_reason if r.exit_reason is not None else "(not finished)",
        ))
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(_HEADERS)]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(c.rjust(w) if h in _NUMERIC else c.ljust(w)
                         for c, w, h in zip(cells, widths, _HEADERS, strict=True)).rstrip()

    return "\n".join([line(_HEADERS), *(line(row) for row in rows)]) + "\n"


def run(args: argparse.Namespace) -> int:
    try:
        location = args.db if args.db is not None else default_journal_path(args.config)
        reader = open_reader(location)
    except ConfigError as exc:
        for line in exc.lines():
            print(scrub_text(line), file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"{scrub_text(str(exc))} ({NO_JOURNAL_HINT})", file=sys.stderr)
        return 2
    except (DataFileError, TransportError) as exc:
        print(scrub_text(str(exc)), file=sys.stderr)
        return 2
    try:
        with reader:
            runs = reader.list_runs()
            totals = {r.run_id: reader.run_totals(r.run_id) for r in runs}
    except DataFileError as exc:
        print(scrub_text(str(exc)), file=sys.stderr)
        return 2
    if not runs:
        print(f"no runs in {scrub_text(str(reader.path))}")
        return 0
    sys.stdout.write(format_runs(runs, totals))
    return 0
