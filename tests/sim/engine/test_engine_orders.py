"""Insert / amend / cancel rules of the matching engine (thalex_protocol.md §5.2)."""

from __future__ import annotations

import pytest
from sim_engine_helpers import PERP, make_engine

from thalex_mm.core.types import (
    ChangeReason,
    DeleteReason,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)
from thalex_mm.errors import InvalidState
from thalex_mm.protocol.error_codes import ErrorCode
from thalex_mm.sim.engine import Collar, EngineConfig

BUY, SELL = Side.BUY, Side.SELL


def ext(e, side, price, amount, ts=1):
    return e.set_external_level(PERP, side, price, amount, ts_ns=ts)


# ------------------------------------------------------------------ validation


@pytest.mark.parametrize(
    ("amount", "price", "code"),
    [
        (0.0, 100.0, ErrorCode.INVALID_QUANTITY),
        (-1.0, 100.0, ErrorCode.INVALID_QUANTITY),
        (0.0015, 100.0, ErrorCode.INVALID_QUANTITY),
        (0.1, 100.5, ErrorCode.PRICE_NOT_ALIGNED),
        (0.1, 0.0, ErrorCode.INVALID_PRICE),
        (0.1, None, ErrorCode.INVALID_PRICE),
    ],
)
def test_insert_when_bad_amount_or_price_rejected_with_code(engine, amount, price, code):
    out = engine.insert("s1", PERP, BUY, amount, price, ts_ns=1)
    assert out.error is not None and out.error.code is code
    assert out.response is None
    assert engine.open_orders(account="A") == ()


def test_insert_when_values_have_binary_noise_rounded_to_8_decimals_accepted(engine):
    out = engine.insert("s1", PERP, BUY, 0.1 + 0.2, 64900.000000001, ts_ns=1)
    assert out.ok
    assert out.response.amount == pytest.approx(0.3)
    assert out.response.price == 64900.0


def test_insert_when_below_min_order_amount_rejected():
    e = make_engine()
    e._instruments[PERP] = e._instruments[PERP].__class__(
        name=PERP, product="FBTCUSD", tick_size=1.0, volume_tick_size=0.001,
        min_order_amount=0.01, underlying="BTCUSD")
    out = e.insert("s1", PERP, BUY, 0.005, 100, ts_ns=1)
    assert out.error.code is ErrorCode.INVALID_QUANTITY
    assert "min_order_amount" in out.error.message


def test_insert_when_unknown_instrument_rejected(engine):
    out = engine.insert("s1", "ETH-PERPETUAL", BUY, 0.1, 100, ts_ns=1)
    assert out.error.code is ErrorCode.UNKNOWN_INSTRUMENT


def test_insert_when_unknown_session_raises_invalid_state(engine):
    with pytest.raises(InvalidState, match="nope"):
        engine.insert("nope", PERP, BUY, 0.1, 100, ts_ns=1)


def test_insert_when_gtc_market_rejected_invalid_time_in_force(engine):
    engine.set_mark(PERP, 100.0)
    out = engine.insert("s1", PERP, BUY, 0.1, order_type=OrderType.MARKET,
                        time_in_force=TimeInForce.GTC, ts_ns=1)
    assert out.error.code is ErrorCode.INVALID_TIME_IN_FORCE


def test_insert_when_ioc_post_only_rejected_invalid_time_in_force(engine):
    out = engine.insert("s1", PERP, BUY, 0.1, 100, time_in_force=TimeInForce.IOC,
                        post_only=True, ts_ns=1)
    assert out.error.code is ErrorCode.INVALID_TIME_IN_FORCE


def test_insert_when_client_order_id_live_in_same_session_rejected_duplicate(engine):
    assert engine.insert("s1", PERP, BUY, 0.1, 100, client_order_id=5, ts_ns=1).ok
    out = engine.insert("s1", PERP, BUY, 0.1, 99, client_order_id=5, ts_ns=2)
    assert out.error.code is ErrorCode.DUPLICATE_ORDER_ID
    # another session may use it, and it is free again after the first order closes
    assert engine.insert("s3", PERP, BUY, 0.1, 98, client_order_id=5, ts_ns=3).ok
    assert engine.cancel("s1", client_order_id=5, ts_ns=4).ok
    assert engine.insert("s1", PERP, BUY, 0.1, 97, client_order_id=5, ts_ns=5).ok


