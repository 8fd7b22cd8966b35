"""OrderManager: diff rules, response/notification handling, reconcile, mass quote."""

from __future__ import annotations

import pytest

from thalex_mm.config.models import OrderConfig
from thalex_mm.core.budget import Drop, Priority, Reconcile
from thalex_mm.core.commands import (
    AmendOrder,
    CancelMassQuote,
    CancelOrder,
    InsertOrder,
    MassQuote,
    SetMmp,
)
from thalex_mm.core.error_kinds import ErrorKind
from thalex_mm.core.events import (
    MmProtectionUpdated,
    MmpStatus,
    OrderFill,
    OrderReport,
    OrdersUpdated,
)
from thalex_mm.core.order_manager import (
    FillRecorded,
    OrderManager,
    OrderRejected,
    UnknownOrderReported,
)
from thalex_mm.core.order_state import OrderState
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

INSTR = Instrument(
    name="BTC-PERPETUAL",
    product="FBTCUSD",
    tick_size=1.0,
    volume_tick_size=0.001,
    min_order_amount=0.001,
    underlying="BTCUSD",
)


def wanted(bids=(), asks=()) -> WantedQuotes:
    return WantedQuotes(
        instrument=INSTR.name,
        bids=tuple(
            QuoteLevel(side=Side.BUY, level=i, price=p, amount=a) for i, (p, a) in enumerate(bids)
        ),
        asks=tuple(
            QuoteLevel(side=Side.SELL, level=i, price=p, amount=a) for i, (p, a) in enumerate(asks)
        ),
    )


def report(
    cid,
    side,
    price,
    amount,
    *,
    status=OrderStatus.OPEN,
    filled=0.0,
    fills=(),
    reason=ChangeReason.INSERT,
    oid=None,
) -> OrderReport:
    return OrderReport(
        order_id=oid or f"o{cid}",
        client_order_id=cid,
        instrument=INSTR.name,
        side=side,
        order_type=OrderType.LIMIT,
        time_in_force=TimeInForce.GTC,
        price=price,
        amount=amount,
        filled_amount=filled,
        remaining_amount=amount - filled,
        status=status,
        change_reason=reason,
        fills=tuple(fills),
    )


class Harness:
    """Sends every planned command and acknowledges it like an obliging venue."""

    def __init__(self, om: OrderManager) -> None:
        self.om = om
        self.rid = 0

    def send(self, cmds, ack=True):
        sent = []
        for cmd in cmds:
            self.rid += 1
            self.om.on_sent(self.rid, cmd)
            sent.append((self.rid, cmd))
            if ack:
                self.ack(self.rid, cmd)
        return sent

    def ack(self, rid, cmd):
        om = self.om
        if isinstance(cmd, InsertOrder):
            om.on_response(rid, report(cmd.client_order_id, cmd.side, cmd.price, cmd.amount))
        elif isinstance(cmd, AmendOrder):
            o = om.get(cmd.client_order_id)
            om.on_response(
                rid,
                report(
                    cmd.client_order_id, o.side, cmd.price, cmd.amount, reason=ChangeReason.AMEND
                ),
            )
        elif isinstance(cmd, CancelOrder):
            o = om.get(cmd.client_order_id)
            om.on_response(
                rid,
                report(
                    cmd.client_order_id,
                    o.side,
                    o.price,
                    o.amount,
                    status=OrderStatus.CANCELLED,
                    reason=ChangeReason.CANCEL,
                ),
            )
        else:
            om.on_response(rid, None)


def make(**cfg) -> tuple[OrderManager, Harness]:
    om = OrderManager(OrderConfig(**cfg), first_client_order_id=100)
    return om, Harness(om)


def resting(om):
    return sorted(((o.side, o.price, o.amount) for o in om.active_orders()), key=str)


