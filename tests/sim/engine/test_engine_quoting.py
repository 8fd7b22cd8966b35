"""Mass quotes and market-maker protection (thalex_protocol.md §5.5, §6)."""

from __future__ import annotations

import pytest
from sim_engine_helpers import PERP, PRODUCT, make_engine

from thalex_mm.core.types import DeleteReason, OrderStatus, Side
from thalex_mm.protocol.error_codes import ErrorCode

BUY, SELL = Side.BUY, Side.SELL


def quoting_engine(trade_amount=1.0, quote_amount=2.0):
    e = make_engine()
    e.set_session_persistent("s1", False)
    assert e.set_mmp("s1", PRODUCT, trade_amount, quote_amount, ts_ns=1).ok
    return e


def live_quotes(e, session="s1"):
    return sorted((o.side.value, o.price, o.amount) for o in e.open_orders(session=session))


def test_mass_quote_when_persistent_session_rejected(engine):
    out = engine.mass_quote("s1", [(PERP, [(100, 0.1)], None)], ts_ns=1)
    assert out.error.code is ErrorCode.PERSISTENT_SESSION


def test_mass_quote_when_mmp_not_set_level_fails_prot_not_set(engine):
    engine.set_session_persistent("s1", False)
    out = engine.mass_quote("s1", [(PERP, [(100, 0.1)], [(101, 0.1)])], ts_ns=1)
    res = out.response
    assert (res.n_success, res.n_fail) == (0, 2)
    assert {(x.code, x.side, x.price) for x in res.errors} == {
        (ErrorCode.PROT_NOT_SET, BUY, 100), (ErrorCode.PROT_NOT_SET, SELL, 101)}


def test_mass_quote_when_new_levels_places_gtc_non_persistent_quotes():
    e = quoting_engine()
    out = e.mass_quote("s1", [(PERP, [(100, 0.2), (99, 0.3)], [(102, 0.2)])], label="MQ",
                       ts_ns=2)
    assert out.response.n_success == 3 and out.response.n_fail == 0
    assert live_quotes(e) == [("buy", 99.0, 0.3), ("buy", 100.0, 0.2), ("sell", 102.0, 0.2)]
    assert all(not r.persistent and r.label == "MQ" for r in e.open_orders(session="s1"))


def test_mass_quote_when_side_resent_replaces_missing_levels_and_keeps_identical():
    e = quoting_engine()
    e.mass_quote("s1", [(PERP, [(100, 0.2), (99, 0.3)], [(102, 0.2)])], ts_ns=2)
    kept = next(r.order_id for r in e.open_orders(session="s1") if r.price == 100.0)
    out = e.mass_quote("s1", [(PERP, [(100, 0.2), (98, 0.1)], None)], ts_ns=3)
    deleted = {u.report.price: u.report.delete_reason for u in out.order_updates
               if u.report.delete_reason is not None}
    assert deleted == {99.0: DeleteReason.REPLACED}
    assert live_quotes(e) == [("buy", 98.0, 0.1), ("buy", 100.0, 0.2), ("sell", 102.0, 0.2)]
    assert e.order(kept) is not None  # same price and amount: untouched


def test_mass_quote_when_identical_resend_keeps_queue_priority():
    e = quoting_engine()
    e.set_external_level(PERP, BUY, 100, 1.0, ts_ns=1)
    e.mass_quote("s1", [(PERP, [(100, 0.2)], None)], ts_ns=2)
    oid = e.open_orders(session="s1")[0].order_id
    e.set_external_level(PERP, BUY, 100, 0.4, ts_ns=3)  # cancels ahead of us
    e.set_external_level(PERP, BUY, 100, 2.0, ts_ns=4)  # joins behind
    e.mass_quote("s1", [(PERP, [(100, 0.2)], None)], ts_ns=5)
    assert e.order(oid) is not None and e.queue_ahead(oid) == pytest.approx(0.4)
    e.mass_quote("s1", [(PERP, [(100, 0.3)], None)], ts_ns=6)  # new amount: back of queue
    new = e.open_orders(session="s1")[0]
    assert new.order_id != oid and e.queue_ahead(new.order_id) == pytest.approx(2.0)


def test_mass_quote_when_amount_zero_deletes_with_client_cancel_and_empty_side_clears():
    e = quoting_engine()
    e.mass_quote("s1", [(PERP, [(100, 0.2), (99, 0.2)], [(102, 0.2)])], ts_ns=2)
    out = e.mass_quote("s1", [(PERP, [(100, 0.0), (99, 0.2)], [])], ts_ns=3)
    reasons = sorted((u.report.price, u.report.delete_reason.value) for u in out.order_updates)
    assert reasons == [(100.0, "client_cancel"), (102.0, "replaced")]
    assert live_quotes(e) == [("buy", 99.0, 0.2)]


