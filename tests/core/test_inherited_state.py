"""Inherited state at start-up (issue 12, finding 2): baselines and REDUCING from the account."""

from __future__ import annotations

import pytest
from core_harness import MS, T0, start_up

from thalex_mm.config import BotConfig
from thalex_mm.config.models import AvellanedaConfig, OrderConfig, RiskConfig
from thalex_mm.core.commands import InsertOrder
from thalex_mm.core.events import TimerFired
from thalex_mm.core.market_maker import MarketMakerCore
from thalex_mm.core.risk import RunBaseline
from thalex_mm.core.types import Side


def make_core(*, soft: float, hard: float) -> MarketMakerCore:
    cfg = BotConfig(
        avellaneda=AvellanedaConfig(estimate_intensity=False, k=0.5, A=2.0, gamma=0.1),
        order=OrderConfig(sizes=(0.01,)),
        risk=RiskConfig(position_soft_limit=soft, position_hard_limit=hard, max_notional_usd=1e6,
                        max_drawdown_usd=500.0, session_loss_limit_usd=300.0, daily_loss_limit_usd=1000.0),
    )
    return MarketMakerCore(cfg, first_client_order_id=1000)


def start_inherited(core: MarketMakerCore, position: float, average: float, mark: float,
                    notices: list | None = None) -> list:
    """Start-up as the quoter runs it, on an account that already holds ``position``."""
    return start_up(core, [], position=position, average_price=average, mark=mark, notices=notices)


def test_core_when_inherited_long_is_at_a_loss_does_not_halt_on_drawdown_or_session_loss():
    # 0.1 BTC bought at 60,000 with the mark at 54,000: -600 USD before the run did anything
    core = make_core(soft=0.2, hard=0.5)
    cmds = start_inherited(core, 0.1, 60_000.0, 54_000.0)
    cmds += core.handle(TimerFired(local_ts_ns=T0 + 500 * MS)).commands
    status = core.status()
    assert status.trading_state == "active", status.state_reason
    assert {c.side for c in cmds if isinstance(c, InsertOrder)} == {Side.BUY, Side.SELL}


def test_core_when_inherited_position_is_above_the_soft_limit_starts_reducing_with_the_reducing_side_only():
    core = make_core(soft=0.05, hard=0.5)
    cmds = start_inherited(core, 0.1, 60_000.0, 54_000.0)
    assert core.status().trading_state == "reducing"
    assert core.status().state_reason == "inherited_position"
    inserts = [c for c in cmds if isinstance(c, InsertOrder)]
    assert inserts and all(c.side is Side.SELL for c in inserts)


def test_core_when_inherited_short_is_above_the_hard_limit_quotes_reduce_only():
    core = make_core(soft=0.05, hard=0.1)
    cmds = start_inherited(core, -0.15, 50_000.0, 54_000.0)
    assert core.status().trading_state == "reducing"
    inserts = [c for c in cmds if isinstance(c, InsertOrder)]
    assert inserts and all(c.side is Side.BUY for c in inserts)
    assert sum(c.amount for c in inserts) <= 0.15 + 1e-9


def test_core_when_run_starts_records_what_was_inherited_and_the_baselines_once():
    core = make_core(soft=0.2, hard=0.5)
    notices: list = []
    start_inherited(core, 0.1, 60_000.0, 54_000.0, notices)
    notices += core.handle(TimerFired(local_ts_ns=T0 + 500 * MS)).notices
    baselines = [r for r in notices if isinstance(r, RunBaseline)]
    assert len(baselines) == 1
    b = baselines[0]
    assert (b.position, b.average_price) == (0.1, 60_000.0)
    assert b.pnl_usd == pytest.approx(-600.0)
    assert "0.1" in b.line() and "-600" in b.line()