def test_plan_when_no_orders_inserts_every_level_with_config_label_and_post_only():
    om, _ = make(label="MM1", post_only=True)
    cmds = om.plan(wanted([(100, 0.1), (99, 0.2)], [(102, 0.1)]), INSTR)
    assert [type(c) for c in cmds] == [InsertOrder] * 3
    assert [c.client_order_id for c in cmds] == [100, 101, 102]
    assert all(c.label == "MM1" and c.post_only for c in cmds)
    assert {(c.side, c.price, c.amount) for c in cmds} == {
        (Side.BUY, 100, 0.1),
        (Side.BUY, 99, 0.2),
        (Side.SELL, 102, 0.1),
    }


def test_plan_when_quotes_unchanged_emits_no_command():
    om, h = make()
    w = wanted([(100, 0.1), (99, 0.1)], [(102, 0.1), (103, 0.1)])
    h.send(om.plan(w, INSTR))
    assert om.plan(w, INSTR) == ()


def test_plan_when_move_within_tolerance_emits_no_command():
    om, h = make(amend_tolerance_ticks=2)
    h.send(om.plan(wanted([(100, 0.1)], [(110, 0.1)]), INSTR))
    assert om.plan(wanted([(102, 0.1)], [(108, 0.1)]), INSTR) == ()


def test_plan_when_move_beyond_tolerance_amends_in_place():
    om, h = make(amend_tolerance_ticks=2)
    h.send(om.plan(wanted([(100, 0.1)], [(110, 0.1)]), INSTR))
    cmds = om.plan(wanted([(103, 0.1)], [(110, 0.1)]), INSTR)
    assert cmds == (AmendOrder(client_order_id=100, price=103, amount=0.1),)
    h.send(cmds)
    assert resting(om) == sorted([(Side.BUY, 103, 0.1), (Side.SELL, 110, 0.1)], key=str)


def test_plan_when_size_changes_at_same_price_amends():
    om, h = make()
    h.send(om.plan(wanted([(100, 0.1)]), INSTR))
    assert om.plan(wanted([(100, 0.3)]), INSTR) == (
        AmendOrder(client_order_id=100, price=100, amount=0.3),
    )


def test_plan_when_fewer_levels_cancels_surplus_only():
    om, h = make()
    h.send(om.plan(wanted([(100, 0.1), (99, 0.1), (98, 0.1)]), INSTR))
    cmds = om.plan(wanted([(100, 0.1)]), INSTR)
    assert cmds == (CancelOrder(client_order_id=101), CancelOrder(client_order_id=102))


def test_plan_when_more_levels_inserts_missing_only():
    om, h = make()
    h.send(om.plan(wanted([(100, 0.1)]), INSTR))
    cmds = om.plan(wanted([(100, 0.1), (99, 0.2)]), INSTR)
    assert len(cmds) == 1 and isinstance(cmds[0], InsertOrder)
    assert (cmds[0].side, cmds[0].price, cmds[0].amount) == (Side.BUY, 99, 0.2)


def test_plan_when_order_in_flight_waits_for_ack():
    om, h = make()
    h.send(om.plan(wanted([(100, 0.1)]), INSTR), ack=False)
    assert om.plan(wanted([(120, 0.1)]), INSTR) == ()  # pending insert holds its level
    assert len([o for o in om.active_orders()]) == 1


def test_plan_when_prices_off_tick_aligns_bids_down_asks_up_and_drops_tiny_sizes():
    inst = Instrument(
        name=INSTR.name,
        product="FBTCUSD",
        tick_size=0.5,
        volume_tick_size=0.01,
        min_order_amount=0.05,
        underlying="BTCUSD",
    )
    om, _ = make()
    cmds = om.plan(wanted([(100.7, 0.129), (99.2, 0.049)], [(101.2, 0.2)]), inst)
    got = {(c.side, c.price, c.amount) for c in cmds}
    assert got == {(Side.BUY, 100.5, 0.12), (Side.SELL, 101.5, 0.2)}


