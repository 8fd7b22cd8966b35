"""Order identity across runs (issue 12, finding 1): client ids, leftovers, unexpected replies."""

from __future__ import annotations

from core_harness import MID, MS, PERP, T0, S, feed, start_up

from thalex_mm.config import BotConfig
from thalex_mm.config.models import AvellanedaConfig, LeftoverPolicy, OrderConfig, RiskConfig
from thalex_mm.core.commands import AmendOrder, CancelOrder, InsertOrder
from thalex_mm.core.error_kinds import ErrorKind
from thalex_mm.core.events import (
    BookSnapshotReceived,
    Connected,
    Disconnected,
    ErrorReceived,
    OrderReport,
    OrdersUpdated,
    PortfolioEntry,
    PortfolioUpdated,
    ResponseReceived,
    TickerUpdated,
)
from thalex_mm.core.market_maker import MarketMakerCore
from thalex_mm.core.order_ids import (
    IDS_PER_SECOND,
    MAX_CLIENT_ORDER_ID,
    ClientIdAllocator,
    run_base_from_wall_clock,
    seeded_base,
)
from thalex_mm.core.order_manager import OrderManager
from thalex_mm.core.order_records import LeftoverOrderFound, OrderStateAnomaly
from thalex_mm.core.order_state import OrderState
from thalex_mm.core.types import ChangeReason, OrderStatus, OrderType, Side, TimeInForce


def leftover(cid: int | None, side: Side, price: float, amount: float, oid: str) -> OrderReport:
    return OrderReport(
        order_id=oid, client_order_id=cid, instrument=PERP.name, side=side, order_type=OrderType.LIMIT,
        time_in_force=TimeInForce.GTC, price=price, amount=amount, filled_amount=0.0,
        remaining_amount=amount, status=OrderStatus.OPEN, change_reason=ChangeReason.EXISTING,
    )


def make_core(policy: LeftoverPolicy = LeftoverPolicy.CANCEL, *, first: int = 1, hard: float = 0.1) -> MarketMakerCore:
    cfg = BotConfig(
        avellaneda=AvellanedaConfig(estimate_intensity=False, k=0.5, A=2.0, gamma=0.1),
        order=OrderConfig(sizes=(0.01,), leftover_orders=policy),
        risk=RiskConfig(position_soft_limit=hard / 2, position_hard_limit=hard),
    )
    return MarketMakerCore(cfg, first_client_order_id=first)


def start_with(core: MarketMakerCore, orders: tuple[OrderReport, ...], notices: list | None = None) -> list:
    """Start-up with ``orders`` on the account; the commands sent (request id = index + 1)."""
    sent: list = []
    start_up(core, sent, orders=orders, notices=notices)
    return sent


def test_run_base_when_runs_start_later_is_higher_and_within_32_bits():
    a = run_base_from_wall_clock(T0)
    b = run_base_from_wall_clock(T0 + 1_000_000_000)
    assert b - a == IDS_PER_SECOND
    assert 1 <= a <= MAX_CLIENT_ORDER_ID and a != 1
    assert seeded_base(7) == seeded_base(7) != seeded_base(8)


def test_allocator_when_id_is_held_by_a_live_order_of_the_account_skips_it():
    ids = ClientIdAllocator(5)
    ids.avoid(6)
    assert [ids.next(), ids.next(), ids.next()] == [5, 7, 8]


def test_core_when_leftover_carries_our_next_client_id_cancels_it_by_order_id_and_never_reuses_the_id():
    core = make_core(first=1)
    cmds = start_with(core, (leftover(1, Side.BUY, MID - 50, 0.01, "left-1"),))
    cancels = [c for c in cmds if isinstance(c, CancelOrder)]
    inserts = [c for c in cmds if isinstance(c, InsertOrder)]
    assert cancels == [CancelOrder(client_order_id=None, order_id="left-1")]
    assert inserts and all(c.client_order_id != 1 for c in inserts)
    # the leftover's record is its own: our new orders did not overwrite it
    assert core.orders.get("left-1").state is OrderState.PENDING_CANCEL
    assert all(core.orders.get(c.client_order_id).order_id is None for c in inserts)


