"""Asymmetric requoting (issue 12, finding 5): retreats at once, advances keep tolerance and interval."""

from __future__ import annotations

from thalex_mm.config import BotConfig
from thalex_mm.config.models import AvellanedaConfig, OrderConfig, RiskConfig
from thalex_mm.core.commands import AmendOrder, CancelOrder, InsertOrder
from thalex_mm.core.events import (
    BookSnapshotReceived,
    Connected,
    InstrumentsUpdated,
    OrderReport,
    ResponseReceived,
    TickerUpdated,
    TimerFired,
)
from thalex_mm.core.market_maker import MarketMakerCore
from thalex_mm.core.order_manager import OrderManager
from thalex_mm.core.types import (
    ChangeReason,
    Instrument,
    OrderStatus,
    OrderType,
    QuoteLevel,
    Side,
    TimeInForce,
    WantedQuotes,
)

T0 = 1_700_000_000_000_000_000
MS = 1_000_000
PERP = Instrument(
    name="BTC-PERPETUAL", product="FBTCUSD", tick_size=1.0, volume_tick_size=0.001,
    min_order_amount=0.001, underlying="BTCUSD",
)


def wanted(bid: float, ask: float) -> WantedQuotes:
    return WantedQuotes(
        instrument=PERP.name,
        bids=(QuoteLevel(side=Side.BUY, level=0, price=bid, amount=0.01),),
        asks=(QuoteLevel(side=Side.SELL, level=0, price=ask, amount=0.01),),
    )


def acked(om: OrderManager, cmds) -> None:
    for rid, cmd in enumerate(cmds, start=100 * (len(om.orders) + 1)):
        om.on_sent(rid, cmd)
        if isinstance(cmd, InsertOrder):
            om.on_response(rid, OrderReport(
                order_id=f"o{cmd.client_order_id}", client_order_id=cmd.client_order_id, instrument=PERP.name,
                side=cmd.side, order_type=OrderType.LIMIT, time_in_force=TimeInForce.GTC, price=cmd.price,
                amount=cmd.amount, filled_amount=0.0, remaining_amount=cmd.amount, status=OrderStatus.OPEN,
                change_reason=ChangeReason.INSERT))


def test_diff_when_order_is_one_tick_more_aggressive_than_wanted_retreats_despite_the_tolerance():
    om = OrderManager(OrderConfig(amend_tolerance_ticks=2), first_client_order_id=1)
    acked(om, om.plan(wanted(100, 110), PERP))
    cmds = om.plan(wanted(99, 111), PERP)  # both sides one tick further from the market
    assert sorted((c.client_order_id, c.price) for c in cmds if isinstance(c, AmendOrder)) == [(1, 99), (2, 111)]


def test_diff_when_order_is_within_tolerance_behind_wanted_is_left_alone():
    om = OrderManager(OrderConfig(amend_tolerance_ticks=2), first_client_order_id=1)
    acked(om, om.plan(wanted(100, 110), PERP))
    assert om.plan(wanted(102, 108), PERP) == ()  # advances of 2 ticks: queue priority kept


def _core() -> tuple[MarketMakerCore, list]:
    cfg = BotConfig(
        avellaneda=AvellanedaConfig(estimate_intensity=False, k=0.5, A=2.0, gamma=0.1),
        order=OrderConfig(sizes=(0.01,), amend_tolerance_ticks=2),
        risk=RiskConfig(position_soft_limit=0.05, position_hard_limit=0.1),
    )
    core = MarketMakerCore(cfg, first_client_order_id=1)
    core.handle(InstrumentsUpdated(local_ts_ns=T0, added=(PERP,), snapshot=True))
    core.handle(Connected(local_ts_ns=T0, cancel_on_disconnect=True))
    core.handle(TickerUpdated(local_ts_ns=T0 + 1, instrument=PERP.name, mark_price=65_000.0, index_price=65_000.0))
    cmds = core.handle(BookSnapshotReceived(local_ts_ns=T0 + 2, instrument=PERP.name,
                                            bids=((64_995.0, 1.0),), asks=((65_005.0, 1.0),))).commands
    for rid, cmd in enumerate(cmds, start=1):
        core.on_sent(rid, cmd)
        core.handle(ResponseReceived(local_ts_ns=T0 + 3, request_id=rid, report=OrderReport(
            order_id=f"o{cmd.client_order_id}", client_order_id=cmd.client_order_id, instrument=PERP.name,
            side=cmd.side, order_type=OrderType.LIMIT, time_in_force=TimeInForce.GTC, price=cmd.price,
            amount=cmd.amount, filled_amount=0.0, remaining_amount=cmd.amount, status=OrderStatus.OPEN,
            change_reason=ChangeReason.INSERT)))
    return core, list(cmds)


def _book(core: MarketMakerCore, ts: int, mid: float):
    return core.handle(BookSnapshotReceived(local_ts_ns=ts, instrument=PERP.name,
                                            bids=((mid - 5, 1.0),), asks=((mid + 5, 1.0),))).commands


def test_core_when_market_drops_inside_the_requote_interval_pulls_the_bid_back_at_once():
    core, first = _core()
    bid = next(c for c in first if isinstance(c, InsertOrder) and c.side is Side.BUY)
    cmds = _book(core, T0 + 10 * MS, 64_980.0)  # 10 ms after the last step: interval is 100 ms
    moved = [c for c in cmds if isinstance(c, AmendOrder | CancelOrder) and c.client_order_id == bid.client_order_id]
    assert moved and all(isinstance(c, CancelOrder) or c.price < bid.price for c in moved)
    # the ask would advance (down): that waits for the interval
    assert not any(isinstance(c, AmendOrder) and c.client_order_id != bid.client_order_id for c in cmds)
    later = core.handle(TimerFired(local_ts_ns=T0 + 2 + 100 * MS)).commands
    assert any(isinstance(c, AmendOrder) and c.client_order_id != bid.client_order_id for c in later)


def test_core_when_market_only_moves_away_inside_the_interval_waits_for_the_deadline():
    core, _ = _core()
    assert _book(core, T0 + 10 * MS, 65_000.5) == ()  # half a tick: nothing more aggressive
    assert core.next_deadline_ns() == T0 + 2 + 100 * MS