def test_plan_when_market_moves_up_moves_ask_before_bid_and_never_self_crosses():
    om, h = make(amend_tolerance_ticks=0)
    h.send(om.plan(wanted([(100, 0.1)], [(101, 0.1)]), INSTR))
    prio_cmds = om.plan_prioritised(wanted([(105, 0.1)], [(106, 0.1)]), INSTR)
    cmds = [c for _, c in prio_cmds]
    assert cmds == [
        AmendOrder(client_order_id=101, price=106, amount=0.1),
        AmendOrder(client_order_id=100, price=105, amount=0.1),
    ]
    assert [p for p, _ in prio_cmds] == [Priority.RETREAT, Priority.TOP]
    # apply one at a time: the book never has bid >= ask
    book = {100: (Side.BUY, 100.0), 101: (Side.SELL, 101.0)}
    for c in cmds:
        book[c.client_order_id] = (book[c.client_order_id][0], c.price)
        assert book[100][1] < book[101][1]


def test_plan_when_opposite_order_in_flight_holds_back_crossing_move():
    om, h = make(amend_tolerance_ticks=0)
    h.send(om.plan(wanted([(100, 0.1)], [(101, 0.1)]), INSTR))
    # ask amend goes out but is not acked yet
    h.send([AmendOrder(client_order_id=101, price=106, amount=0.1)], ack=False)
    cmds = om.plan(wanted([(105, 0.1)], [(106, 0.1)]), INSTR)
    assert cmds == ()  # the bid would cross the ask that may still rest at 101


def test_plan_when_wanted_book_crosses_itself_drops_crossing_bids():
    om, _ = make()
    cmds = om.plan(wanted([(103, 0.1), (100, 0.1)], [(102, 0.1)]), INSTR)
    assert {(c.side, c.price) for c in cmds} == {(Side.BUY, 100), (Side.SELL, 102)}


def test_plan_when_side_pulled_cancels_with_unsafe_priority():
    om, h = make()
    h.send(om.plan(wanted([(100, 0.1)], [(102, 0.1)]), INSTR))
    assert om.plan_prioritised(wanted([], [(102, 0.1)]), INSTR) == (
        (Priority.UNSAFE_CANCEL, CancelOrder(client_order_id=100)),
    )


def test_client_order_id_when_range_ends_wraps_to_one_and_rejects_out_of_range_base():
    om = OrderManager(OrderConfig(), first_client_order_id=2**32 - 1)
    assert om.allocate_client_order_id() == 2**32 - 1
    assert om.allocate_client_order_id() == 1  # wraps inside the 32-bit range, never 0
    with pytest.raises(ValueError, match="first_client_order_id"):
        OrderManager(OrderConfig(), first_client_order_id=2**32)


def test_fills_when_seen_in_response_and_notification_are_recorded_once():
    om, h = make()
    ((rid, _cmd),) = h.send(om.plan(wanted([(100, 0.2)]), INSTR), ack=False)
    f = OrderFill(trade_id="t1", price=100, amount=0.05, maker_taker="maker")
    rep = report(
        100,
        Side.BUY,
        100,
        0.2,
        status=OrderStatus.PARTIALLY_FILLED,
        filled=0.05,
        fills=(f,),
        reason=ChangeReason.FILL,
    )
    recs = om.on_orders(OrdersUpdated(orders=(rep,)))  # notification before the response
    assert [type(r) for r in recs] == [FillRecorded]
    assert om.on_response(rid, rep) == ()
    assert om.on_orders(OrdersUpdated(orders=(rep,))) == ()
    o = om.get(100)
    assert o.state is OrderState.PARTIALLY_FILLED and o.filled_amount == 0.05


