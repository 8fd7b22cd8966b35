"""Position and PnL: hand-computed cases with fees and partial fills, idempotence, reconcile."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thalex_mm.core.events import AccountTrade, PortfolioEntry
from thalex_mm.core.position import PositionTracker
from thalex_mm.core.types import Side

INSTR = "BTC-PERPETUAL"


def fill(t: PositionTracker, tid: str, side: Side, price: float, amount: float, fee=None, ts=0):
    return t.apply_fill(trade_id=tid, side=side, price=price, amount=amount, fee=fee, ts_ns=ts)


def test_position_when_buy_then_partial_sells_through_zero_matches_hand_computation():
    t = PositionTracker(INSTR)
    fill(t, "a", Side.BUY, 100.0, 0.3, fee=0.03)
    fill(t, "b", Side.SELL, 110.0, 0.1, fee=0.011)
    assert t.position == pytest.approx(0.2)
    assert t.average_entry_price == pytest.approx(100.0)
    assert t.realised_pnl_usd == pytest.approx(1.0)  # (110-100)*0.1
    res = fill(t, "c", Side.SELL, 90.0, 0.4, fee=0.036)
    # closes 0.2 at 90: (90-100)*0.2 = -2.0; opens short 0.2 at 90
    assert t.realised_pnl_usd == pytest.approx(-1.0)
    assert t.position == pytest.approx(-0.2)
    assert t.average_entry_price == pytest.approx(90.0)
    assert t.fees_usd == pytest.approx(0.077)
    snap = t.snapshot(mark_price=85.0)
    assert snap.unrealised_pnl_usd == pytest.approx((85.0 - 90.0) * -0.2)  # +1.0
    assert snap.total_pnl_usd == pytest.approx(-1.0 + 1.0 - 0.077)
    # the flip closed a round trip: realised -1.0 minus all three fees
    assert res is not None and res.round_trip is not None
    assert res.round_trip.pnl_usd == pytest.approx(-1.0 - 0.077)


def test_position_when_adding_to_position_averages_entry_price():
    t = PositionTracker(INSTR)
    fill(t, "a", Side.SELL, 200.0, 0.1)
    fill(t, "b", Side.SELL, 230.0, 0.2)
    assert t.position == pytest.approx(-0.3)
    assert t.average_entry_price == pytest.approx((200 * 0.1 + 230 * 0.2) / 0.3)
    fill(t, "c", Side.BUY, 210.0, 0.3)
    assert t.position == 0.0
    assert t.realised_pnl_usd == pytest.approx((220.0 - 210.0) * 0.3)
    assert t.round_trips[-1].pnl_usd == pytest.approx(3.0)


def test_position_when_same_trade_id_applied_twice_counts_once():
    t = PositionTracker(INSTR)
    assert fill(t, "x", Side.BUY, 100.0, 0.5) is not None
    assert fill(t, "x", Side.BUY, 100.0, 0.5) is None
    assert t.position == pytest.approx(0.5)


def test_position_when_trade_history_brings_fee_later_adds_only_the_fee():
    t = PositionTracker(INSTR)
    fill(t, "x", Side.BUY, 100.0, 0.5)  # from an order report: no fee
    trade = AccountTrade(
        trade_id="x",
        order_id="1",
        instrument=INSTR,
        side=Side.BUY,
        price=100.0,
        amount=0.5,
        fee=0.025,
        ts_ns=5,
        perpetual_funding_pnl=0.4,
    )
    assert t.apply_trade(trade) is None
    assert t.apply_trade(trade) is None
    assert t.position == pytest.approx(0.5)
    assert t.fees_usd == pytest.approx(0.025)
    assert t.funding_usd == pytest.approx(0.4)


def test_position_when_exchange_disagrees_adopts_exchange_and_reports_both():
    t = PositionTracker(INSTR, tolerance=1e-6)
    fill(t, "a", Side.BUY, 100.0, 0.3)
    d = t.reconcile(PortfolioEntry(instrument=INSTR, position=0.25, average_price=101.0), ts_ns=9)
    assert d is not None
    assert (d.local_position, d.exchange_position) == (pytest.approx(0.3), 0.25)
    assert d.difference == pytest.approx(-0.05)
    assert t.position == 0.25 and t.average_entry_price == 101.0
    assert t.reconcile(PortfolioEntry(instrument=INSTR, position=0.25)) is None


def test_position_when_portfolio_reports_unsettled_funding_adds_it_to_settled_funding():
    t = PositionTracker(INSTR)
    t.add_funding(0.5, key="trade:t1")  # settled into an earlier trade
    t.reconcile(PortfolioEntry(instrument=INSTR, position=0.1, average_price=100.0,
                               unrealised_perpetual_funding=-0.2))
    snap = t.snapshot(100.0)
    assert snap.funding_usd == pytest.approx(0.3)
    assert snap.total_pnl_usd == pytest.approx(0.3)
    t.reconcile(PortfolioEntry(instrument=INSTR, position=0.1, average_price=100.0,
                               unrealised_perpetual_funding=-0.25))  # absolute, not a delta
    assert t.snapshot(100.0).funding_usd == pytest.approx(0.25)


def test_position_max_abs_position_when_fills_go_out_and_back_keeps_the_peak():
    t = PositionTracker(INSTR)
    t.apply_fill(trade_id="a", side=Side.BUY, price=100.0, amount=0.03, ts_ns=1)
    t.apply_fill(trade_id="b", side=Side.SELL, price=101.0, amount=0.05, ts_ns=2)
    t.apply_fill(trade_id="c", side=Side.BUY, price=100.0, amount=0.02, ts_ns=3)
    assert t.position == pytest.approx(0.0) and t.max_abs_position == pytest.approx(0.03)


def test_position_when_fill_has_bad_amount_raises_naming_value():
    t = PositionTracker(INSTR)
    with pytest.raises(ValueError, match="amount=0"):
        fill(t, "z", Side.BUY, 100.0, 0.0)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from([Side.BUY, Side.SELL]), st.integers(90, 110), st.integers(1, 50)),
        min_size=1,
        max_size=30,
    ),
    st.integers(80, 120),
)
def test_position_when_random_fills_total_pnl_equals_cash_flow_valuation(fills, mark):
    """realised + unrealised == cash flow + position * mark (conservation)."""
    t = PositionTracker(INSTR)
    cash = 0.0
    for i, (side, price, lots) in enumerate(fills):
        amount = lots / 100
        fill(t, str(i), side, float(price), amount)
        fill(t, str(i), side, float(price), amount)  # duplicate: ignored
        cash -= side.sign * amount * price
    expected = cash + t.position * mark
    snap = t.snapshot(float(mark))
    assert snap.realised_pnl_usd + snap.unrealised_pnl_usd == pytest.approx(expected, abs=1e-6)
    assert t.position == pytest.approx(sum(s.sign * lots / 100 for s, _, lots in fills), abs=1e-9)


def test_position_when_exchange_average_price_differs_total_pnl_does_not_step():
    t = PositionTracker(INSTR)
    t.reconcile(PortfolioEntry(instrument=INSTR, position=0.0))  # start-up snapshot: flat
    fill(t, "a", Side.BUY, 100.0, 0.1)
    before = t.snapshot(105.0).total_pnl_usd  # 0.5
    t.reconcile(PortfolioEntry(instrument=INSTR, position=0.1, average_price=101.0))
    after = t.snapshot(105.0)
    assert t.average_entry_price == 101.0  # the exchange's figure is adopted...
    assert after.total_pnl_usd == pytest.approx(before)  # ...without a step in total PnL
    assert after.realised_pnl_usd == pytest.approx(0.1)  # the difference moved to realised


def test_position_when_first_snapshot_inherits_a_position_values_it_unadjusted():
    t = PositionTracker(INSTR)
    t.reconcile(PortfolioEntry(instrument=INSTR, position=0.1, average_price=60_000.0, mark_price=54_000.0))
    snap = t.snapshot(54_000.0)
    assert snap.realised_pnl_usd == 0.0 and snap.unrealised_pnl_usd == pytest.approx(-600.0)
