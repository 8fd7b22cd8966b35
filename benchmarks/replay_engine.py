"""Replay of the shared BTCUSDT captures through ``MarketFeed.apply`` into the matching engine.

For each shared Binance session (``$THALEX_MM_DATA_DIR`` or ``../shared/data``): load through
the cache, map onto the BTC-PERPETUAL grid (tick 1, volume tick 0.001), then apply every row to
a fresh engine as fast as possible (``trade_mode="print"``, as the replaying simulator does).
Prints events/s (level updates + trades + the rest), best of N; target ≥ 500,000 events/s.

    .venv/bin/python benchmarks/replay_engine.py [--repeat N] [--chunk ROWS]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from thalex_mm.data import EventKind, load_events, map_events
from thalex_mm.sim.engine import EngineConfig, MatchingEngine
from thalex_mm.sim.market_feed import BTC_PERPETUAL, MarketFeed

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("THALEX_MM_DATA_DIR", REPO / ".." / "shared" / "data"))
BINANCE = DATA / "binance_usdm_btcusdt_perp_l2_trades"
SESSIONS = {
    "2023-04-04/05": ["usdm_btcusdt_20230404.dat.gz", "usdm_btcusdt_20230405.dat.gz"],
    "2024-07-18/19": ["usdm_btcusdt_20240718.gz", "usdm_btcusdt_20240719.gz"],
}


class _NoSource:
    def due_until(self, now_ns: int) -> np.ndarray:  # pragma: no cover - never called
        raise AssertionError


def replay(arr: np.ndarray, chunk: int) -> tuple[float, MarketFeed]:
    engine = MatchingEngine(EngineConfig())
    engine.add_instrument(BTC_PERPETUAL)
    feed = MarketFeed(engine, _NoSource(), trade_mode="print")
    t0 = time.perf_counter()
    for i in range(0, len(arr), chunk):
        feed.apply(arr[i:i + chunk])
    return time.perf_counter() - t0, feed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--chunk", type=int, default=65_536, help="rows per apply() call")
    args = ap.parse_args()
    total_n, total_s = 0, 0.0
    with tempfile.TemporaryDirectory() as cache:
        for name, files in SESSIONS.items():
            paths = [BINANCE / f for f in files]
            if not all(p.is_file() for p in paths):
                print(f"skip {name}: files not found in {BINANCE}")
                continue
            arr = map_events(load_events(paths, cache), target_tick=1.0, target_volume_tick=0.001)
            kinds = np.bincount(arr["kind"], minlength=8)
            best = min(replay(arr, args.chunk)[0] for _ in range(args.repeat))
            total_n += len(arr)
            total_s += best
            print(f"{name}: {len(arr):,} events ({kinds[EventKind.BOOK_LEVEL]:,} level updates, "
                  f"{kinds[EventKind.TRADE]:,} trades), best of {args.repeat}: {best:.3f} s, "
                  f"{len(arr) / best:,.0f} events/s")
    if total_n:
        print(f"both sessions: {total_n:,} events, {total_n / total_s:,.0f} events/s "
              f"(CPU: {os.cpu_count()} cores; Python {sys.version.split()[0]})")


if __name__ == "__main__":
    main()