def test_fills_when_many_remembers_only_the_most_recent_trade_ids(monkeypatch):
    import thalex_mm.core.order_manager as order_manager

    monkeypatch.setattr(order_manager, "_SEEN_TRADES_RETAINED", 3)
    om, h = make()
    h.send(om.plan(wanted([(100, 1.0)]), INSTR))
    fills = [OrderFill(trade_id=f"t{i}", price=100, amount=0.1, maker_taker="maker") for i in range(5)]
    for i, f in enumerate(fills):
        rep = report(100, Side.BUY, 100, 1.0, status=OrderStatus.PARTIALLY_FILLED,
                     filled=0.1 * (i + 1), fills=(f,), reason=ChangeReason.FILL)
        assert [type(r) for r in om.on_orders(OrdersUpdated(orders=(rep,)))] == [FillRecorded]
    again = report(100, Side.BUY, 100, 1.0, status=OrderStatus.PARTIALLY_FILLED, filled=0.5,
                   fills=(fills[4],), reason=ChangeReason.FILL)
    assert om.on_orders(OrdersUpdated(orders=(again,))) == ()  # a recent duplicate: dropped
    assert len(om._seen_trades) == 3  # memory stays flat however long the session runs


def test_amend_after_partial_fill_when_acked_is_not_repeated():
    """An amend asks for filled + wanted; once acked the order rests at the wanted size, so
    the same wanted quote must not be amended again (that would spend the budget forever)."""
    om, h = make(amend_tolerance_ticks=0)
    (ins,) = om.plan(wanted([(100.0, 0.01)]), INSTR)
    h.send([ins])
    cid = ins.client_order_id
    fill = OrderFill(trade_id="t1", price=100.0, amount=0.004, maker_taker="maker")
    om.on_orders(OrdersUpdated(orders=(report(cid, Side.BUY, 100.0, 0.01, status=OrderStatus.PARTIALLY_FILLED,
                                              filled=0.004, fills=(fill,), reason=ChangeReason.FILL),)))
    assert om.plan(wanted([(100.0, 0.01)]), INSTR) == ()  # a partial fill alone: left alone
    (amend,) = om.plan(wanted([(99.0, 0.01)]), INSTR)
    assert amend == AmendOrder(client_order_id=cid, price=99.0, amount=0.014)
    h.rid += 1
    om.on_sent(h.rid, amend)
    om.on_response(h.rid, report(cid, Side.BUY, 99.0, 0.014, status=OrderStatus.PARTIALLY_FILLED,
                                 filled=0.004, reason=ChangeReason.AMEND))
    assert om.get(cid).remaining_amount == pytest.approx(0.01)
    assert om.plan(wanted([(99.0, 0.01)]), INSTR) == ()
    assert om.plan(wanted([(99.0, 0.02)]), INSTR) == (AmendOrder(client_order_id=cid, price=99.0, amount=0.024),)


def test_report_when_late_open_after_cancelled_does_not_resurrect():
    om, h = make()
    h.send(om.plan(wanted([(100, 0.1)]), INSTR))
    om.on_orders(
        OrdersUpdated(orders=(report(100, Side.BUY, 100, 0.1, status=OrderStatus.CANCELLED),))
    )
    om.on_orders(OrdersUpdated(orders=(report(100, Side.BUY, 100, 0.1),)))
    assert om.get(100).state is OrderState.CANCELLED
    assert om.active_orders() == []


def test_response_when_request_id_unknown_is_reported_not_raised():
    om, _ = make()
    recs = om.on_response(999, None)
    assert len(recs) == 1 and isinstance(recs[0], UnknownOrderReported)
    assert recs[0].request_id == 999
    recs = om.on_error(998, ErrorKind.ORDER_NOT_FOUND, "order not found", code=1)
    assert isinstance(recs[0], UnknownOrderReported)


def test_error_when_cancel_hits_order_not_found_marks_gone_and_asks_reconcile():
    om, h = make()
    h.send(om.plan(wanted([(100, 0.1)]), INSTR))
    ((rid, _),) = h.send(om.plan(wanted(), INSTR), ack=False)
    recs = om.on_error(rid, ErrorKind.ORDER_NOT_FOUND, "order not found", code=1)
    assert isinstance(recs[0], OrderRejected) and isinstance(recs[0].action, Reconcile)
    assert om.get(100).state is OrderState.CANCELLED


