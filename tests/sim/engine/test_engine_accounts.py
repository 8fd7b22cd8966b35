"""Positions, PnL, fees, funding and the account summary."""

from __future__ import annotations

import pytest
from sim_engine_helpers import PERP, make_engine

from thalex_mm.core.types import Side
from thalex_mm.sim.engine import EngineConfig
from thalex_mm.sim.engine.accounts import Position

BUY, SELL = Side.BUY, Side.SELL


def test_position_when_adding_then_reducing_realises_against_average():
    p = Position(PERP)
    p.apply(1, 100.0, 1.0)
    p.apply(1, 110.0, 1.0)
    assert (p.position, p.average_price) == (2.0, 105.0)
    p.apply(-1, 120.0, 0.5)
    assert p.realised_pnl == pytest.approx(7.5)  # (120 - 105) * 0.5
    assert p.average_price == 105.0 and p.position == 1.5


def test_position_when_trade_flips_side_opens_rest_at_trade_price():
    p = Position(PERP)
    p.apply(-1, 100.0, 1.0)
    p.apply(1, 90.0, 3.0)
    assert p.realised_pnl == pytest.approx(10.0)  # short 1 from 100, bought back at 90
    assert (p.position, p.average_price) == (2.0, 90.0)
    p.apply(-1, 95.0, 2.0)
    assert p.position == 0.0 and p.average_price == 0.0
    assert p.realised_pnl == pytest.approx(20.0)


def test_fees_when_maker_rebate_and_taker_fee_equal_rate_times_notional():
    e = make_engine(EngineConfig(maker_fee_rate=-0.0001, taker_fee_rate=0.0005))
    e.insert("s1", PERP, BUY, 0.5, 60000, ts_ns=1)
    out = e.insert("s2", PERP, SELL, 0.2, 60000, ts_ns=2)
    by_account = {t.account: t.trade for t in out.account_trades}
    assert by_account["A"].fee == pytest.approx(-0.0001 * 60000 * 0.2)
    assert by_account["A"].maker_taker == "maker" and by_account["A"].fee_rate == -0.0001
    assert by_account["B"].fee == pytest.approx(0.0005 * 60000 * 0.2)
    assert by_account["B"].position_after == pytest.approx(-0.2)
    assert by_account["A"].trade_id == by_account["B"].trade_id


def test_portfolio_when_mark_moves_unrealised_follows_mark(engine):
    engine.insert("s1", PERP, BUY, 0.5, 100, ts_ns=1)
    engine.insert("s2", PERP, SELL, 0.5, 100, ts_ns=2)
    engine.set_mark(PERP, 104.0)
    (a,) = engine.portfolio("A")
    (b,) = engine.portfolio("B")
    assert a.unrealised_pnl == pytest.approx(2.0) and b.unrealised_pnl == pytest.approx(-2.0)
    assert a.mark_price == 104.0 and a.entry_value == pytest.approx(50.0)


def test_funding_when_rate_positive_longs_pay_shorts(engine):
    engine.insert("s1", PERP, BUY, 2.0, 100, ts_ns=1)
    engine.insert("s2", PERP, SELL, 2.0, 100, ts_ns=2)
    out = engine.accrue_funding(PERP, 0.0003, 100.0, 3600.0, ts_ns=3)
    expected = 2.0 * 100.0 * 0.0003 * 3600.0 / 86400.0
    lines = {u.account: u.entry for u in out.portfolio_changes}
    assert lines["A"].unrealised_perpetual_funding == pytest.approx(-expected)
    assert lines["B"].unrealised_perpetual_funding == pytest.approx(expected)


def test_account_summary_when_trading_adds_pnl_fees_and_margin():
    e = make_engine(EngineConfig(maker_fee_rate=0.0, taker_fee_rate=0.001, margin_rate=0.1,
                                 initial_cash_usd=1000.0))
    e.insert("s1", PERP, BUY, 1.0, 100, ts_ns=1)
    e.insert("s2", PERP, SELL, 1.0, 100, ts_ns=2)  # B pays 0.1 fee
    e.insert("s1", PERP, SELL, 0.5, 110, ts_ns=3)
    e.insert("s2", PERP, BUY, 0.5, 110, ts_ns=4)  # A realises +5, B -5 and 0.055 fee
    e.set_mark(PERP, 120.0)
    a = e.account_summary("A")
    assert a.session_realised_pnl == pytest.approx(5.0)
    assert a.unrealised_pnl == pytest.approx(10.0)  # 0.5 long from 100, mark 120
    assert a.cash_collateral == pytest.approx(1005.0)
    assert a.margin == pytest.approx(1015.0)
    assert a.required_margin == pytest.approx(0.5 * 120 * 0.1)
    assert a.remaining_margin == pytest.approx(1015.0 - 6.0)
    b = e.account_summary("B")
    assert b.session_realised_pnl == pytest.approx(-5.0 - 0.1 - 0.055)
