"""The real quote path: ``MarketMakerCore.handle(BookDeltaReceived)`` end to end (market state,
TA, intensity, fair value, model, risk gate, diff, budget, last-line checks) and the request
frames encoded for what it returns.

``quote_step.py`` times the parts wired by hand; this one is what the quoter runs per book
message. The market is a seeded random walk of the mid (most steps leave the orders alone),
``min_requote_interval_ms = 0`` so every message is a quote step; the venue acknowledges
every request between steps (untimed). Target (issue 5): p50 <= 20 us, p99 <= 100 us.

Usage: ``python benchmarks/core_step.py [--n 20000] [--levels 1 3] [--seed 7]``.
"""

from __future__ import annotations

import argparse
import random
import time

from thalex_mm.config.models import BotConfig
from thalex_mm.core.commands import InsertOrder
from thalex_mm.core.events import (
    BookDeltaReceived,
    BookSnapshotReceived,
    Connected,
    InstrumentsUpdated,
    OrderReport,
    ResponseReceived,
    TickerUpdated,
)
from thalex_mm.core.market_maker import MarketMakerCore
from thalex_mm.core.types import ChangeReason, Instrument, OrderStatus, OrderType, TimeInForce
from thalex_mm.protocol.requests import command_to_request, encode_frame

BTC = Instrument(name="BTC-PERPETUAL", product="FBTCUSD", tick_size=1.0, volume_tick_size=0.001,
                 min_order_amount=0.001, underlying="BTCUSD")
T0 = 1_716_163_200_000_000_000
STEP_NS = 20_000_000


def _report(cmd: InsertOrder, side, price: float, amount: float, reason: ChangeReason) -> OrderReport:
    return OrderReport(order_id=f"x{cmd.client_order_id}", client_order_id=cmd.client_order_id,
                       instrument=BTC.name, side=side, order_type=OrderType.LIMIT,
                       time_in_force=TimeInForce.GTC, price=price, amount=amount, filled_amount=0.0,
                       remaining_amount=amount, status=OrderStatus.OPEN, change_reason=reason)


def run(n: int, levels: int, seed: int) -> tuple[list[int], int]:
    config = BotConfig.model_validate({
        "order": {"sizes": [0.01], "levels": levels, "level_spacing_ticks": 5, "amend_tolerance_ticks": 2},
        "quoting": {"min_requote_interval_ms": 0},
        "avellaneda": {"horizon": "infinite", "gamma": 0.05, "unit_size": 0.01},
    })
    core = MarketMakerCore(config)
    rid = 0

    def venue(cmds, ts: int) -> None:
        """Send and acknowledge ``cmds`` and whatever the acknowledgements make the core send."""
        nonlocal rid
        batch = list(cmds)
        while batch:
            sent = []
            for c in batch:  # the driver registers a whole batch before anything else happens
                rid += 1
                core.on_sent(rid, c)
                sent.append((rid, c))
            batch = []
            for r, c in sent:
                o = core.orders.get(getattr(c, "client_order_id", None) or -1)
                if o is not None and hasattr(c, "price"):
                    reason = ChangeReason.INSERT if isinstance(c, InsertOrder) else ChangeReason.AMEND
                    result = _report(c, o.side, c.price, c.amount, reason)
                else:
                    result = None
                batch += core.handle(ResponseReceived(local_ts_ns=ts, request_id=r, report=result)).commands

    mid = 65_000.0
    core.handle(InstrumentsUpdated(local_ts_ns=T0, added=(BTC,), snapshot=True))
    core.handle(Connected(local_ts_ns=T0, cancel_on_disconnect=True))
    core.handle(TickerUpdated(local_ts_ns=T0, instrument=BTC.name, mark_price=mid, index_price=mid))
    venue(core.handle(BookSnapshotReceived(local_ts_ns=T0 + 1, instrument=BTC.name,
                                           bids=((mid - 5, 1.0),), asks=((mid + 5, 1.0),))).commands, T0 + 2)
    rng = random.Random(seed)
    perf = time.perf_counter_ns
    times: list[int] = []
    frames = 0
    for i in range(n):
        now = T0 + (i + 1) * STEP_NS
        old = mid
        mid += rng.choice((-1.0, 0.0, 0.0, 0.0, 1.0)) * rng.choice((1.0, 1.0, 4.0))
        bids = ((mid - 5, 1.0 + (i % 3)),) if mid == old else ((old - 5, 0.0), (mid - 5, 1.0))
        asks = ((mid + 5, 1.0),) if mid == old else ((old + 5, 0.0), (mid + 5, 1.0))
        if i % 50 == 0:
            core.handle(TickerUpdated(local_ts_ns=now - 1, instrument=BTC.name, mark_price=mid, index_price=mid))
        ev = BookDeltaReceived(instrument=BTC.name, bids=bids, asks=asks, local_ts_ns=now)
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