def test_core_when_leftover_cancel_is_answered_not_found_does_not_raise_and_journals():
    core = make_core(first=1)
    cmds = start_with(core, (leftover(1, Side.BUY, MID - 50, 0.01, "left-1"),))
    cancel_rid = 1 + next(i for i, c in enumerate(cmds) if isinstance(c, CancelOrder))
    core.handle(ErrorReceived(local_ts_ns=T0 + 5 * MS, request_id=cancel_rid,
                              kind=ErrorKind.ORDER_NOT_FOUND, code=1, message="order not found"))
    assert core.orders.get("left-1").state is OrderState.CANCELLED


def test_order_manager_when_reply_is_unexpected_moves_state_with_reason_instead_of_raising():
    om = OrderManager(OrderConfig(), first_client_order_id=10)
    insert = InsertOrder(client_order_id=10, instrument=PERP.name, side=Side.BUY, amount=0.01, price=100.0)
    om.on_sent(1, insert)
    opened = OrderReport(
        order_id="o10", client_order_id=10, instrument=PERP.name, side=Side.BUY, order_type=OrderType.LIMIT,
        time_in_force=TimeInForce.GTC, price=100.0, amount=0.01, filled_amount=0.0, remaining_amount=0.01,
        status=OrderStatus.OPEN, change_reason=ChangeReason.INSERT,
    )
    om.on_orders(OrdersUpdated(orders=(opened,)))  # the notification says it rests
    records = om.on_error(1, ErrorKind.DUPLICATE_ORDER_ID, "duplicate client order id", code=2)  # then this
    anomalies = [r for r in records if isinstance(r, OrderStateAnomaly)]
    assert len(anomalies) == 1 and anomalies[0].previous is OrderState.OPEN
    assert "insert_failed" in anomalies[0].reason


def test_core_when_not_found_reply_arrives_for_an_order_in_flight_does_not_raise():
    core = make_core(first=1)
    cmds = start_with(core, ())
    i, insert = next((i, c) for i, c in enumerate(cmds) if isinstance(c, InsertOrder))
    # the venue answers "not found" to the insert itself (e.g. a client id it mixed up):
    # the order is in flight, the table has no such move
    core.handle(ErrorReceived(local_ts_ns=T0 + 5 * MS, request_id=i + 1, kind=ErrorKind.ORDER_NOT_FOUND, code=1,
                              message="nf"))
    core.handle(ResponseReceived(local_ts_ns=T0 + 6 * MS, request_id=i + 1))
    assert core.orders.get(insert.client_order_id).state is OrderState.REJECTED


def test_core_when_policy_keeps_leftovers_leaves_them_and_counts_them_against_the_hard_limit():
    core = make_core(LeftoverPolicy.KEEP, hard=0.1)
    big_bid = leftover(7, Side.BUY, MID - 50, 0.095, "left-big")
    notices: list = []
    cmds = start_with(core, (big_bid,), notices)
    assert not any(isinstance(c, CancelOrder) for c in cmds)
    assert any(isinstance(r, LeftoverOrderFound) and r.action == "keep" for r in notices)
    # a full 0.01 bid on top of the resting 0.095 could take the position past 0.1: cut
    bid_total = sum(c.amount for c in cmds if isinstance(c, InsertOrder) and c.side is Side.BUY)
    assert bid_total <= 0.1 - 0.095 + 1e-9
    assert any(isinstance(c, InsertOrder) and c.side is Side.SELL for c in cmds)
    assert core.orders.get("left-big").state is OrderState.OPEN


def test_core_when_reconnect_lists_a_kept_leftover_again_it_stays_live_and_counted():
    core = make_core(LeftoverPolicy.KEEP)
    kept = leftover(3, Side.SELL, MID + 50, 0.02, "left-3")
    start_with(core, (kept,))
    core.handle(OrdersUpdated(local_ts_ns=T0 + 10 * MS, orders=(kept,), snapshot=True, scope="account"))
    order = core.orders.get("left-3")
    assert order.state is OrderState.OPEN and order.client_order_id is None
    assert order in core.orders.active_orders(PERP.name)


