"""The real quote path: ``MarketMakerCore.handle(BookDeltaReceived)`` end to end (market state,
TA, intensity, fair value, model, risk gate, diff, budget, last-line checks) and the request
frames encoded for what it returns.

``quote_step.py`` times the parts wired by hand; this one is what the quoter runs per book
message. The market is ``thalex_mm.testing.quote_walk``: a seeded random walk of the mid (most
steps leave the orders alone), ``min_requote_interval_ms = 0`` so every message is a quote step;
the venue acknowledges every request between steps (untimed). The same scenario's outputs are
pinned by ``tests/backtest/test_hot_path_identity.py``. Target (issue 5): p50 <= 20 us, p99 <= 100 us.

Usage: ``python benchmarks/core_step.py [--n 20000] [--levels 1 3] [--seed 7]``.
"""

from __future__ import annotations

import argparse
import time

from thalex_mm.core.market_maker import MarketMakerCore
from thalex_mm.protocol.requests import command_to_request, encode_frame
from thalex_mm.testing.quote_walk import Venue, open_market, walk, walk_config


def run(n: int, levels: int, seed: int) -> tuple[list[int], int]:
    """Times of ``handle(book delta)`` + encode over ``n`` steps of the walk, and frames sent."""
    core = MarketMakerCore(walk_config(levels))
    venue = Venue(core)
    open_market(core, venue)
    perf = time.perf_counter_ns
    times: list[int] = []
    frames = 0
    for now, ticker, ev in walk(n, seed):
        if ticker is not None:
            core.handle(ticker)
        t0 = perf()
        out = core.handle(ev).commands
        encoded = [encode_frame(command_to_request(c, 10_000 + k)) for k, c in enumerate(out)]
        times.append(perf() - t0)
        frames += len(encoded)
        venue(out, now + 1)
    return times, frames


def _pct(xs: list[int], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))] / 1e3


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--levels", type=int, nargs="+", default=[1, 3])
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    print(f"MarketMakerCore.handle(book delta) + encode: {args.n} messages per case; times in us")
    print(f"{'levels':>6} {'p50':>8} {'p99':>8} {'max':>9}  frames")
    for levels in args.levels:
        run(2_000, levels, args.seed + 1)  # warm-up
        xs, frames = run(args.n, levels, args.seed)
        print(f"{levels:>6} {_pct(xs, 0.5):>8.2f} {_pct(xs, 0.99):>8.2f} {max(xs) / 1e3:>9.1f}  {frames}")
    print("target: p50 <= 20 us, p99 <= 100 us")


if __name__ == "__main__":
    main()
