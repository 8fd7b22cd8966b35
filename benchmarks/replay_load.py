"""Market data load and replay throughput.

Measures, for each shared Binance session (``$THALEX_MM_DATA_DIR`` or ``../shared/data``):

a. raw conversion (gzip + JSON → event array): seconds and events/s;
b. cached load (``load_events`` hitting the ``.npz`` cache): seconds and events/s;
c. a pure-Python pass over the array applying level updates to a dict book (the inner loop a
   replay simulator runs), events/s; target ≥ 500,000 events/s;
d. ``map_events`` onto the BTC-PERPETUAL grid and synthetic-market generation, events/s.

Usage: ``.venv/bin/python benchmarks/replay_load.py [--repeat N]``
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from thalex_mm.data import EventKind, load_events, map_events, read_binance_session
from thalex_mm.sim.sources import ReplaySource, SyntheticMarket, SyntheticParams

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("THALEX_MM_DATA_DIR", REPO / ".." / "shared" / "data"))
BINANCE = DATA / "binance_usdm_btcusdt_perp_l2_trades"
SESSIONS = {
    "2023-04-04/05": ["usdm_btcusdt_20230404.dat.gz", "usdm_btcusdt_20230405.dat.gz"],
    "2024-07-18/19": ["usdm_btcusdt_20240718.gz", "usdm_btcusdt_20240719.gz"],
}


def best_of(fn, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def dict_book_pass(arr: np.ndarray) -> int:
    """Apply every event to a dict book the way a replay loop would; returns trades seen."""
    bids: dict[float, float] = {}
    asks: dict[float, float] = {}
    level, clear, trade = int(EventKind.BOOK_LEVEL), int(EventKind.BOOK_CLEAR), int(EventKind.TRADE)
    trades = 0
    for k, s, p, q in zip(
        arr["kind"].tolist(),
        arr["side"].tolist(),
        arr["price"].tolist(),
        arr["qty"].tolist(),
        strict=True,
    ):
        if k == level:
            book = bids if s > 0 else asks
            if q > 0.0:
                book[p] = q
            else:
                book.pop(p, None)
        elif k == trade:
            trades += 1
        elif k == clear:
            bids.clear()
            asks.clear()
    return trades


def replay_pass(arr: np.ndarray) -> int:
    """The same loop fed through ReplaySource(speed=None) chunks."""
    src = ReplaySource(arr, speed=None)
    n = 0
    while not src.exhausted:
        n += dict_book_pass(src.due_until(0))
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rows: list[tuple[str, str, int, float]] = []
    with tempfile.TemporaryDirectory() as cache:
        for name, files in SESSIONS.items():
            paths = [BINANCE / f for f in files]
            if not all(p.is_file() for p in paths):
                print(f"skip {name}: files not found in {BINANCE}")
                continue
            secs, (arr, stats) = best_of(lambda p=paths: read_binance_session(p), args.repeat)
            n = len(arr)
            rows.append((name, "a. raw convert (gzip+JSON)", n, secs))
            rows.append((name, "a'. ... per raw level update", stats.depth_levels, secs))
            load_events(paths, cache)  # fill the cache
            secs, cached = best_of(lambda p=paths: load_events(p, cache), args.repeat)
            assert np.array_equal(cached, arr)
            rows.append((name, "b. cached load (.npz)", n, secs))
            secs, _ = best_of(lambda a=arr: dict_book_pass(a), args.repeat)
            rows.append((name, "c. python dict-book pass", n, secs))
            secs, _ = best_of(lambda a=arr: replay_pass(a), args.repeat)
            rows.append((name, "c'. same via ReplaySource", n, secs))
            secs, _ = best_of(lambda a=arr: map_events(a, target_tick=1.0), args.repeat)
            rows.append((name, "d. map_events to tick 1", n, secs))
    market = SyntheticParams()
    secs, syn = best_of(lambda: SyntheticMarket(market, seed=1).generate(3600.0), args.repeat)
    rows.append(("synthetic 1 h", "d. SyntheticMarket.generate", len(syn), secs))

    print(f"{'data':<15} {'measure':<30} {'events':>10} {'seconds':>9} {'events/s':>12}")
    for name, what, n, secs in rows:
        print(f"{name:<15} {what:<30} {n:>10,} {secs:>9.3f} {n / secs:>12,.0f}")


if __name__ == "__main__":
    main()
