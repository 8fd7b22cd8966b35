"""One full quote step: book event -> market state -> fair value -> model -> risk gate -> diff ->
message budget -> encoded request frames (orjson).

The market is a seeded random walk of the mid (so some steps re-quote and most leave the orders
alone, as in a real session); the simulated venue acknowledges every request between steps
(outside the timed region). sigma, A and k are held fixed (their estimators are benchmarked in
``quote_compute.py``). Targets: p50 <= 20 us, p99 <= 100 us.

Usage: ``python benchmarks/quote_step.py [--n 20000] [--levels 3] [--seed 7]``.
"""

from __future__ import annotations

import argparse
import random
import time

from thalex_mm.config.models import (
    AvellanedaConfig,
    ConnectionConfig,
    HorizonMode,
    OrderConfig,
    QuotingConfig,
    RiskConfig,
)
from thalex_mm.core.budget import MessageBudget
from thalex_mm.core.commands import AmendOrder, CancelOrder, InsertOrder
from thalex_mm.core.events import (
    BookDeltaReceived,
    BookSnapshotReceived,
    OrderReport,
    TickerUpdated,
)
from thalex_mm.core.fair_value import FairValueModel
from thalex_mm.core.market_state import MarketState
from thalex_mm.core.order_manager import OrderManager
from thalex_mm.core.position import PositionTracker
from thalex_mm.core.quote_builder import QuoteBuilder
from thalex_mm.core.risk import MarketSnapshot, RiskManager
from thalex_mm.core.types import (
    ChangeReason,
    Instrument,
    OrderStatus,
    OrderType,
    TimeInForce,
)
from thalex_mm.protocol.requests import command_to_request, encode_frame

BTC = Instrument(
    name="BTC-PERPETUAL",
    product="FBTCUSD",
    tick_size=1.0,
    volume_tick_size=0.001,
    min_order_amount=0.001,
    underlying="BTCUSD",
)
T0 = 1_716_163_200_000_000_000
STEP_NS = 20_000_000  # 20 ms between quote steps


def _ack(om: OrderManager, rid: int, cmd) -> None:
    if isinstance(cmd, InsertOrder | AmendOrder):
        o = om.get(cmd.client_order_id)
        rep = OrderReport(
            order_id=f"x{cmd.client_order_id}",
            client_order_id=cmd.client_order_id,
            instrument=BTC.name,
            side=o.side,
            order_type=OrderType.LIMIT,
            time_in_force=TimeInForce.GTC,
            price=cmd.price,
            amount=cmd.amount,
            filled_amount=0.0,
            remaining_amount=cmd.amount,
            status=OrderStatus.OPEN,
            change_reason=ChangeReason.INSERT
            if isinstance(cmd, InsertOrder)
            else ChangeReason.AMEND,
        )
        om.on_response(rid, rep)
    elif isinstance(cmd, CancelOrder):
        o = om.get(cmd.client_order_id)
        rep = OrderReport(
            order_id=f"x{cmd.client_order_id}",
            client_order_id=cmd.client_order_id,
            instrument=BTC.name,
            side=o.side,
            order_type=OrderType.LIMIT,
            time_in_force=TimeInForce.GTC,
            price=o.price,
            amount=o.amount,
            filled_amount=0.0,
            remaining_amount=0.0,
            status=OrderStatus.CANCELLED,
            change_reason=ChangeReason.CANCEL,
        )
        om.on_response(rid, rep)
    else:
        om.on_response(rid, None)


