"""OrderBook and MarketState: snapshot + deltas, derived prices, health, staleness."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thalex_mm.core.book import BookHealth, OrderBook
from thalex_mm.core.events import (
    BookDeltaReceived,
    BookSnapshotReceived,
    IndexUpdated,
    LightTickerUpdated,
    PublicTrade,
    PublicTradesReceived,
    TickerUpdated,
)
from thalex_mm.core.market_state import MarketState, Stream
from thalex_mm.core.types import Side

INSTR = "BTC-PERPETUAL"
S = 1_000_000_000


def snap(bids, asks, ts=1 * S, trades=()):
    return BookSnapshotReceived(instrument=INSTR, bids=tuple(bids), asks=tuple(asks), local_ts_ns=ts, trades=trades)


def delta(bids=(), asks=(), ts=2 * S, trades=()):
    return BookDeltaReceived(instrument=INSTR, bids=tuple(bids), asks=tuple(asks), local_ts_ns=ts, trades=trades)


def test_book_when_snapshot_applied_reports_best_mid_spread_microprice():
    b = OrderBook(INSTR)
    b.apply_snapshot(snap([(99.0, 1.0), (100.0, 3.0)], [(102.0, 1.0), (101.0, 1.0)]))
    assert b.best_bid == 100.0 and b.best_ask == 101.0
    assert b.mid == 100.5
    assert b.spread == 1.0
    # (100·1 + 101·3) / 4 = 100.75: leans to the ask (thin side)
    assert b.microprice == pytest.approx(100.75)
    assert b.imbalance(1) == pytest.approx((3 - 1) / 4)
    assert b.imbalance(2) == pytest.approx((4 - 2) / 6)
    assert b.health() is BookHealth.OK
    assert b.levels(Side.BUY) == [(100.0, 3.0), (99.0, 1.0)]
    assert b.levels(Side.SELL, 1) == [(101.0, 1.0)]


def test_book_when_delta_removes_best_promotes_next_level():
    b = OrderBook(INSTR)
    b.apply_snapshot(snap([(99.0, 1.0), (100.0, 3.0)], [(101.0, 1.0), (102.0, 2.0)]))
    b.apply_delta(delta(bids=[(100.0, 0.0)], asks=[(101.0, 0.0), (101.5, 0.5)]))
    assert b.best_bid == 99.0 and b.best_ask == 101.5
    assert b.best_ask_amount == 0.5
    assert b.depth(Side.BUY) == 1 and b.depth(Side.SELL) == 2


def test_book_when_delta_before_snapshot_health_is_no_snapshot():
    b = OrderBook(INSTR)
    b.apply_delta(delta(bids=[(100.0, 1.0)], asks=[(101.0, 1.0)]))
    assert b.health() is BookHealth.NO_SNAPSHOT


def test_book_when_bid_above_ask_is_crossed_and_unhealthy():
    b = OrderBook(INSTR)
    b.apply_snapshot(snap([(100.0, 1.0)], [(101.0, 1.0)]))
    b.apply_delta(delta(bids=[(101.5, 1.0)]))
    assert b.is_crossed
    assert b.health() is BookHealth.CROSSED
    assert b.spread == pytest.approx(-0.5)


def test_book_when_invalid_level_reports_inconsistent_until_snapshot():
    b = OrderBook(INSTR)
    b.apply_snapshot(snap([(100.0, 1.0)], [(101.0, 1.0)]))
    assert not b.apply_level(Side.BUY, math.nan, 1.0)
    assert not b.apply_level(Side.SELL, 101.0, -1.0)
    assert b.health() is BookHealth.INCONSISTENT
    b.apply_snapshot(snap([(100.0, 1.0)], [(101.0, 1.0)]))
    assert b.health() is BookHealth.OK


def test_book_when_one_side_empty_reports_it_and_no_mid():
    b = OrderBook(INSTR)
    b.apply_snapshot(snap([(100.0, 1.0)], []))
    assert b.health() is BookHealth.EMPTY_ASKS
    assert b.mid is None and b.microprice is None and b.imbalance() is None


def test_book_when_other_instrument_ignores_event():
    b = OrderBook(INSTR)
    assert not b.apply_snapshot(BookSnapshotReceived(instrument="ETH-PERPETUAL", bids=((1.0, 1.0),), asks=()))
    assert b.health() is BookHealth.NO_SNAPSHOT


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(1, 60), st.integers(0, 3)), max_size=200))
def test_book_when_random_updates_matches_reference_dict(ops):
    b = OrderBook(INSTR)
    b.mark_snapshot()
    ref = {Side.BUY: {}, Side.SELL: {}}
    for is_bid, p, a in ops:
        side = Side.BUY if is_bid else Side.SELL
        price = float(p)
        b.apply_level(side, price, float(a))
        if a:
            ref[side][price] = float(a)
        else:
            ref[side].pop(price, None)
    assert b.levels(Side.BUY) == sorted(ref[Side.BUY].items(), reverse=True)
    assert b.levels(Side.SELL) == sorted(ref[Side.SELL].items())
    assert b.best_bid == (max(ref[Side.BUY]) if ref[Side.BUY] else None)
    assert b.best_ask == (min(ref[Side.SELL]) if ref[Side.SELL] else None)


def test_market_state_when_trades_in_delta_records_mid_before_change():
    m = MarketState(INSTR, "BTCUSD")
    m.apply(snap([(100.0, 1.0)], [(102.0, 1.0)]))
    trade = PublicTrade(instrument=INSTR, price=102.0, amount=1.0, aggressor=Side.BUY, ts_ns=3 * S)
    m.apply(delta(asks=[(102.0, 0.0), (103.0, 1.0)], ts=3 * S, trades=(trade,)))
    (rec,) = m.trades
    assert rec.mid_before == 101.0
    assert rec.aggressor is Side.BUY
    assert m.book.mid == 101.5


def test_market_state_when_ticker_and_index_arrive_tracks_fields_and_staleness():
    m = MarketState(INSTR, "BTCUSD")
    assert m.staleness_s(Stream.TICKER, 10 * S) == math.inf
    m.apply(TickerUpdated(instrument=INSTR, mark_price=100.2, index_price=100.0, funding_rate=1e-5, collar_low=90.0, collar_high=110.0, local_ts_ns=5 * S))
    m.apply(LightTickerUpdated(instrument=INSTR, mark_price=100.3, local_ts_ns=6 * S))
    m.apply(IndexUpdated(index_name="BTCUSD", price=99.9, local_ts_ns=7 * S))
    m.apply(IndexUpdated(index_name="ETHUSD", price=5.0, local_ts_ns=8 * S))
    assert m.ticker.mark_price == 100.3
    assert m.ticker.funding_rate == 1e-5
    assert (m.ticker.collar_low, m.ticker.collar_high) == (90.0, 110.0)
    assert m.index_price == 99.9
    assert m.staleness_s(Stream.TICKER, 10 * S) == pytest.approx(4.0)
    assert m.staleness_s(Stream.INDEX, 10 * S) == pytest.approx(3.0)
    assert m.stale_streams(10 * S, 3.5) == (Stream.BOOK, Stream.TICKER)


def test_market_state_when_buffer_full_drops_oldest_and_filters_by_time():
    m = MarketState(INSTR, "BTCUSD", max_trades=3)
    trades = tuple(PublicTrade(instrument=INSTR, price=100.0 + i, amount=1.0, aggressor=Side.SELL, ts_ns=i * S) for i in range(5))
    m.apply(PublicTradesReceived(trades=trades, local_ts_ns=5 * S))
    assert [t.price for t in m.trades] == [102.0, 103.0, 104.0]
    assert [t.price for t in m.recent_trades(3 * S)] == [103.0, 104.0]


def test_book_levels_when_depth_given_returns_best_first_prefix_of_each_side():
    b = OrderBook(INSTR)
    b.apply_snapshot(snap([(float(p), p / 10) for p in range(90, 100)],
                          [(float(p), p / 10) for p in range(101, 111)]))
    assert b.levels(Side.BUY, 3) == [(99.0, 9.9), (98.0, 9.8), (97.0, 9.7)]
    assert b.levels(Side.SELL, 2) == [(101.0, 10.1), (102.0, 10.2)]
    assert b.levels(Side.BUY, 100) == b.levels(Side.BUY)
    assert len(b.levels(Side.BUY)) == 10 and b.levels(Side.BUY)[-1] == (90.0, 9.0)
    assert b.levels(Side.BUY, 0) == [] and b.levels(Side.SELL, 0) == []


def test_book_apply_levels_when_bulk_matches_level_by_level_and_counts_invalid():
    changes = [(100.0, 1.0), (99.0, 2.0), (float("nan"), 1.0), (100.0, 0.0), (98.0, -1.0),
               (97.0, 3.0), (-5.0, 1.0), (99.0, 2.5), (101.0, float("inf"))]
    bulk, one = OrderBook(INSTR), OrderBook(INSTR)
    assert bulk.apply_levels(Side.BUY, changes) == 4
    ok = [one.apply_level(Side.BUY, p, a) for p, a in changes]
    assert ok.count(False) == 4
    assert bulk.levels(Side.BUY) == one.levels(Side.BUY) == [(99.0, 2.5), (97.0, 3.0)]
    assert bulk.invalid_levels == one.invalid_levels == 4
    bulk.mark_snapshot()
    assert bulk.health() is BookHealth.INCONSISTENT
