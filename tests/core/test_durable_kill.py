"""Durable kill intent (issue 12, finding 3): a flatten that cannot go now is retried after
reconnect until the position is flat or the operator cancels it, and reported either way."""

from __future__ import annotations

from core_harness import MID, MS, PERP, T0, S, feed, start_up

from thalex_mm.config import BotConfig
from thalex_mm.config.models import AvellanedaConfig, KillSwitchAction, OrderConfig, RiskConfig
from thalex_mm.core.commands import InsertOrder
from thalex_mm.core.error_kinds import ErrorKind
from thalex_mm.core.events import (
    Disconnected,
    ErrorReceived,
    KillSwitchPressed,
    PortfolioEntry,
    PortfolioUpdated,
    TimerFired,
)
from thalex_mm.core.flatten import FlattenReport
from thalex_mm.core.market_maker import MarketMakerCore
from thalex_mm.core.types import Side, TimeInForce


def make_core() -> MarketMakerCore:
    cfg = BotConfig(
        avellaneda=AvellanedaConfig(estimate_intensity=False),
        order=OrderConfig(sizes=(0.01,)),
        risk=RiskConfig(position_soft_limit=0.05, position_hard_limit=0.1,
                        kill_switch_action=KillSwitchAction.CANCEL_AND_FLATTEN),
    )
    return MarketMakerCore(cfg, first_client_order_id=500)


def connect(core: MarketMakerCore, ts: int, position: float, sent: list, notices: list | None = None) -> None:
    """One connection's start-up (as the quoter runs it) with ``position`` on the account."""
    start_up(core, sent, ts=ts, position=position, average_price=MID, notices=notices)


def flattens(cmds) -> list[InsertOrder]:
    return [c for c in cmds if isinstance(c, InsertOrder) and c.reduce_only and c.time_in_force is TimeInForce.IOC]


def test_kill_when_pressed_while_disconnected_flattens_after_reconnect():
    core, sent = make_core(), []
    connect(core, T0, 0.04, sent)
    feed(core, Disconnected(local_ts_ns=T0 + S), sent)
    assert flattens(feed(core, KillSwitchPressed(local_ts_ns=T0 + 2 * S, source="test"), sent)) == []
    before = len(sent)
    connect(core, T0 + 5 * S, 0.04, sent)
    (order,) = flattens(sent[before:])
    assert order.side is Side.SELL and order.amount == 0.04
    assert core.status().trading_state == "halted"


def test_kill_when_flatten_is_refused_retries_until_flat_and_reports_done():
    core, sent, notices = make_core(), [], []
    connect(core, T0, -0.03, sent)
    feed(core, KillSwitchPressed(local_ts_ns=T0 + S, source="test"), sent, notices)
    first = flattens(sent)
    assert len(first) == 1 and first[0].side is Side.BUY
    rid = sent.index(first[0]) + 1
    feed(core, ErrorReceived(local_ts_ns=T0 + S + 5 * MS, request_id=rid, kind=ErrorKind.INSUFFICIENT_LIQUIDITY,
                             code=41, message="insufficient liquidity"), sent, notices)
    before = len(sent)
    feed(core, TimerFired(local_ts_ns=T0 + 3 * S), sent, notices)
    assert len(flattens(sent[before:])) == 1  # tried again
    feed(core, PortfolioUpdated(local_ts_ns=T0 + 4 * S, snapshot=True, entries=(
        PortfolioEntry(instrument=PERP.name, position=0.0, average_price=None, mark_price=MID),)), sent, notices)
    before = len(sent)
    feed(core, TimerFired(local_ts_ns=T0 + 6 * S), sent, notices)
    assert flattens(sent[before:]) == []
    reports = [r for r in notices if isinstance(r, FlattenReport)]
    assert [r.outcome for r in reports][-1] == "done"


def test_kill_when_operator_resets_cancels_the_pending_flatten_and_reports_it():
    core, sent, notices = make_core(), [], []
    connect(core, T0, 0.04, sent)
    feed(core, Disconnected(local_ts_ns=T0 + S), sent)
    feed(core, KillSwitchPressed(local_ts_ns=T0 + 2 * S, source="test"), sent, notices)
    notices += core.reset_risk(T0 + 3 * S)
    before = len(sent)
    connect(core, T0 + 5 * S, 0.04, sent, notices)
    assert flattens(sent[before:]) == []
    outcomes = [r.outcome for r in notices if isinstance(r, FlattenReport)]
    assert outcomes == ["pending", "cancelled"]
