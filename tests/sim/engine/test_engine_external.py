"""Other participants: external levels, queue position, external market orders and prints."""

from __future__ import annotations

import pytest
from sim_engine_helpers import PERP, make_engine

from thalex_mm.core.types import ChangeReason, OrderStatus, Side
from thalex_mm.sim.engine import (
    EXTERNAL_ACCOUNT,
    EngineConfig,
    LogProbQueue,
    PowerProbQueue,
    RiskAverseQueue,
)

BUY, SELL = Side.BUY, Side.SELL


def ext(e, side, price, amount, ts=1):
    return e.set_external_level(PERP, side, price, amount, ts_ns=ts)


# ------------------------------------------------------------------ queue models (numbers)


def test_risk_averse_queue_when_level_shrinks_advances_only_below_position():
    m = RiskAverseQueue()
    assert m.on_decrease(3.0, 5.0, 4.0) == 3.0
    assert m.on_decrease(3.0, 5.0, 2.0) == 2.0


def test_power_prob_queue_when_n1_splits_decrease_proportionally():
    # ahead 3, behind 2, decrease 1: share from ahead = 3/5 -> 3 - 0.6 = 2.4
    assert PowerProbQueue(1.0).on_decrease(3.0, 5.0, 4.0) == pytest.approx(2.4)


def test_power_prob_queue_when_n2_weights_the_bigger_side():
    # f(3)=9, f(2)=4: share from ahead 9/13 of a decrease of 1
    assert PowerProbQueue(2.0).on_decrease(3.0, 5.0, 4.0) == pytest.approx(3.0 - 9.0 / 13.0)


def test_prob_queue_when_decrease_exceeds_behind_takes_overflow_from_ahead():
    # ahead 1, behind 1, decrease 1.8 with n=1: 0.9 from each side -> 0.1 left ahead
    assert PowerProbQueue(1.0).on_decrease(1.0, 2.0, 0.2) == pytest.approx(0.1)
    # nothing behind us: the whole decrease comes from ahead
    assert PowerProbQueue(2.0).on_decrease(2.0, 2.0, 0.5) == pytest.approx(0.5)


def test_log_prob_queue_when_decrease_uses_log1p_weights():
    import math

    share = math.log1p(3.0) / (math.log1p(3.0) + math.log1p(2.0))
    assert LogProbQueue().on_decrease(3.0, 5.0, 4.0) == pytest.approx(3.0 - share)


def test_power_prob_queue_when_n_not_positive_raises_naming_value():
    with pytest.raises(ValueError, match="n: got 0"):
        PowerProbQueue(0)


# ------------------------------------------------------------------ queue position in the book


def test_queue_ahead_when_order_joins_level_equals_external_size(engine):
    ext(engine, BUY, 100, 2.0)
    a = engine.insert("s1", PERP, BUY, 0.5, 100, ts_ns=2).response.order_id
    assert engine.queue_ahead(a) == 2.0
    ext(engine, BUY, 100, 3.0)  # joins behind us
    assert engine.queue_ahead(a) == 2.0
    assert engine.book_levels(PERP)[0] == ((100.0, 3.5),)


def test_queue_ahead_when_cancels_with_risk_averse_model_min_of_level(engine):
    ext(engine, BUY, 100, 2.0)
    a = engine.insert("s1", PERP, BUY, 0.5, 100, ts_ns=2).response.order_id
    ext(engine, BUY, 100, 4.0)
    ext(engine, BUY, 100, 3.0)
    assert engine.queue_ahead(a) == 2.0
    ext(engine, BUY, 100, 1.5)
    assert engine.queue_ahead(a) == 1.5


def test_queue_ahead_when_cancels_with_prob_model_shrinks_proportionally():
    e = make_engine(EngineConfig(queue_model=PowerProbQueue(1.0)))
    ext(e, BUY, 100, 2.0)
    a = e.insert("s1", PERP, BUY, 0.5, 100, ts_ns=2).response.order_id
    ext(e, BUY, 100, 4.0)  # 2 ahead, 2 behind
    ext(e, BUY, 100, 3.0)  # decrease 1: half from ahead
    assert e.queue_ahead(a) == pytest.approx(1.5)