def test_error_when_insert_refused_for_price_is_dropped_with_reason():
    om, h = make()
    ((rid, _),) = h.send(om.plan(wanted([(100, 0.1)]), INSTR), ack=False)
    (rec,) = om.on_error(rid, ErrorKind.INVALID_PRICE, "invalid price", code=13)
    assert isinstance(rec.action, Drop) and rec.action.reason.value == "invalid_price"
    assert om.get(100).state is OrderState.REJECTED
    # the level is free again: the next plan inserts a fresh order with a new id
    (cmd,) = om.plan(wanted([(100, 0.1)]), INSTR)
    assert isinstance(cmd, InsertOrder) and cmd.client_order_id == 101


def test_error_when_amend_fails_returns_order_to_live_with_old_price():
    om, h = make(amend_tolerance_ticks=0)
    h.send(om.plan(wanted([(100, 0.1)]), INSTR))
    ((rid, _),) = h.send(om.plan(wanted([(99, 0.1)]), INSTR), ack=False)
    om.on_error(rid, ErrorKind.PRICE_COLLAR_BREACH, "collar", code=43)
    o = om.get(100)
    assert (o.state, o.price) == (OrderState.OPEN, 100)


def test_reconcile_when_exchange_differs_exchange_wins():
    om, h = make()
    h.send(om.plan(wanted([(100, 0.1), (99, 0.1)]), INSTR))
    h.send(om.plan(wanted([(100, 0.1), (99, 0.1), (98, 0.1)]), INSTR), ack=False)  # in flight
    listed = [
        report(100, Side.BUY, 100, 0.1, status=OrderStatus.PARTIALLY_FILLED, filled=0.04),
        report(None, Side.SELL, 105, 0.3, oid="foreign"),
    ]
    recs, cmds = om.reconcile(listed)
    assert [type(r).__name__ for r in recs] == ["LeftoverOrderFound"] and cmds == ()
    assert om.get(100).state is OrderState.PARTIALLY_FILLED and om.get(100).filled_amount == 0.04
    assert om.get(101).state is OrderState.CANCELLED
    assert om.get(102).state is OrderState.CANCELLED  # the in-flight insert is not there
    adopted = om.get("foreign")
    assert adopted is not None and adopted.level == -1
    # the adopted order is a leftover: the diff leaves it, it is cancelled by order_id
    cmds = om.plan(wanted([(100, 0.1)]), INSTR)
    assert not any(getattr(c, "order_id", None) == "foreign" for c in cmds)
    assert om.leftover_cancels(INSTR.name) == ((Priority.UNSAFE_CANCEL, CancelOrder(client_order_id=None, order_id="foreign")),)


def test_reconcile_when_configured_to_cancel_unknown_returns_cancels():
    om = OrderManager(OrderConfig(), adopt_unknown=False)
    _, cmds = om.reconcile([report(None, Side.SELL, 105, 0.3, oid="foreign")])
    assert cmds == (CancelOrder(client_order_id=None, order_id="foreign"),)
    assert om.get("foreign") is None


def test_mass_quote_when_not_armed_sends_set_mmp_then_quotes_after_ack():
    om, h = make(use_mass_quote=True, mmp_trade_amount=0.2, mmp_quote_amount=0.5)
    w = wanted([(100, 0.1), (99, 0.1)], [(102, 0.1)])
    (cmd,) = om.plan_mass_quote(w, INSTR)
    assert cmd == SetMmp(product="FBTCUSD", trade_amount=0.2, quote_amount=0.5)
    h.send([cmd], ack=False)
    assert om.plan_mass_quote(w, INSTR) == ()  # waits for the MMP ack
    h.ack(h.rid, cmd)
    (mq,) = om.plan_mass_quote(w, INSTR)
    assert isinstance(mq, MassQuote)
    assert mq.quotes[0].bids == ((100, 0.1), (99, 0.1)) and mq.quotes[0].asks == ((102, 0.1),)
    h.send([mq])
    assert om.plan_mass_quote(w, INSTR) == ()  # identical: nothing sent
    (mq2,) = om.plan_mass_quote(wanted([(100, 0.1), (99, 0.1)], [(103, 0.1)]), INSTR)
    assert mq2.quotes[0].bids is None and mq2.quotes[0].asks == ((103, 0.1),)


