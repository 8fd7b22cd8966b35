"""``thalex-mm report RUN_ID``: rebuild a run's ``summary.json`` + ``report.html`` from the journal.

The report is the same one the backtester writes (:func:`thalex_mm.reports.write_report`); its
input :class:`~thalex_mm.reports.RunRecord` is rebuilt from the journal's sampled quotes (mid,
fair value, reservation price, our bid/ask), fills (side, price, amount, fee, maker/taker) and
PnL snapshots (funding). ``rejects`` counts the errors journaled with source ``rejected`` (the
session log writes rejections there) plus any order rows with event ``rejected``;
``requotes`` counts the insert / amend / mass-quote requests in the orders table.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

from thalex_mm.commands.journal_path import default_journal_path
from thalex_mm.errors import ConfigError, DataFileError, TransportError
from thalex_mm.fees import FeeRates
from thalex_mm.reports import RunRecord, format_summary_table, write_report
from thalex_mm.reports.timeline import INFO_SOURCE, error_event, state_change_event
from thalex_mm.reports.writer import MODES
from thalex_mm.store import JournalReader, RunInfo, open_reader

__all__ = ["add_arguments", "default_report_dir", "record_from_journal", "report_after_run",
           "report_extra", "run", "write_run_report"]

_DEFAULT_OUT = "runs/reports"
_SIDES = {"buy": 1, "sell": -1, "bid": 1, "ask": -1, "1": 1, "-1": -1}
#: ``errors.source`` of an exchange rejection of one of our requests (the session log's).
_REJECTED_SOURCE = "rejected"
#: Order events of a quote update sent (the backtester counts the same commands as requotes).
_REQUOTE_EVENTS = frozenset({"sent:insert", "sent:amend", "sent:mass_quote"})


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_id", metavar="RUN_ID", help="the run (see `thalex-mm runs`)")
    src = parser.add_mutually_exclusive_group()
    src.add_argument("--db", metavar="PATH|URL",
                     help="journal file or postgresql:// URL "
                          "(default: monitoring.journal_path, from --config or the environment)")
    src.add_argument("--config", metavar="FILE",
                     help="take the journal path from this config file's monitoring.journal_path")
    parser.add_argument("--out", metavar="DIR",
                        help=f"output directory (default: {_DEFAULT_OUT}/RUN_ID)")


def _f(x: float | None) -> float:
    return math.nan if x is None else float(x)


def _requotes(orders: list[Any]) -> int:
    """Quote updates sent: insert, amend and mass-quote requests (as the backtester counts).

    A mass quote is journaled as one row per level; its rows share ``ts_ns`` and the detail
    prefix ``request N``, so they count once.
    """
    seen: set[tuple[int, str]] = set()
    n = 0
    for o in orders:
        if o.event not in _REQUOTE_EVENTS:
            continue
        if o.event == "sent:mass_quote":
            words = (o.detail or "").split()
            if len(words) >= 2 and words[0] == "request":
                key = (o.ts_ns, words[1])
                if key in seen:
                    continue
                seen.add(key)
        n += 1
    return n


def record_from_journal(reader: JournalReader, run_id: str) -> RunRecord:
    """Rebuild the report input of one run from its journal records.

    Mid prices come from the sampled quotes (the PnL snapshots' mark prices stand in when no
    quote carries a mid). Funding payments are the steps of the snapshots' cumulative ``funding``
    (quote currency, positive = received). The report window is the run's start/stop when
    they bracket the records, else the records' own span.

    Args:
        reader: an open journal.
        run_id: the run.

    Returns:
        The :class:`RunRecord`.

    Raises:
        KeyError: no such run.
        ValueError: a fill's side is not buy/sell (the message names the trade).
    """
    info: RunInfo = reader.get_run(run_id)
    quotes = reader.quotes(run_id)
    fills = reader.fills(run_id)
    pnl = reader.pnl_snapshots(run_id)
    orders = reader.orders(run_id)

    mids = [(q.ts_ns, q.mid) for q in quotes if q.mid is not None and math.isfinite(q.mid)]
    if not mids:
        mids = [(p.ts_ns, p.mark) for p in pnl if p.mark is not None and math.isfinite(p.mark)]
    sides = []
    for f in fills:
        side = _SIDES.get(str(f.side).lower())
        if side is None:
            raise ValueError(f"fill {f.trade_id} of run {run_id}: side {f.side!r}, "
                             "expected buy or sell")
        sides.append(side)
    funding_ts: list[int] = []
    funding_amt: list[float] = []
    previous = 0.0
    for p in pnl:
        if p.funding != previous:
            funding_ts.append(p.ts_ns)
            funding_amt.append(p.funding - previous)
            previous = p.funding

    ts_all = [t for t, _ in mids] + [q.ts_ns for q in quotes] + [f.ts_ns for f in fills]
    first = min(ts_all) if ts_all else None
    last = max(ts_all) if ts_all else None
    start = info.started_ns if first is None or info.started_ns <= first else None
    end = info.stopped_ns if info.stopped_ns is not None and (
        last is None or info.stopped_ns >= last) else None
    if start is not None and end is not None and end < start:
        start = end = None

    events: dict[str, int] = {}
    for o in orders:
        events[o.event] = events.get(o.event, 0) + 1
    try:
        config: Any = json.loads(info.config_json)
    except json.JSONDecodeError:
        config = {}
    counters = {f"orders_{k}": v for k, v in sorted(events.items())}
    risk = reader.risk_events(run_id)
    counters["risk_events"] = len(risk)
    all_errors = reader.errors(run_id)
    errors = [e for e in all_errors if e.source != INFO_SOURCE]
    counters["errors"] = len(errors)
    counters["info"] = len(all_errors) - len(errors)  # expected races, e.g. amend of a filled order
    timeline = [state_change_event(r.ts_ns, r.state, r.previous, r.reason, r.detail) for r in risk]
    timeline += [error_event(e.ts_ns, e.source, e.code, e.message) for e in errors]
    return RunRecord(
        mid_ts_ns=np.array([t for t, _ in mids], dtype=np.int64),
        mid_price=np.array([m for _, m in mids], dtype=np.float64),
        quote_ts_ns=np.array([q.ts_ns for q in quotes], dtype=np.int64),
        quote_bid=np.array([_f(q.bid) for q in quotes]),
        quote_ask=np.array([_f(q.ask) for q in quotes]),
        quote_fair_value=np.array([_f(q.fair_value) for q in quotes]),
        quote_reservation=np.array([_f(q.reservation) for q in quotes]),
        fill_ts_ns=np.array([f.ts_ns for f in fills], dtype=np.int64),
        fill_side=np.array(sides, dtype=np.int8),
        fill_price=np.array([f.price for f in fills], dtype=np.float64),
        fill_amount=np.array([f.amount for f in fills], dtype=np.float64),
        fill_fee_quote=np.array([f.fee for f in fills], dtype=np.float64),
        fill_is_maker=np.array([str(f.maker_taker).lower() == "maker" for f in fills], dtype=bool),
        funding_ts_ns=np.array(funding_ts, dtype=np.int64),
        funding_quote=np.array(funding_amt, dtype=np.float64),
        events=len(quotes) + len(fills) + len(orders),
        wall_seconds=info.duration_s or 0.0,
        instrument=info.instrument or "",
        start_ts_ns=start,
        end_ts_ns=end,
        requotes=_requotes(orders) if orders else None,
        rejects=sum(1 for e in errors if e.source == _REJECTED_SOURCE) + events.get("rejected", 0),
        counters=counters,
        config=config if isinstance(config, dict) else {"config": config},
        timeline=tuple(timeline),
        orders=tuple((o.ts_ns, o.event, o.side or "", o.price, o.amount, o.status or "",
                      o.detail or o.delete_reason or o.change_reason or "") for o in orders),
        fill_trade_id=tuple(f.trade_id for f in fills),
        fill_position_after=np.array([_f(f.position_after) for f in fills], dtype=np.float64),
    )


def report_extra(reader: JournalReader, run_id: str) -> dict[str, Any]:
    """The summary keys a journaled run adds: its exit reason and the fee rates it ran with
    (from its config snapshot)."""
    info = reader.get_run(run_id)
    extra: dict[str, Any] = {"exit_reason": info.exit_reason or "(not finished)"}
    try:
        av = json.loads(info.config_json).get("avellaneda", {})
        extra["fee_rates"] = FeeRates(maker=float(av["maker_fee_rate"]),
                                      taker=float(av["taker_fee_rate"]),
                                      source=f"{info.mode} run's config").describe()
    except (json.JSONDecodeError, AttributeError, KeyError, TypeError, ValueError):
        pass
    return extra


def write_run_report(reader: JournalReader, run_id: str, out: Path) -> dict[str, Any]:
    """Build the report of a journaled run and write it into ``out`` (see ``write_report``)."""
    info = reader.get_run(run_id)
    record = record_from_journal(reader, run_id)
    mode = info.mode if info.mode in MODES else "live"
    return write_report(record, out, title=f"Run {run_id}: {record.instrument or '?'}",
                        mode=mode, extra=report_extra(reader, run_id))


def _journal_location(args: argparse.Namespace) -> str:
    if args.db is not None:
        return args.db
    return default_journal_path(args.config)


def run(args: argparse.Namespace) -> int:
    try:
        reader = open_reader(_journal_location(args))
    except ConfigError as exc:
        for line in exc.lines():
            print(line, file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"{exc} (pass --db PATH)", file=sys.stderr)
        return 2
    except (DataFileError, TransportError) as exc:
        print(str(exc), file=sys.stderr)
        return 2
    try:
        with reader:
            known = {r.run_id for r in reader.list_runs()}
            if args.run_id not in known:
                hint = "; `thalex-mm runs --db ...` lists them" if known else " (it is empty)"
                print(f"unknown run {args.run_id!r} in journal {reader.path}{hint}",
                      file=sys.stderr)
                return 2
            out = Path(args.out) if args.out else Path(_DEFAULT_OUT) / args.run_id
            summary = write_run_report(reader, args.run_id, out)
    except (DataFileError, ValueError) as exc:
        print(f"cannot build the report of run {args.run_id!r}: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(format_summary_table(summary) + "\n")
    sys.stdout.write(f"\nwrote {out / 'summary.json'}, {out / 'fills.csv'} and {out / 'report.html'}\n")
    return 0


def default_report_dir(journal_location: str) -> Path:
    """Where reports of a journal's runs go: ``reports/`` next to a journal file (the default
    journal ``runs/journal.sqlite`` gives ``runs/reports``), ``runs/reports`` for a database URL."""
    if "://" in journal_location and not journal_location.startswith("sqlite:"):
        return Path(_DEFAULT_OUT)
    return Path(journal_location.removeprefix("sqlite:///")).parent / "reports"


def report_after_run(journal_location: str, run_id: str, report_dir: str | None = None) -> Path | None:
    """Write a run's report right after the run (paper, live) into ``report_dir/RUN_ID``
    (default :func:`default_report_dir`) and print where; a failure is printed, never raised:
    the run is over and journaled, and ``thalex-mm report RUN_ID`` rebuilds it. Returns the
    report directory, None on failure."""
    base = Path(report_dir) if report_dir is not None else default_report_dir(journal_location)
    out = base / run_id
    try:
        with open_reader(journal_location) as reader:
            write_run_report(reader, run_id, out)
    except Exception as exc:
        print(f"report: not written ({type(exc).__name__}: {exc}); `thalex-mm report {run_id}` "
              "rebuilds it", file=sys.stderr)
        return None
    print(f"report             {out / 'report.html'}  (fills: {out / 'fills.csv'})")
    return out