def test_external_market_order_when_queue_ahead_consumes_external_first(engine):
    ext(engine, SELL, 101, 1.0)
    a = engine.insert("s1", PERP, SELL, 0.5, 101, ts_ns=2).response.order_id
    ext(engine, SELL, 101, 2.0)  # 1.0 ahead of us, 1.0 behind
    out = engine.external_market_order(PERP, BUY, 0.8, ts_ns=3)
    assert out.response == pytest.approx(0.8)
    assert out.account_trades == ()
    assert engine.queue_ahead(a) == pytest.approx(0.2)
    out = engine.external_market_order(PERP, BUY, 0.6, ts_ns=4)
    fills = out.order_updates[0].report.fills
    assert [(f.price, f.amount, f.maker_taker) for f in fills] == [(101.0, 0.4, "maker")]
    assert engine.order(a).remaining_amount == pytest.approx(0.1)
    assert engine.book_levels(PERP)[1] == ((101.0, pytest.approx(1.1)),)
    assert engine.portfolio("A")[0].position == pytest.approx(-0.4)
    assert engine.portfolio(EXTERNAL_ACCOUNT)[0].position == pytest.approx(0.4)


def test_external_market_order_when_walks_levels_prints_per_level(engine):
    ext(engine, SELL, 101, 0.3)
    engine.insert("s1", PERP, SELL, 0.2, 102, ts_ns=2)
    ext(engine, SELL, 103, 5.0)
    out = engine.external_market_order(PERP, BUY, 1.0, 102, ts_ns=3)
    assert [(t.price, t.amount, t.aggressor) for t in out.public_trades] == [
        (101.0, 0.3, BUY), (102.0, 0.2, BUY)]
    assert out.response == pytest.approx(0.5)
    assert engine.best_bid_ask(PERP) == (None, 103.0)


# ------------------------------------------------------------------ recorded prints


def test_external_trade_when_at_our_price_fills_after_queue_ahead(engine):
    ext(engine, BUY, 100, 1.0)
    a = engine.insert("s1", PERP, BUY, 0.5, 100, ts_ns=2).response.order_id
    out = engine.external_trade(PERP, SELL, 100, 0.7, ts_ns=3)
    assert out.response == 0.0
    assert engine.queue_ahead(a) == pytest.approx(0.3)
    assert [(t.price, t.amount) for t in out.public_trades] == [(100.0, 0.7)]
    out = engine.external_trade(PERP, SELL, 100, 0.5, ts_ns=4)
    assert out.response == pytest.approx(0.2)
    assert engine.order(a).remaining_amount == pytest.approx(0.3)
    assert engine.book_levels(PERP)[0] == ((100.0, pytest.approx(0.3)),)


def test_external_trade_when_print_beyond_our_price_fills_us_from_its_amount(engine):
    a = engine.insert("s1", PERP, BUY, 0.5, 100, ts_ns=1).response.order_id
    b = engine.insert("s2", PERP, BUY, 0.5, 101, ts_ns=1).response.order_id
    ext(engine, BUY, 99, 3.0)
    out = engine.external_trade(PERP, SELL, 99, 0.8, ts_ns=2)
    assert out.response == pytest.approx(0.8)
    assert engine.order(b) is None  # best price fills first, completely
    assert engine.order(a).remaining_amount == pytest.approx(0.2)
    assert [(t.price, t.amount) for t in out.public_trades] == [(101.0, 0.5), (100.0, 0.3)]
    assert engine.book_levels(PERP)[0][-1] == (99.0, 3.0)  # the print's budget was used up


def test_external_trade_when_print_worse_than_our_price_leaves_us_alone(engine):
    a = engine.insert("s1", PERP, BUY, 0.5, 100, ts_ns=1).response.order_id
    out = engine.external_trade(PERP, BUY, 102, 1.0, ts_ns=2)
    assert out.response == 0.0 and engine.order(a).remaining_amount == 0.5


# ------------------------------------------------------------------ crossing updates


def test_external_level_when_crossing_our_order_fills_it_at_our_price(engine):
    a = engine.insert("s1", PERP, BUY, 0.5, 100, ts_ns=1).response.order_id
    ext(engine, BUY, 99, 1.0)
    out = ext(engine, SELL, 99, 2.0, ts=2)  # the ask moved through our bid
    reports = [u.report for u in out.order_updates]
    assert reports[0].order_id == a and reports[0].status is OrderStatus.FILLED
    assert reports[0].change_reason is ChangeReason.FILL
    assert reports[0].fills[0].price == 100.0 and reports[0].fills[0].maker_taker == "maker"
    # the stale external bid at 99 was removed, so nothing is crossed
    assert engine.best_bid_ask(PERP) == (None, 99.0)
    assert engine.portfolio("A")[0].position == pytest.approx(0.5)


def test_external_level_when_zero_removes_level_and_reports_zero(engine):
    ext(engine, SELL, 105, 1.0)
    out = ext(engine, SELL, 105, 0.0, ts=2)
    assert [(c.price, c.amount) for c in out.book_changes] == [(105.0, 0.0)]
    assert engine.book_levels(PERP) == ((), ())
    with pytest.raises(ValueError, match="expected >= 0"):
        ext(engine, SELL, 105, -1.0)