def test_mass_quote_when_levels_invalid_counts_failures_per_level():
    e = quoting_engine(trade_amount=0.5, quote_amount=0.5)
    out = e.mass_quote("s1", [
        (PERP, [(100, 0.2), (100, 0.1), (99.5, 0.1), (98, 0.6)], None),
        ("NOPE", [(1, 0.1)], None),
        (PERP, None, [(p, 0.1) for p in range(200, 211)]),
    ], ts_ns=2)
    codes = sorted(x.code for x in out.response.errors)
    assert out.response.n_success == 1
    assert codes == sorted([ErrorCode.INVALID_REQUEST, ErrorCode.PRICE_NOT_ALIGNED,
                            ErrorCode.QUOTE_EXCEEDS_PROT_GROUP_SIZE,
                            ErrorCode.UNKNOWN_INSTRUMENT] + [ErrorCode.INVALID_REQUEST] * 11)


def test_mmp_when_executions_reach_trade_amount_pulls_group_quotes():
    e = quoting_engine(trade_amount=0.5, quote_amount=1.0)
    e.mass_quote("s1", [(PERP, [(100, 0.4), (99, 0.4)], [(102, 0.4)])], ts_ns=2)
    out = e.external_market_order(PERP, SELL, 0.3, ts_ns=3)
    assert [(m.status.remaining_amount, m.status.reason) for m in out.mmp_updates] == [
        (pytest.approx(0.2), "executions")]
    out = e.external_market_order(PERP, SELL, 0.3, ts_ns=4)  # 0.1 at 100, 0.2 at 99
    assert out.mmp_updates[0].status.remaining_amount == pytest.approx(-0.1)  # overshoot
    pulled = [u.report for u in out.order_updates if u.report.delete_reason is not None
              and u.report.delete_reason is DeleteReason.MM_PROTECTION]
    assert sorted(r.price for r in pulled) == [99.0, 102.0]
    assert e.open_orders(session="s1") == ()
    refused = e.mass_quote("s1", [(PERP, [(100, 0.1)], None)], ts_ns=5)
    assert refused.response.errors[0].code is ErrorCode.INVALID_PROT_GROUP
    refill = e.set_mmp("s1", PRODUCT, 0.5, 1.0, ts_ns=6)
    assert refill.mmp_updates[0].status.reason == "refill"
    assert e.mass_quote("s1", [(PERP, [(100, 0.1)], None)], ts_ns=7).response.n_success == 1


def test_mmp_when_regular_orders_trade_group_unchanged():
    e = quoting_engine(trade_amount=0.5)
    e.insert("s1", PERP, BUY, 1.0, 100, ts_ns=2)
    out = e.external_market_order(PERP, SELL, 1.0, ts_ns=3)
    assert out.mmp_updates == () and e.mmp_remaining("s1", PRODUCT) == 0.5


def test_set_mmp_when_trade_amount_above_quote_amount_rejected(engine):
    assert engine.set_mmp("s1", PRODUCT, 2.0, 1.0, ts_ns=1).error.code is ErrorCode.INVALID_REQUEST
    assert engine.set_mmp("s1", "XYZ", 1.0, 1.0, ts_ns=1).error.code is ErrorCode.UNKNOWN_PRODUCT


def test_cancel_mass_quote_when_called_cancels_all_sessions_and_refills():
    e = quoting_engine(trade_amount=0.5)
    e.set_session_persistent("s2", False)
    e.set_mmp("s2", PRODUCT, 1.0, 1.0, ts_ns=1)
    e.mass_quote("s1", [(PERP, [(100, 0.4)], None)], ts_ns=2)
    e.mass_quote("s2", [(PERP, None, [(105, 0.4)])], ts_ns=2)
    regular = e.insert("s2", PERP, SELL, 0.1, 110, ts_ns=2).response.order_id
    e.external_market_order(PERP, SELL, 0.2, ts_ns=3)
    out = e.cancel_mass_quote("s1", ts_ns=4)
    assert sorted(u.report.price for u in out.order_updates) == [100.0, 105.0]
    assert e.order(regular) is not None
    assert {(m.session, m.status.reason) for m in out.mmp_updates} == {
        ("s1", "client_cancel"), ("s2", "client_cancel")}
    assert e.mmp_remaining("s1", PRODUCT) == 0.5


def test_cancel_session_when_quotes_live_deletes_them_and_resets_groups():
    e = quoting_engine()
    e.mass_quote("s1", [(PERP, [(100, 0.4)], None)], ts_ns=2)
    out = e.cancel_session("s1", ts_ns=3)
    assert out.order_updates[0].report.delete_reason is DeleteReason.SESSION_END
    assert out.order_updates[0].report.status is OrderStatus.CANCELLED
    assert out.mmp_updates[0].status.reason == "client_cancel"
    dis = e.disconnect_session("s1", ts_ns=4)
    assert dis.mmp_updates[0].status.reason == "session_end"


def test_mmp_when_quote_amended_onto_other_quote_price_still_pulled():
    e = quoting_engine(trade_amount=0.1, quote_amount=1.0)
    e.mass_quote("s1", [(PERP, [(100, 0.4), (99, 0.4)], None)], ts_ns=2)
    moved = next(r.order_id for r in e.open_orders(session="s1") if r.price == 99.0)
    e.amend("s1", 0.4, 100, order_id=moved, ts_ns=3)  # two quotes now rest at 100
    out = e.external_market_order(PERP, SELL, 0.2, ts_ns=4)
    assert out.mmp_updates[0].status.remaining_amount == pytest.approx(-0.1)
    assert e.open_orders(session="s1") == ()  # both pulled (mm_protection)