def test_core_when_our_order_outlives_a_reconnect_addresses_it_by_order_id():
    # a client order id is valid only in the session that created it: after a reconnect the
    # orders of the earlier connection that still rest must be moved by order id
    core = make_core(first=40)
    sent = start_with(core, ())
    bid = next(c for c in sent if isinstance(c, InsertOrder) and c.side is Side.BUY)
    rid = sent.index(bid) + 1
    core.handle(ResponseReceived(local_ts_ns=T0 + 3, request_id=rid, report=OrderReport(
        order_id="ours-1", client_order_id=bid.client_order_id, instrument=PERP.name, side=Side.BUY,
        order_type=OrderType.LIMIT, time_in_force=TimeInForce.GTC, price=bid.price, amount=bid.amount,
        filled_amount=0.0, remaining_amount=bid.amount, status=OrderStatus.OPEN, change_reason=ChangeReason.INSERT)))
    core.handle(Disconnected(local_ts_ns=T0 + 100 * MS))
    still = OrderReport(
        order_id="ours-1", client_order_id=bid.client_order_id, instrument=PERP.name, side=Side.BUY,
        order_type=OrderType.LIMIT, time_in_force=TimeInForce.GTC, price=bid.price, amount=bid.amount,
        filled_amount=0.0, remaining_amount=bid.amount, status=OrderStatus.OPEN, change_reason=ChangeReason.EXISTING)
    again: list = []
    start_up(core, again, ts=T0 + 2 * S, orders=(still,), mark=MID - 50)  # the market fell: move the bid
    moved = [c for c in again if isinstance(c, AmendOrder | CancelOrder) and c.order_id == "ours-1"]
    assert moved and all(c.client_order_id is None for c in moved)
    assert not any(isinstance(c, AmendOrder | CancelOrder) and c.client_order_id == bid.client_order_id for c in again)


def test_core_when_reducing_an_amend_by_order_id_of_the_reducing_side_is_not_denied():
    # REDUCING allows amends of the reducing side; an amend addressed by order id (an order of
    # an earlier connection) must be recognised as that side, not denied as "side unknown"
    core = make_core(first=70, hard=0.1)
    sent: list = []
    start_up(core, sent, position=0.12, average_price=MID)  # above hard: REDUCING, asks only
    ask = next(c for c in sent if isinstance(c, InsertOrder) and c.side is Side.SELL)
    live = OrderReport(
        order_id="ours-s", client_order_id=ask.client_order_id, instrument=PERP.name, side=Side.SELL,
        order_type=OrderType.LIMIT, time_in_force=TimeInForce.GTC, price=ask.price, amount=ask.amount,
        filled_amount=0.0, remaining_amount=ask.amount, status=OrderStatus.OPEN, change_reason=ChangeReason.INSERT)
    core.handle(ResponseReceived(local_ts_ns=T0 + 3, request_id=sent.index(ask) + 1, report=live))
    core.handle(Disconnected(local_ts_ns=T0 + 100 * MS))
    ts, mark = T0 + 2 * S, MID + 30
    again: list = []
    notices: list = []
    for event in (  # the market first, then Connected: the first step sees a fresh book
        OrdersUpdated(local_ts_ns=ts, orders=(live,), snapshot=True, scope="account"),
        PortfolioUpdated(local_ts_ns=ts, snapshot=True, entries=(
            PortfolioEntry(instrument=PERP.name, position=0.12, average_price=MID, mark_price=mark),)),
        TickerUpdated(local_ts_ns=ts, instrument=PERP.name, mark_price=mark, index_price=mark),
        BookSnapshotReceived(local_ts_ns=ts, instrument=PERP.name, bids=((mark - 5, 1.0),), asks=((mark + 5, 1.0),)),
        Connected(local_ts_ns=ts + 1, cancel_on_disconnect=True),
    ):
        feed(core, event, again, notices)
    assert core.status().trading_state == "reducing"
    amends = [c for c in again if isinstance(c, AmendOrder) and c.order_id == "ours-s"]
    assert amends and amends[0].client_order_id is None
    assert not [r for r in notices if type(r).__name__ == "OrderDenied"]