# ------------------------------------------------------------------ resting and matching


def test_insert_when_not_crossing_rests_open_with_ids_from_counter(engine):
    a = engine.insert("s1", PERP, BUY, 0.2, 100, label="P", ts_ns=10).response
    b = engine.insert("s1", PERP, SELL, 0.2, 110, ts_ns=11).response
    assert (a.order_id, b.order_id) == ("0000000000000001", "0000000000000002")
    assert a.status is OrderStatus.OPEN and a.change_reason is ChangeReason.INSERT
    assert a.label == "P" and a.persistent is True and a.create_ts_ns == 10
    assert engine.best_bid_ask(PERP) == (100.0, 110.0)


def test_insert_when_crossing_external_takes_liquidity_and_leaves_rest(engine):
    ext(engine, SELL, 101, 0.3)
    ext(engine, SELL, 102, 0.5)
    out = engine.insert("s1", PERP, BUY, 1.0, 102, ts_ns=2)
    r = out.response
    assert [(f.price, f.amount, f.maker_taker) for f in r.fills] == [
        (101.0, 0.3, "taker"), (102.0, 0.5, "taker")]
    assert r.filled_amount == pytest.approx(0.8)
    assert r.remaining_amount == pytest.approx(0.2)
    assert r.status is OrderStatus.PARTIALLY_FILLED
    assert engine.book_levels(PERP) == (((102.0, 0.2),), ())
    assert [(t.price, t.amount) for t in out.public_trades] == [(101.0, 0.3), (102.0, 0.5)]
    assert engine.portfolio("A")[0].position == pytest.approx(0.8)
    assert engine.portfolio("A")[0].average_price == pytest.approx((101 * 0.3 + 102 * 0.5) / 0.8)


def test_insert_when_ioc_partially_fills_cancels_rest_immediate_cancel(engine):
    ext(engine, SELL, 101, 0.3)
    r = engine.insert("s1", PERP, BUY, 1.0, 105, time_in_force=TimeInForce.IOC, ts_ns=2).response
    assert r.status is OrderStatus.CANCELLED_PARTIALLY_FILLED
    assert r.delete_reason is DeleteReason.IMMEDIATE_CANCEL
    assert r.filled_amount == pytest.approx(0.3)
    assert engine.open_orders(account="A") == ()


def test_market_order_when_no_mark_rejected_unbounded(engine):
    ext(engine, SELL, 101, 0.3)
    out = engine.insert("s1", PERP, BUY, 0.1, order_type=OrderType.MARKET, ts_ns=2)
    assert out.error.code is ErrorCode.UNBOUNDED_MARKET_ORDER


def test_market_order_when_collar_limits_stops_at_collar_high(engine):
    engine.set_mark(PERP, 100.0)  # band 5%: collar_high 105
    ext(engine, SELL, 104, 0.1)
    ext(engine, SELL, 106, 0.5)
    r = engine.insert("s1", PERP, BUY, 1.0, order_type=OrderType.MARKET, ts_ns=2).response
    assert r.price is None and r.time_in_force is TimeInForce.IOC
    assert r.filled_amount == pytest.approx(0.1)
    assert r.status is OrderStatus.CANCELLED_PARTIALLY_FILLED
    ignore = engine.insert("s1", PERP, BUY, 1.0, order_type=OrderType.MARKET,
                           collar=Collar.IGNORE, ts_ns=3)
    assert ignore.error.code is ErrorCode.INVALID_REQUEST


