"""Memory: peak RSS of a backtest of all shared data, and the state per order and book level.

1. **Peak RSS**: ``thalex-mm backtest`` over every Binance session under the shared data
   (USDⓈ-M BTCUSDT 2023 and 2024, USDⓈ-M ETHUSDT, COIN-M ETHUSD; the Tardis folder holds
   10-15-row format samples, no session), default config and settings, report written, in a
   child process: its peak resident set (``ru_maxrss``), against a child that only imports
   the backtest (the interpreter, numpy, pydantic and the package). Target < 300 MB.
2. **Per object**, measured with ``tracemalloc`` over N objects built through the real code
   (the traced bytes after building them, less before, over N; garbage collected first):

   * an open order in the core: ``OrderManager.on_sent(InsertOrder)`` (the ``TrackedOrder``,
     its ``trade_ids`` set, its entries in the manager's indexes, the request it keeps until
     the response);
   * an open order in the matching engine: ``MatchingEngine.insert`` of a resting post-only
     order (``RestingOrder`` and its index entries; at 10 shared price levels);
   * a book level in the core: ``OrderBook.apply_snapshot`` (price → amount dict entry and
     the sorted price list slot, float objects included);
   * a book level in the engine: ``MatchingEngine.set_external_level`` at a new price
     (``Level``, its dict entry and sort key);
   * a market row in the backtest: the loaded event array and the tape built from it, bytes
     per row (numpy arrays: exact ``nbytes``).

Usage: ``python benchmarks/memory.py [--n 20000]`` (the shared data in
``$THALEX_MM_DATA_DIR`` or ``../shared/data``).
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import os
import resource
import subprocess
import sys
import tempfile
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np

from thalex_mm.backtest.sessions import group_sessions, load_session
from thalex_mm.backtest.tape import build_tape, infer_tick_size
from thalex_mm.config.models import BotConfig
from thalex_mm.core.book import OrderBook
from thalex_mm.core.commands import InsertOrder
from thalex_mm.core.events import BookSnapshotReceived
from thalex_mm.core.order_manager import OrderManager
from thalex_mm.core.types import Instrument, Side
from thalex_mm.sim.engine import MatchingEngine

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("THALEX_MM_DATA_DIR", REPO / ".." / "shared" / "data"))
SESSION_DIRS = ("binance_usdm_btcusdt_perp_l2_trades", "binance_usdm_ethusdt_perp_l2_trades",
                "binance_coinm_ethusd_perp_l2_trades")
PERP = "BTC-PERPETUAL"
TARGET_MB = 300.0


def child_peak_rss_mb(args: list[str]) -> float:
    """Peak RSS of one child process running ``python args…``, MB (1e6 bytes)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run([sys.executable, *args], check=True, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if after <= before:  # ru_maxrss of children is a maximum: a smaller child does not show
        raise RuntimeError("measure the larger child last (ru_maxrss did not grow)")
    return after * 1024 / 1e6  # Linux: KiB


def traced_bytes_per(n: int, build: Callable[[int], object]) -> float:
    """Traced bytes kept by ``build(n)`` (its result held), per object."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        keep = build(n)
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    del keep
    return (after - before) / n


def _instrument() -> Instrument:
    return Instrument(name=PERP, product="FBTCUSD", tick_size=0.1, volume_tick_size=0.001,
                      min_order_amount=0.001, underlying="BTCUSD")


def core_orders(n: int) -> OrderManager:
    om = OrderManager(BotConfig().order)
    for i in range(n):
        om.on_sent(i + 1, InsertOrder(client_order_id=i + 1, instrument=PERP, side=Side.BUY,
                                      amount=0.01, price=60_000.0 + (i % 10), post_only=True,
                                      label="q"))
    return om


def _engine() -> MatchingEngine:
    e = MatchingEngine()
    e.add_instrument(_instrument())
    e.set_mark(PERP, 65_000.0)
    e.open_session("mm", "MM")
    return e


def engine_orders(n: int) -> MatchingEngine:
    e = _engine()
    for i in range(n):
        e.insert("mm", PERP, Side.BUY, 0.01, 64_000.0 + (i % 10), ts_ns=i,
                 client_order_id=i + 1, post_only=True)
    return e


def engine_levels(n: int) -> MatchingEngine:
    e = _engine()
    for i in range(n):
        e.set_external_level(PERP, Side.BUY, round(10_000.0 + i * 0.1, 1), 0.5 + i % 7, ts_ns=i)
    return e


def core_levels(n: int) -> OrderBook:
    half = n // 2
    bids = tuple((round(60_000.0 - i * 0.1, 1), 0.5 + i % 7) for i in range(half))
    asks = tuple((round(60_000.1 + i * 0.1, 1), 0.5 + i % 7) for i in range(n - half))
    ev = BookSnapshotReceived(exchange_ts_ns=1, local_ts_ns=1, instrument=PERP, bids=bids,
                              asks=asks)
    book = OrderBook(PERP)
    del bids, asks  # the book keeps its own dict and list (the event's tuples go)
    book.apply_snapshot(ev)
    del ev
    return book


def row_bytes(sessions: list) -> tuple[int, float, float]:
    """(rows, event-array bytes per row, tape bytes per row) over the sessions."""
    rows = ev_bytes = tape_bytes = 0
    for sess in sessions:
        events = load_session(sess)
        tape = build_tape(events, tick_size=infer_tick_size(events), batch_ns=1_000_000,
                          feed_latency_ns=None, feed_base_latency_ns=1_000_000)
        rows += events.size
        ev_bytes += events.nbytes
        tape_bytes += sum(getattr(tape, f.name).nbytes for f in dataclasses.fields(tape)
                          if isinstance(getattr(tape, f.name), np.ndarray))
    return rows, ev_bytes / rows, tape_bytes / rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=20_000, help="objects per per-object figure")
    args = ap.parse_args()
    dirs = [DATA / d for d in SESSION_DIRS if (DATA / d).is_dir()]
    if len(dirs) < len(SESSION_DIRS):
        missing = [d for d in SESSION_DIRS if not (DATA / d).is_dir()]
        sys.stderr.write(f"memory: skipped: shared data missing under {DATA}: "
                         f"{', '.join(missing)} (set THALEX_MM_DATA_DIR)\n")
        return 0
    sessions = group_sessions([str(d) for d in dirs])
    base = child_peak_rss_mb(["-c", "import thalex_mm.backtest.api, thalex_mm.cli"])
    with tempfile.TemporaryDirectory() as out:
        peak = child_peak_rss_mb(["-m", "thalex_mm", "backtest", "--no-progress", "--out", out,
                                  "--data", *map(str, dirs)])
    rows, ev_row, tape_row = row_bytes(sessions)
    print(f"backtest of all shared data ({len(sessions)} sessions: "
          f"{', '.join(s.label for s in sessions)}; {rows:,} rows), one process: peak RSS "
          f"{peak:.0f} MB (target < {TARGET_MB:.0f} MB: {'met' if peak < TARGET_MB else 'MISSED'})"
          f"; a process that only imports the backtest: {base:.0f} MB")
    print(f"  per market row: event array {ev_row:.0f} B + tape {tape_row:.0f} B (numpy)")
    n = args.n
    figures = [
        ("open order, core (OrderManager.on_sent: TrackedOrder + indexes + request)",
         core_orders),
        ("open order, matching engine (RestingOrder + indexes)", engine_orders),
        ("book level, core (OrderBook)", core_levels),
        ("book level, matching engine (Level)", engine_levels),
    ]
    for name, build in figures:
        print(f"  {name}: {traced_bytes_per(n, build):,.0f} B (tracemalloc over {n:,})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
