"""SessionLog: fills journaled with their fee and maker/taker flag, rejections and exchange
errors reach the dashboard, mass quotes journaled one row per level."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from thalex_mm.config import BotConfig
from thalex_mm.core.budget import Drop, DropReason
from thalex_mm.core.commands import InsertOrder, InstrumentQuote, MassQuote
from thalex_mm.core.error_kinds import ErrorKind
from thalex_mm.core.events import AccountTrade, AccountTradesReceived, ErrorReceived
from thalex_mm.core.market_maker import MarketMakerCore
from thalex_mm.core.order_records import FillRecorded, OrderRejected
from thalex_mm.core.types import Side
from thalex_mm.drivers.quoter import QuoterStats
from thalex_mm.drivers.session_log import SessionLog
from thalex_mm.monitoring.bridge import CoreStatusHub, snapshot_from_core
from thalex_mm.store import Journal

S = 1_000_000_000
T0 = 1_700_000_000 * S
INSTR = "BTC-PERPETUAL"


def _fill(trade_id: str, *, price: float = 100.0, amount: float = 0.1, side: str = "buy",
          ts_ns: int = T0, maker_taker: str | None = None, instrument: str = INSTR) -> FillRecorded:
    from thalex_mm.core.types import Side

    return FillRecorded(client_order_id=7, order_id="o7", instrument=instrument, side=Side(side),
                        trade_id=trade_id, price=price, amount=amount, ts_ns=ts_ns,
                        maker_taker=maker_taker)


def _trades(*trades: tuple[str, float, str], ts_ns: int = T0, instrument: str = INSTR,
            side: str = "buy", price: float = 100.0, amount: float = 0.1) -> AccountTradesReceived:
    from thalex_mm.core.types import Side

    return AccountTradesReceived(exchange_ts_ns=ts_ns, local_ts_ns=ts_ns, trades=tuple(
        AccountTrade(trade_id=tid, order_id="o7", instrument=instrument, side=Side(side),
                     price=price, amount=amount, fee=fee, ts_ns=ts_ns, client_order_id=7,
                     maker_taker=mt, position_after=amount)
        for tid, fee, mt in trades))


@pytest.fixture
def journal(tmp_path: Path):
    j = Journal(tmp_path / "j.sqlite", flush_interval_s=0.02)
    yield j
    j.close()


def _insert(cid: int) -> InsertOrder:
    return InsertOrder(client_order_id=cid, instrument=INSTR, side=Side.BUY, amount=0.1, price=100.0)


def _run(journal: Journal) -> str:
    return journal.start_run("paper", {"market": {"instrument": INSTR}}, instrument=INSTR,
                             started_ns=T0)


def _fills(journal: Journal, run_id: str) -> dict[str, Any]:
    journal.flush()
    return {f.trade_id: f for f in journal.fills(run_id)}


def test_fill_drained_before_its_trade_is_journaled_with_the_trades_fee(journal: Journal) -> None:
    run_id = _run(journal)
    log = SessionLog(journal, run_id, instrument=INSTR)
    log.on_notices([_fill("t1", maker_taker="maker")], T0)
    assert _fills(journal, run_id) == {}  # waits for its fee
    log.on_event(_trades(("t1", 0.0005, "maker")))
    got = _fills(journal, run_id)["t1"]
    assert got.fee == pytest.approx(0.0005) and got.maker_taker == "maker"
    assert got.price == 100.0 and got.amount == 0.1 and got.side == "buy"
    assert got.position_after == pytest.approx(0.1)
    assert log.totals.fills == 1 and log.totals.volume == pytest.approx(0.1)


def test_trade_before_the_fill_is_journaled_once_with_its_fee(journal: Journal) -> None:
    run_id = _run(journal)
    log = SessionLog(journal, run_id, instrument=INSTR)
    log.on_event(_trades(("t1", -0.0002, "maker"), ("t2", 0.0007, "taker")))
    log.on_notices([_fill("t1"), _fill("t2")], T0 + S)
    log.finish(T0 + 2 * S)
    got = _fills(journal, run_id)
    assert {k: (v.fee, v.maker_taker) for k, v in got.items()} == {
        "t1": (pytest.approx(-0.0002), "maker"), "t2": (pytest.approx(0.0007), "taker")}
    assert journal.stats().duplicate_fills == 0  # the fill was not queued a second time


def test_a_fill_whose_trade_never_comes_is_journaled_after_the_grace_with_fee_zero(
        journal: Journal) -> None:
    run_id = _run(journal)
    log = SessionLog(journal, run_id, instrument=INSTR, fee_grace_s=2.0)
    log.on_notices([_fill("t1", maker_taker="taker")], T0)
    log.on_notices([], T0 + 1 * S)
    assert _fills(journal, run_id) == {}
    log.on_notices([], T0 + 2 * S)
    got = _fills(journal, run_id)["t1"]
    assert got.fee == 0.0 and got.maker_taker == "taker"
    # A Trade arriving afterwards does not journal the fill twice.
    log.on_event(_trades(("t1", 0.0005, "taker")))
    assert len(journal.fills(run_id)) == 1 and journal.stats().duplicate_fills == 0


def test_finish_journals_the_fills_still_waiting(journal: Journal) -> None:
    run_id = _run(journal)
    log = SessionLog(journal, run_id, instrument=INSTR)
    log.on_notices([_fill("t1"), _fill("t2", side="sell", price=101.0)], T0)
    log.finish(T0)
    assert sorted(_fills(journal, run_id)) == ["t1", "t2"]


def test_trades_and_fills_of_other_instruments_are_not_journaled(journal: Journal) -> None:
    run_id = _run(journal)
    log = SessionLog(journal, run_id, instrument=INSTR)
    log.on_event(_trades(("x1", 0.1, "maker"), instrument="ETH-PERPETUAL"))
    log.on_notices([_fill("x2", instrument="ETH-PERPETUAL")], T0)
    log.finish(T0)
    assert _fills(journal, run_id) == {}


def test_fill_with_a_known_fee_is_journaled_at_once(journal: Journal) -> None:
    from dataclasses import replace

    run_id = _run(journal)
    log = SessionLog(journal, run_id, instrument=INSTR)
    log.on_notices([replace(_fill("t1", maker_taker="maker"), fee=0.003)], T0)
    assert _fills(journal, run_id)["t1"].fee == pytest.approx(0.003)


def test_rejections_and_exchange_errors_reach_the_dashboard_and_the_journal(
        journal: Journal) -> None:
    run_id = _run(journal)
    hub = CoreStatusHub()
    log = SessionLog(journal, run_id, hub=hub)
    rej = OrderRejected(request_id=5, client_order_id=9, command=_insert(9), code=3,
                        message="post-only would cross", action=Drop(kind=ErrorKind.INVALID_PRICE, reason=DropReason.INVALID_PRICE))
    log.on_notices([rej], T0)
    # an error that answers no request of ours (one that does comes back as the core's notice)
    log.on_event(ErrorReceived(exchange_ts_ns=T0, local_ts_ns=T0, request_id=None, kind=ErrorKind.SESSION_EXHAUSTED, code=11,
                               message="order not found"))
    texts = [e["text"] for e in hub.status()["recent_errors"]]
    assert any("post-only would cross" in t and "InsertOrder" in t for t in texts)
    assert any("order not found" in t and "11" in t for t in texts)
    # The drivers publish (status, quoter stats, totals): the snapshot's recent errors (which
    # replace the hub's own list on the dashboard) carry them too.
    snap = snapshot_from_core(MarketMakerCore(BotConfig()).status(), QuoterStats(), log.totals)
    assert snap.recent_errors is not None
    assert any("post-only would cross" in t for t in snap.recent_errors)
    assert any("order not found" in t for t in snap.recent_errors)
    assert log.totals.rejects == 1
    assert [e for e in log.totals.errors if "post-only" in e]
    journal.flush()
    assert sorted(e.source for e in journal.errors(run_id)) == ["exchange", "rejected"]


def test_totals_errors_are_bounded() -> None:
    log = SessionLog(None, None)
    for i in range(120):
        log.on_event(ErrorReceived(exchange_ts_ns=T0, local_ts_ns=T0, request_id=None, kind=ErrorKind.ORDER_NOT_FOUND, code=1,
                                   message=f"e{i}"))
    assert len(log.totals.errors) == 50 and log.totals.errors[-1].endswith("e119")


def test_mass_quote_is_journaled_one_row_per_level(journal: Journal) -> None:
    run_id = _run(journal)
    log = SessionLog(journal, run_id)
    mq = MassQuote(quotes=(InstrumentQuote(instrument=INSTR, bids=((99.0, 0.1), (98.5, 0.2)),
                                           asks=((101.0, 0.3),)),))
    log.on_command(42, mq, T0)
    cleared = MassQuote(quotes=(InstrumentQuote(instrument=INSTR, bids=(), asks=None),))
    log.on_command(43, cleared, T0 + S)
    journal.flush()
    rows = [(o.event, o.side, o.price, o.amount) for o in journal.orders(run_id)]
    assert rows == [
        ("sent:mass_quote", "buy", 99.0, 0.1),
        ("sent:mass_quote", "buy", 98.5, 0.2),
        ("sent:mass_quote", "sell", 101.0, 0.3),
        ("sent:mass_quote", "buy", None, None),
    ]
    assert log.totals.mass_quotes == 2


def test_session_log_when_state_changes_prints_one_console_line_each(caplog) -> None:
    from thalex_mm.core.reasons import Reason, TradingState, TradingStateChanged

    log = SessionLog(None, None)
    changes = [
        TradingStateChanged(exchange_ts_ns=0, local_ts_ns=T0, state=TradingState.HALTED, previous=TradingState.ACTIVE,
                            reason=Reason.KILL_SWITCH, detail="kill switch (dashboard)"),
        TradingStateChanged(exchange_ts_ns=0, local_ts_ns=T0 + S, state=TradingState.ACTIVE, previous=TradingState.HALTED,
                            reason=Reason.MANUAL, detail="reset"),
    ]
    with caplog.at_level("WARNING", logger="thalex_mm.session"):
        log.on_notices(changes, T0 + S)
    lines = [r.getMessage() for r in caplog.records if r.name == "thalex_mm.session"]
    assert lines == ["trading halted: kill_switch (kill switch (dashboard)) [was active]",
                     "trading resumed: manual (reset) [was halted]"]


def test_session_log_when_run_baseline_arrives_prints_and_journals_the_inherited_state(journal: Journal, caplog) -> None:
    from thalex_mm.core.reasons import Reason, TradingState
    from thalex_mm.core.risk import RunBaseline

    log = SessionLog(journal, _run(journal))
    b = RunBaseline(ts_ns=T0, position=0.1, average_price=60_000.0, mark_price=54_000.0, pnl_usd=-600.0,
                    state=TradingState.REDUCING, reason=Reason.INHERITED_POSITION)
    with caplog.at_level("WARNING", logger="thalex_mm.session"):
        log.on_notices([b], T0)
    assert any("position +0.1 @ 60000.00" in r.getMessage() and "-600.00 USD" in r.getMessage() for r in caplog.records)
    journal.flush()
    assert [e.source for e in journal.errors(log.run_id)] == ["RunBaseline"]


def test_session_log_when_the_run_inherited_nothing_says_so_quietly_and_journals_no_error(
        journal: Journal, caplog) -> None:
    from thalex_mm.core.reasons import Reason, TradingState
    from thalex_mm.core.risk import RunBaseline

    log = SessionLog(journal, _run(journal))
    b = RunBaseline(ts_ns=T0, position=0.0, average_price=0.0, mark_price=65_000.0, pnl_usd=0.0,
                    state=TradingState.ACTIVE, reason=Reason.RESUMED)
    with caplog.at_level("INFO", logger="thalex_mm.session"):
        log.on_notices([b], T0)

    mine = [r for r in caplog.records if r.name == "thalex_mm.session"]
    assert [(r.levelname, r.getMessage()) for r in mine] == [
        ("INFO", "inherited   nothing (flat, PnL 0); starts active")]
    journal.flush()
    assert journal.errors(log.run_id) == []


def test_session_log_when_a_disconnect_halts_and_resumes_prints_nothing_for_it(caplog) -> None:
    from thalex_mm.core.reasons import Reason, TradingState, TradingStateChanged

    log = SessionLog(None, None)
    A, H = TradingState.ACTIVE, TradingState.HALTED
    changes = [
        TradingStateChanged(exchange_ts_ns=0, local_ts_ns=T0, state=H, previous=A, reason=Reason.DISCONNECTED),
        TradingStateChanged(exchange_ts_ns=0, local_ts_ns=T0 + S, state=A, previous=H, reason=Reason.RESUMED),
        TradingStateChanged(exchange_ts_ns=0, local_ts_ns=T0 + 2 * S, state=H, previous=A, reason=Reason.STALE_DATA),
    ]
    with caplog.at_level("WARNING", logger="thalex_mm.session"):
        log.on_notices(changes, T0 + 2 * S)
    lines = [r.getMessage() for r in caplog.records if r.name == "thalex_mm.session"]
    assert lines == ["trading halted: stale_data [was active]"]  # the quoter prints the reconnect