def test_insert_when_bid_above_collar_high_rejected_or_clamped(engine):
    engine.set_mark(PERP, 1000.0)  # collar 950..1050
    out = engine.insert("s1", PERP, BUY, 0.1, 1051, ts_ns=1)
    assert out.error.code is ErrorCode.PRICE_COLLAR_BREACH
    clamped = engine.insert("s1", PERP, BUY, 0.1, 1051, collar=Collar.CLAMP, ts_ns=2)
    assert clamped.response.price == 1050.0
    assert engine.insert("s1", PERP, BUY, 0.1, 1051, collar=Collar.IGNORE, ts_ns=3).ok
    low = engine.insert("s1", PERP, SELL, 0.1, 949, ts_ns=4)
    assert low.error.code is ErrorCode.PRICE_COLLAR_BREACH
    assert engine.collar_bounds(PERP) == pytest.approx((950.0, 1050.0))


def test_insert_when_price_time_priority_older_order_fills_first(engine):
    first = engine.insert("s1", PERP, BUY, 0.1, 100, ts_ns=1).response.order_id
    second = engine.insert("s3", PERP, BUY, 0.1, 100, ts_ns=2).response.order_id
    better = engine.insert("s1", PERP, BUY, 0.1, 101, ts_ns=3).response.order_id
    out = engine.insert("s2", PERP, SELL, 0.25, 100, ts_ns=4)
    filled = {u.report.order_id: u.report.fills[0].amount for u in out.order_updates
              if u.report.change_reason is ChangeReason.FILL}
    assert filled == {better: pytest.approx(0.1), first: pytest.approx(0.1),
                      second: pytest.approx(0.05)}
    assert engine.order(second).remaining_amount == pytest.approx(0.05)


# ------------------------------------------------------------------ post-only


def test_post_only_when_crossing_moves_one_tick_from_opposite_best(engine):
    ext(engine, SELL, 101, 1.0)
    r = engine.insert("s1", PERP, BUY, 0.1, 105, post_only=True, ts_ns=2).response
    assert r.price == 100.0 and r.status is OrderStatus.OPEN and r.fills == ()
    ext(engine, BUY, 90, 1.0)
    s = engine.insert("s1", PERP, SELL, 0.1, 80, post_only=True, ts_ns=3).response
    assert s.price == 101.0  # one tick above the best bid, our own 100


def test_post_only_when_reject_post_only_and_crossing_cancelled_immediate(engine):
    ext(engine, SELL, 101, 1.0)
    r = engine.insert("s1", PERP, BUY, 0.1, 101, post_only=True, reject_post_only=True,
                      ts_ns=2).response
    assert r.status is OrderStatus.CANCELLED
    assert r.delete_reason is DeleteReason.IMMEDIATE_CANCEL
    assert engine.open_orders(session="s1") == ()
    ok = engine.insert("s1", PERP, BUY, 0.1, 100, post_only=True, reject_post_only=True, ts_ns=3)
    assert ok.response.status is OrderStatus.OPEN


def test_post_only_when_buy_adjusted_to_zero_cancelled_immediate(engine):
    ext(engine, SELL, 1, 1.0)
    r = engine.insert("s1", PERP, BUY, 0.1, 5, post_only=True, ts_ns=2).response
    assert r.status is OrderStatus.CANCELLED
    assert r.delete_reason is DeleteReason.IMMEDIATE_CANCEL


# ------------------------------------------------------------------ reduce-only


def test_reduce_only_when_flat_rejected(engine):
    out = engine.insert("s1", PERP, SELL, 0.1, 100, reduce_only=True, ts_ns=1)
    assert out.error.code is ErrorCode.REDUCE_ONLY_MODE


def test_reduce_only_when_larger_than_position_cut_to_position(engine):
    ext(engine, SELL, 101, 0.3)
    engine.insert("s1", PERP, BUY, 0.3, 101, ts_ns=1)
    wrong = engine.insert("s1", PERP, BUY, 0.1, 90, reduce_only=True, ts_ns=2)
    assert wrong.error.code is ErrorCode.REDUCE_ONLY_MODE
    r = engine.insert("s1", PERP, SELL, 1.0, 120, reduce_only=True, ts_ns=3).response
    assert r.amount == pytest.approx(0.3) and r.reduce_only is True


# ------------------------------------------------------------------ self-trade prevention


