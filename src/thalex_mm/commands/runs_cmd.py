"""``thalex-mm runs``: list the runs in the journal, newest first."""

from __future__ import annotations

import argparse
import sys
import time

from thalex_mm.commands.journal_path import NO_JOURNAL_HINT, default_journal_path
from thalex_mm.errors import ConfigError, DataFileError, TransportError
from thalex_mm.progress import format_duration
from thalex_mm.store import RunInfo, open_reader
from thalex_mm.store.scrub import scrub_text

__all__ = ["add_arguments", "format_duration", "format_runs", "run"]

_HEADERS = ("RUN ID", "MODE", "STARTED (UTC)", "DURATION", "FILLS", "EXIT REASON")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    src = parser.add_mutually_exclusive_group()
    src.add_argument("--db", metavar="PATH|URL",
                     help="journal file or postgresql:// URL "
                          "(default: monitoring.journal_path of the config and environment, "
                          "THALEX_MM__MONITORING__JOURNAL_PATH)")
    src.add_argument("--config", metavar="FILE",
                     help="take the journal path from this config file's monitoring.journal_path")


def format_runs(runs: list[RunInfo]) -> str:
    """The runs as a plain-text table, in the order given."""
    rows = [
        (
            r.run_id,
            r.mode,
            time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(r.started_ns // 1_000_000_000)),
            format_duration(r.duration_s),
            str(r.fill_count),
            r.exit_reason if r.exit_reason is not None else "(not finished)",
        )
        for r in runs
    ]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(_HEADERS)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(_HEADERS, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
              for row in rows]
    return "\n".join(lines) + "\n"


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
    except DataFileError as exc:
        print(scrub_text(str(exc)), file=sys.stderr)
        return 2
    if not runs:
        print(f"no runs in {scrub_text(str(reader.path))}")
        return 0
    sys.stdout.write(format_runs(runs))
    return 0