def run(n: int, levels: int, seed: int) -> dict[str, list[int]]:
    rng = random.Random(seed)
    order_cfg = OrderConfig(
        sizes=(0.01,), levels=levels, level_spacing_ticks=5, amend_tolerance_ticks=2
    )
    av = AvellanedaConfig(horizon=HorizonMode.INFINITE, gamma=0.05, unit_size=0.01)
    quoting = QuotingConfig(fair_value="mid")  # this loop passes the mid only (no microprice input)
    ms = MarketState(BTC.name, BTC.underlying)
    fvm = FairValueModel(quoting)
    qb = QuoteBuilder(BTC, av, quoting, order_cfg)
    risk = RiskManager(RiskConfig(position_soft_limit=0.05, position_hard_limit=0.1, max_order_size=0.1),
                       label=order_cfg.label)
    om = OrderManager(order_cfg)
    budget = MessageBudget(ConnectionConfig(), cancel_on_disconnect=True)
    pos = PositionTracker(BTC.name)
    mid = 65_000.0
    ms.apply(
        BookSnapshotReceived(
            instrument=BTC.name, bids=((mid - 1, 1.0),), asks=((mid + 1, 1.0),), local_ts_ns=T0
        )
    )
    ms.apply(TickerUpdated(instrument=BTC.name, mark_price=mid, index_price=mid, local_ts_ns=T0))
    perf = time.perf_counter_ns
    out: dict[str, list[int]] = {"step": [], "gate+diff+encode": [], "n_frames": []}
    rid = 0
    for i in range(n):
        now = T0 + (i + 1) * STEP_NS
        old = mid
        mid += rng.choice((-1.0, 0.0, 0.0, 0.0, 1.0)) * rng.choice((1.0, 1.0, 4.0))
        bids = ((mid - 1, 1.0 + (i % 3)),) if mid == old else ((old - 1, 0.0), (mid - 1, 1.0))
        asks = ((mid + 1, 1.0),) if mid == old else ((old + 1, 0.0), (mid + 1, 1.0))
        ev = BookDeltaReceived(instrument=BTC.name, bids=bids, asks=asks, local_ts_ns=now)
        t0 = perf()
        ms.apply(ev)
        book = ms.book
        bb, ba = book.best_bid, book.best_ask
        fv = fvm.compute(mid=book.mid, mark=ms.ticker.mark_price)
        wanted, _ = qb.build(
            ts_ns=now,
            fair_value=fv.price,
            sigma=25.0,
            A=2.0,
            k=0.05,
            position=pos.position,
            best_bid=bb,
            best_ask=ba,
        )
        t1 = perf()
        snap = MarketSnapshot(
            mark_price=mid, index_price=mid, best_bid=bb, best_ask=ba, last_data_ts_ns=now
        )
        allowed, _denials, _changes = risk.gate(
            wanted, snap, pos.snapshot(mid), now, instrument=BTC
        )
        admitted, _deferred = budget.admit(om.plan_prioritised(allowed, BTC), now)
        frames = []
        for cmd in admitted:
            rid += 1
            frames.append(encode_frame(command_to_request(cmd, rid)))
            om.on_sent(rid, cmd)
        t2 = perf()
        out["step"].append(t2 - t0)
        out["gate+diff+encode"].append(t2 - t1)
        out["n_frames"].append(len(frames))
        for k, cmd in enumerate(admitted):  # the venue answers before the next step (untimed)
            _ack(om, rid - len(admitted) + 1 + k, cmd)
        ms.apply(
            TickerUpdated(instrument=BTC.name, mark_price=mid, index_price=mid, local_ts_ns=now)
        )
    return out


def _pct(xs: list[int], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(len(s) * q))] / 1000.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=20_000, help="timed quote steps (default 20000)")
    ap.add_argument(
        "--levels", type=int, nargs="+", default=[1, 3], help="levels/side (default 1 3)"
    )
    ap.add_argument("--seed", type=int, default=7, help="random-walk seed (default 7)")
    args = ap.parse_args()
    print(f"quote step: {args.n} steps per case, 20 ms apart; times in us")
    print(f"{'levels':>6} {'part':<18} {'p50':>8} {'p99':>8} {'max':>9}")
    for levels in args.levels:
        run(2_000, levels, args.seed + 1)  # warm-up
        out = run(args.n, levels, args.seed)
        frames = out.pop("n_frames")
        sending = [s for s, f in zip(out["step"], frames, strict=True) if f]
        out["step, sending"] = sending
        for name, xs in out.items():
            if xs:
                print(
                    f"{levels:>6} {name:<18} {_pct(xs, 0.5):>8.2f} {_pct(xs, 0.99):>8.2f} "
                    f"{max(xs) / 1000:>9.1f}"
                )
        print(f"{levels:>6} {len(sending)} of {args.n} steps sent frames ({sum(frames)} frames)")
    print("target: step p50 <= 20 us, p99 <= 100 us")


if __name__ == "__main__":
    main()