def test_self_trade_when_aggressor_meets_own_order_aggressor_cancelled(engine):
    ext(engine, SELL, 100, 0.2)
    own = engine.insert("s1", PERP, SELL, 0.5, 101, ts_ns=1).response.order_id
    out = engine.insert("s3", PERP, BUY, 1.0, 101, ts_ns=2)  # same account A
    r = out.response
    assert r.delete_reason is DeleteReason.SELF_TRADE_PREVENTION
    assert r.status is OrderStatus.CANCELLED_PARTIALLY_FILLED
    assert r.filled_amount == pytest.approx(0.2)  # the external size at 100 traded first
    assert engine.order(own).remaining_amount == pytest.approx(0.5)


def test_self_trade_when_prevention_disabled_account_trades_with_itself():
    e = make_engine(EngineConfig(self_trade_prevention=False))
    e.insert("s1", PERP, SELL, 0.5, 101, ts_ns=1)
    r = e.insert("s3", PERP, BUY, 0.5, 101, ts_ns=2).response
    assert r.status is OrderStatus.FILLED
    assert e.portfolio("A") == ()  # bought and sold the same amount


# ------------------------------------------------------------------ amend


def test_amend_when_same_price_smaller_amount_keeps_priority(engine):
    a = engine.insert("s1", PERP, BUY, 0.3, 100, ts_ns=1).response.order_id
    b = engine.insert("s2", PERP, BUY, 0.3, 100, ts_ns=2).response.order_id
    r = engine.amend("s1", 0.2, 100, order_id=a, ts_ns=3).response
    assert r.change_reason is ChangeReason.AMEND and r.amount == pytest.approx(0.2)
    out = engine.insert("s3", PERP, SELL, 0.2, 100, ts_ns=4)  # account A: STP vs a? a is A!
    assert out.response.delete_reason is DeleteReason.SELF_TRADE_PREVENTION
    e2 = engine.insert("s2", PERP, SELL, 0.2, 100, ts_ns=5)  # B vs own b behind a
    assert e2.response.filled_amount == pytest.approx(0.2)
    assert engine.order(a) is None and engine.order(b).remaining_amount == pytest.approx(0.3)


def test_amend_when_amount_increases_loses_priority(engine):
    a = engine.insert("s1", PERP, BUY, 0.3, 100, ts_ns=1).response.order_id
    b = engine.insert("s3", PERP, BUY, 0.3, 100, ts_ns=2).response.order_id
    engine.amend("s1", 0.4, 100, order_id=a, ts_ns=3)
    engine.insert("s2", PERP, SELL, 0.3, 100, ts_ns=4)
    assert engine.order(b) is None
    assert engine.order(a).remaining_amount == pytest.approx(0.4)


def test_amend_when_amount_not_above_filled_deletes_order(engine):
    a = engine.insert("s1", PERP, BUY, 0.5, 100, ts_ns=1).response.order_id
    engine.insert("s2", PERP, SELL, 0.2, 100, ts_ns=2)
    r = engine.amend("s1", 0.2, 100, order_id=a, ts_ns=3).response
    assert r.status is OrderStatus.CANCELLED_PARTIALLY_FILLED
    assert r.change_reason is ChangeReason.AMEND
    assert r.delete_reason is DeleteReason.CLIENT_CANCEL
    assert engine.book_levels(PERP) == ((), ())


def test_amend_when_volume_safe_new_amount_is_original_size(engine):
    a = engine.insert("s1", PERP, BUY, 0.5, 100, ts_ns=1).response.order_id
    engine.insert("s2", PERP, SELL, 0.2, 100, ts_ns=2)
    r = engine.amend("s1", 0.4, 99, order_id=a, ts_ns=3).response
    assert (r.amount, r.filled_amount, r.remaining_amount) == pytest.approx((0.4, 0.2, 0.2))
    assert r.price == 99.0 and r.status is OrderStatus.PARTIALLY_FILLED


def test_amend_when_new_price_crosses_trades(engine):
    ext(engine, SELL, 101, 0.1)
    a = engine.insert("s1", PERP, BUY, 0.5, 100, ts_ns=1).response.order_id
    r = engine.amend("s1", 0.5, 101, order_id=a, ts_ns=2).response
    assert r.filled_amount == pytest.approx(0.1)
    assert [f.maker_taker for f in r.fills] == ["taker"]


