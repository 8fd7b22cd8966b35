"""One quote computation (σ, A, k known): model → levels → rounding → WantedQuotes.

Prints p50 / p99 in microseconds for AS (rolling horizon) and GLFT, 1 and 3 levels.
Target: p50 <= 10 µs. Usage: ``python benchmarks/quote_compute.py [--n 20000]``.
"""

from __future__ import annotations

import argparse
import time

from thalex_mm.config.models import AvellanedaConfig, HorizonMode, OrderConfig, QuotingConfig
from thalex_mm.core.quote_builder import QuoteBuilder
from thalex_mm.core.types import Instrument

BTC = Instrument(
    name="BTC-PERPETUAL", product="FBTCUSD", tick_size=1.0, volume_tick_size=0.001,
    min_order_amount=0.001, underlying="BTCUSD",
)


def bench(horizon: HorizonMode, levels: int, n: int, cold: bool = False) -> tuple[float, float]:
    """p50, p99 in µs. ``cold``: fair value moves 1.37 ticks per call, so no rounded price ever
    repeats (no QuoteLevel reuse); otherwise prices cycle as in a quiet market."""
    av = AvellanedaConfig(horizon=horizon, gamma=0.05, horizon_s=600.0, eta=0.05, unit_size=0.01)
    order = OrderConfig(sizes=(0.01,), levels=levels, level_spacing_ticks=5)
    qb = QuoteBuilder(BTC, av, QuotingConfig(), order)
    samples = []
    perf = time.perf_counter_ns
    ts = 1_716_163_200_000_000_000
    for i in range(n):
        fv = 65_000.0 + (i * 1.37 if cold else (i % 50) * 0.37)
        pos = ((i % 11) - 5) * 0.01
        t0 = perf()
        qb.build(ts_ns=ts + i, fair_value=fv, sigma=25.0, A=2.0, k=0.05, position=pos,
                 best_bid=fv - 3.0, best_ask=fv + 3.0)
        samples.append(perf() - t0)
    samples.sort()
    return samples[len(samples) // 2] / 1000.0, samples[int(len(samples) * 0.99)] / 1000.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=20_000, help="timed calls per case (default 20000)")
    args = ap.parse_args()
    print(f"quote computation, {args.n} calls per case (µs)")
    print(f"{'model':<6} {'levels':>6} {'prices':>8} {'p50':>8} {'p99':>8}")
    for horizon, name in ((HorizonMode.ROLLING, "AS"), (HorizonMode.INFINITE, "GLFT")):
        for levels in (1, 3):
            for cold in (False, True):
                bench(horizon, levels, 2000, cold)  # warm-up
                p50, p99 = bench(horizon, levels, args.n, cold)
                label = "new" if cold else "cycling"
                print(f"{name:<6} {levels:>6} {label:>8} {p50:>8.2f} {p99:>8.2f}")


if __name__ == "__main__":
    main()
