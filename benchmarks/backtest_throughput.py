"""Backtest throughput on the shared BTCUSDT captures, quoter active at 100 ms requote.

Market data reaches the core in batches of ``--batch-ms`` (default: the backtest default).

Prints per session: cached load time, tape precompute, event loop, rows/s (loop only and
tape + loop), rows that needed the engine, core events. Run twice: the first run may convert
the raw captures into the cache.

Usage: ``.venv/bin/python benchmarks/backtest_throughput.py [--repeat N] [--core-band-bps X]
[--batch-ms MS]``
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from thalex_mm.backtest.runner import (
    DEFAULT_BATCH_MS,
    BacktestSettings,
    SessionResult,
    run_session,
)
from thalex_mm.config.models import BotConfig
from thalex_mm.data import load_events
from thalex_mm.reports import RunRecorder

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("THALEX_MM_DATA_DIR", REPO / ".." / "shared" / "data"))
BINANCE = DATA / "binance_usdm_btcusdt_perp_l2_trades"
SESSIONS = {
    "2023-04-04/05": ["usdm_btcusdt_20230404.dat.gz", "usdm_btcusdt_20230405.dat.gz"],
    "2024-07-18/19": ["usdm_btcusdt_20240718.gz", "usdm_btcusdt_20240719.gz"],
}


def best_run(events: np.ndarray, config: BotConfig, settings: BacktestSettings,
             repeat: int) -> SessionResult:
    """The fastest of ``repeat`` runs of one session (tape + loop wall time; load excluded)."""
    best: SessionResult | None = None
    for _ in range(max(1, repeat)):
        res = run_session(events, config, settings, RunRecorder(instrument="BTC-PERPETUAL"))
        if best is None or res.tape_seconds + res.loop_seconds < (
                best.tape_seconds + best.loop_seconds):
            best = res
    assert best is not None
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--core-band-bps", type=float, default=None)
    ap.add_argument("--batch-ms", type=float, default=DEFAULT_BATCH_MS,
                    help=f"market-data batch length, ms (default {DEFAULT_BATCH_MS:g})")
    args = ap.parse_args()
    config = BotConfig()  # quoting.min_requote_interval_ms = 100
    settings = BacktestSettings(core_band_bps=args.core_band_bps, batch_ms=args.batch_ms)
    tot_rows = 0
    tot_best = 0.0
    for label, names in SESSIONS.items():
        files = [BINANCE / n for n in names]
        t = time.perf_counter()
        events = load_events(files)
        load_s = time.perf_counter() - t
        best = best_run(events, config, settings, args.repeat)
        run_s = best.tape_seconds + best.loop_seconds
        tot_rows += best.rows
        tot_best += run_s
        print(f"{label}: rows {best.rows:,}  load(cache) {load_s:.3f}s  tape {best.tape_seconds:.3f}s"
              f"  loop {best.loop_seconds:.3f}s  => {best.rows / run_s:,.0f} rows/s "
              f"(loop only {best.rows / best.loop_seconds:,.0f}/s)  batches {best.batches:,}"
              f"  rows->engine {best.rows_to_engine:,}  engine ops {best.engine_ops:,}"
              f"  core events {best.core_events:,}")
    print(f"all sessions: {tot_rows:,} rows in {tot_best:.3f}s => {tot_rows / tot_best:,.0f} rows/s"
          f" (tape + loop, cache warm, quoter at 100 ms, batches of {args.batch_ms:g} ms)")


if __name__ == "__main__":
    main()