def test_amend_when_by_client_order_id_other_session_not_found(engine):
    engine.insert("s1", PERP, BUY, 0.5, 100, client_order_id=9, ts_ns=1)
    out = engine.amend("s3", 0.4, 100, client_order_id=9, ts_ns=2)
    assert out.error.code is ErrorCode.ORDER_NOT_FOUND
    assert engine.amend("s1", 0.4, 100, client_order_id=9, ts_ns=3).ok
    both = engine.amend("s1", 0.4, 100, client_order_id=9, order_id="x", ts_ns=4)
    assert both.error.code is ErrorCode.INVALID_REQUEST


# ------------------------------------------------------------------ cancel


def test_cancel_when_by_order_id_reports_client_cancel_with_close_time(engine):
    a = engine.insert("s1", PERP, BUY, 0.5, 100, ts_ns=1).response.order_id
    out = engine.cancel("s3", order_id=a, ts_ns=7)  # same account, other session
    r = out.response
    assert r.status is OrderStatus.CANCELLED and r.delete_reason is DeleteReason.CLIENT_CANCEL
    assert r.close_ts_ns == 7 and r.change_reason is ChangeReason.CANCEL
    assert out.book_changes[0].amount == 0.0
    again = engine.cancel("s1", order_id=a, ts_ns=8)
    assert again.error.code is ErrorCode.ORDER_NOT_FOUND


def test_cancel_when_order_of_other_account_not_found(engine):
    a = engine.insert("s1", PERP, BUY, 0.5, 100, ts_ns=1).response.order_id
    assert engine.cancel("s2", order_id=a, ts_ns=2).error.code is ErrorCode.ORDER_NOT_FOUND


def test_cancel_all_when_account_has_orders_in_two_sessions_counts_both(engine):
    engine.insert("s1", PERP, BUY, 0.5, 100, ts_ns=1)
    engine.insert("s3", PERP, SELL, 0.5, 110, ts_ns=1)
    engine.insert("s2", PERP, BUY, 0.5, 100, ts_ns=1)
    out = engine.cancel_all("s1", ts_ns=2)
    assert out.response == 2
    assert {u.report.delete_reason for u in out.order_updates} == {
        DeleteReason.CLIENT_BULK_CANCEL}
    assert len(engine.open_orders(account="B")) == 1


def test_cancel_session_when_mixed_persistence_deletes_only_non_persistent(engine):
    keep = engine.insert("s1", PERP, BUY, 0.5, 100, ts_ns=1).response.order_id
    engine.set_session_persistent("s1", False)
    gone = engine.insert("s1", PERP, BUY, 0.5, 99, ts_ns=2).response
    assert gone.persistent is False
    out = engine.cancel_session("s1", ts_ns=3)
    assert out.response is None
    assert [(u.report.order_id, u.report.delete_reason) for u in out.order_updates] == [
        (gone.order_id, DeleteReason.SESSION_END)]
    assert engine.order(keep) is not None


def test_disconnect_when_non_persistent_orders_deleted_session_forgotten(engine):
    engine.set_session_persistent("s1", False)
    engine.insert("s1", PERP, BUY, 0.5, 99, ts_ns=2)
    out = engine.disconnect_session("s1", ts_ns=3)
    assert out.order_updates[0].report.delete_reason is DeleteReason.SESSION_END
    with pytest.raises(InvalidState):
        engine.insert("s1", PERP, BUY, 0.5, 99, ts_ns=4)


def test_open_orders_when_session_or_account_filters(engine):
    engine.insert("s1", PERP, BUY, 0.5, 100, ts_ns=1)
    engine.insert("s3", PERP, BUY, 0.5, 99, ts_ns=1)
    assert len(engine.open_orders(session="s1")) == 1
    assert len(engine.open_orders(account="A")) == 2
    assert engine.open_orders(account="A")[0].change_reason is ChangeReason.EXISTING
    with pytest.raises(ValueError, match="exactly one"):
        engine.open_orders()