def test_mass_quote_when_a_side_retreats_has_retreat_priority_and_a_pull_resends_both_sides():
    om, h = make(use_mass_quote=True, amend_tolerance_ticks=0)
    w = wanted([(100, 0.1)], [(102, 0.1)])
    h.send(om.plan_mass_quote(w, INSTR))  # SetMmp
    h.send(om.plan_mass_quote(w, INSTR))  # the first quotes
    ((prio, _),) = om.plan_mass_quote_prioritised(wanted([(100, 0.1)], [(101, 0.1)]), INSTR)
    assert prio is Priority.TOP  # the ask moves toward the touch
    ((prio, _),) = om.plan_mass_quote_prioritised(wanted([(99, 0.1)], [(102, 0.1)]), INSTR)
    assert prio is Priority.RETREAT  # the bid backs off: stale if left
    ((prio, _),) = om.plan_mass_quote_prioritised(wanted([], [(102, 0.1)]), INSTR)
    assert prio is Priority.RETREAT  # the bid side is pulled
    h.send([CancelMassQuote()])
    (mq,) = om.plan_mass_quote(w, INSTR)
    assert mq.quotes[0].bids == ((100, 0.1),) and mq.quotes[0].asks == ((102, 0.1),)


def test_mass_quote_when_mmp_trips_or_disconnects_rearms_first():
    om, h = make(use_mass_quote=True)
    w = wanted([(100, 0.1)], [(102, 0.1)])
    h.send(om.plan_mass_quote(w, INSTR))
    h.send(om.plan_mass_quote(w, INSTR))
    assert om.mmp_armed
    om.on_mm_protection(
        MmProtectionUpdated(
            items=(MmpStatus(product="FBTCUSD", remaining_amount=0.0, reason="executions"),)
        ),
        "FBTCUSD",
    )
    assert isinstance(om.plan_mass_quote(w, INSTR)[0], SetMmp)
    h.send(om.plan_mass_quote(w, INSTR))
    (mq,) = om.plan_mass_quote(w, INSTR)
    assert mq.quotes[0].bids == ((100, 0.1),)  # full resend after the trip
    om.on_disconnected()
    assert isinstance(om.plan_mass_quote(w, INSTR)[0], SetMmp)


def test_plan_when_same_event_log_replayed_twice_emits_identical_commands():
    def replay() -> list:
        om, h = make(amend_tolerance_ticks=1)
        log = []
        for mid in (100, 100, 103, 101, 110, 90, 90):
            cmds = om.plan(wanted([(mid - 2, 0.1), (mid - 4, 0.2)], [(mid + 2, 0.1)]), INSTR)
            log.extend(repr(c) for c in cmds)
            h.send(cmds)
        return log

    first, second = replay(), replay()
    assert first == second and len(first) > 5


def test_error_when_cancel_races_a_fill_is_marked_expected_not_a_reject():
    om, h = make()
    h.send(om.plan(wanted([(100, 0.1)]), INSTR))
    ((rid, _),) = h.send(om.plan(wanted(), INSTR), ack=False)
    (rec,) = om.on_error(rid, ErrorKind.ORDER_NOT_FOUND, "client_order_id 100 not found in this session",
                         code=1)
    assert isinstance(rec, OrderRejected) and rec.expected


def test_error_when_insert_refused_is_not_an_expected_race():
    om, h = make()
    ((rid, _),) = h.send(om.plan(wanted([(100, 0.1)]), INSTR), ack=False)
    (rec,) = om.on_error(rid, ErrorKind.INVALID_PRICE, "invalid price", code=13)
    assert not rec.expected
