"""Matching-engine throughput: operations per second, in process.

A mix like a replayed L2 feed with a market maker on top: external level updates (60 %),
inserts (14 %), amends (10 %), cancels (10 %), recorded trades (3 %) and external market
orders (3 %) around a mid that random-walks. Prints ops/s overall and per kind.

    .venv/bin/python benchmarks/engine_ops.py [n_ops]
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

from thalex_mm.core.types import Instrument, Side
from thalex_mm.sim.engine import MatchingEngine

PERP = "BTC-PERPETUAL"


def build_ops(n: int, seed: int = 7) -> list[tuple]:
    rng = np.random.default_rng(seed)
    kinds = rng.choice(6, size=n, p=[0.60, 0.14, 0.10, 0.10, 0.03, 0.03])
    mids = 65000 + np.cumsum(rng.integers(-1, 2, size=n))
    offs = rng.integers(1, 20, size=n)
    sides = rng.integers(0, 2, size=n)
    amts = rng.integers(1, 500, size=n) / 1000
    picks = rng.integers(0, 1 << 30, size=n)
    ops = []
    for i in range(n):
        side = Side.BUY if sides[i] else Side.SELL
        off = int(offs[i])
        price = float(mids[i] - off if side is Side.BUY else mids[i] + off)
        ops.append((int(kinds[i]), side, price, float(amts[i]), int(picks[i]), float(mids[i])))
    return ops


def new_engine() -> MatchingEngine:
    e = MatchingEngine()
    e.add_instrument(Instrument(name=PERP, product="FBTCUSD", tick_size=1.0,
                                volume_tick_size=0.001, min_order_amount=0.001,
                                underlying="BTCUSD"))
    e.set_mark(PERP, 65000.0)
    e.open_session("mm", "MM")
    return e


def run(e: MatchingEngine, ops: list[tuple], timed: bool) -> tuple[list[int], list[float]]:
    """Apply ``ops``; with ``timed`` also measure each kind (adds two clock reads per op)."""
    live: list[str] = []
    counts = [0] * 6
    spent = [0.0] * 6
    clock = time.perf_counter
    t0 = 0.0
    set_level, insert, amend, cancel = e.set_external_level, e.insert, e.amend, e.cancel
    for ts, (kind, side, price, amount, pick, mid) in enumerate(ops):
        if timed:
            t0 = clock()
        if kind == 0:
            set_level(PERP, side, price, amount * 4 if pick & 3 else 0.0, ts_ns=ts)
        elif kind == 1:
            r = insert("mm", PERP, side, amount, price, ts_ns=ts).response
            if r is not None and r.status.is_live:
                live.append(r.order_id)
        elif kind == 2 and live:
            oid = live[pick % len(live)]
            out = amend("mm", amount, price, order_id=oid, ts_ns=ts)
            if out.error is None and not out.response.status.is_live:
                live.remove(oid)
        elif kind == 3 and live:
            cancel("mm", order_id=live.pop(pick % len(live)), ts_ns=ts)
        elif kind == 4:
            e.external_trade(PERP, side, mid + (1 if side is Side.BUY else -1), amount, ts_ns=ts)
        elif kind == 5:
            e.external_market_order(PERP, side, amount, ts_ns=ts)
        if timed:
            spent[kind] += clock() - t0
            counts[kind] += 1
        if len(live) > 200:  # keep the resting set realistic
            cancel("mm", order_id=live.pop(0), ts_ns=ts)
    return counts, spent


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    ops = build_ops(n)
    best = 0.0
    for _ in range(3):
        e = new_engine()
        t_start = time.perf_counter()
        run(e, ops, timed=False)
        best = max(best, n / (time.perf_counter() - t_start))
    print(f"engine ops: {n} mixed ops, best of 3: {best:,.0f} ops/s (incl. driver loop)")
    counts, spent = run(new_engine(), ops, timed=True)
    names = ["external level", "insert", "amend", "cancel", "external trade", "external market"]
    for name, c, s in zip(names, counts, spent, strict=True):
        if c:
            print(f"  {name:16s} {c:8d} ops  {c / s:12,.0f} ops/s  {s / c * 1e6:6.2f} us/op")
    print(f"  (CPU: {os.cpu_count()} cores; Python {sys.version.split()[0]})")


if __name__ == "__main__":
    main()
