"""The exit reason names what ended the run; expected races are info, noted once."""

from __future__ import annotations

from pathlib import Path

import pytest

from thalex_mm.core.budget import Reconcile
from thalex_mm.core.commands import AmendOrder, InsertOrder
from thalex_mm.core.error_kinds import ErrorKind
from thalex_mm.core.events import ErrorReceived
from thalex_mm.core.order_records import OrderRejected
from thalex_mm.core.reasons import Reason, TradingState, TradingStateChanged
from thalex_mm.drivers.run_outcome import RunOutcome
from thalex_mm.drivers.session_log import INFO_SOURCE, SessionLog
from thalex_mm.store import Journal

S = 1_000_000_000
T0 = 1_764_697_501 * S  # 2025-12-02 17:45:01 UTC


def _change(state: TradingState, reason: Reason, detail: str = "", ts: int = T0) -> TradingStateChanged:
    return TradingStateChanged(exchange_ts_ns=0, local_ts_ns=ts, state=state,
                               previous=TradingState.ACTIVE, reason=reason, detail=detail)


def test_exit_reason_when_nothing_halted_is_the_stop_reason() -> None:
    out = RunOutcome()
    out.observe([_change(TradingState.REDUCING, Reason.POSITION_SOFT_LIMIT)])
    assert out.exit_reason("duration reached") == "duration reached"


def test_exit_reason_when_killed_from_the_dashboard_names_source_and_time() -> None:
    out = RunOutcome()
    out.observe([_change(TradingState.HALTED, Reason.KILL_SWITCH, "kill switch (dashboard 127.0.0.1)"),
                 _change(TradingState.HALTED, Reason.DRAWDOWN, "later", ts=T0 + 5 * S)])
    assert out.exit_reason("duration reached") == (
        "kill switch (dashboard 127.0.0.1) at 2025-12-02 17:45:01 UTC; then duration reached")


def test_exit_reason_when_drawdown_halted_says_risk_halt() -> None:
    out = RunOutcome()
    out.observe([_change(TradingState.HALTED, Reason.DRAWDOWN, "812.40 >= 800")])
    assert out.exit_reason("signal").startswith("risk halt: drawdown 812.40 >= 800 at 2025-12-02")
    assert out.exit_reason("signal").endswith("; then signal")


def test_exit_reason_when_a_passing_halt_resumes_is_not_blamed() -> None:
    out = RunOutcome()
    out.observe([_change(TradingState.HALTED, Reason.DISCONNECTED),
                 _change(TradingState.HALTED, Reason.MANUAL, "ops"),
                 _change(TradingState.ACTIVE, Reason.RESUMED, "reset")])
    assert out.exit_reason("signal") == "signal"


def _amend(cid: int) -> AmendOrder:
    return AmendOrder(client_order_id=cid, price=100.0, amount=0.1)


def _insert(cid: int) -> InsertOrder:
    from thalex_mm.core.types import Side

    return InsertOrder(client_order_id=cid, instrument="BTC-PERPETUAL", side=Side.BUY, price=100.0,
                       amount=0.1)


@pytest.fixture
def journal(tmp_path: Path):
    j = Journal(tmp_path / "j.sqlite", flush_interval_s=0.02)
    yield j
    j.close()


def test_session_log_when_amend_races_a_fill_journals_one_info_and_no_error(journal: Journal) -> None:
    run_id = journal.start_run("paper", {}, started_ns=T0)
    log = SessionLog(journal, run_id)
    log.on_event(ErrorReceived(local_ts_ns=T0, request_id=64, kind=ErrorKind.ORDER_NOT_FOUND, code=1,
                               message="client_order_id 64 not found in this session"))
    log.on_notices([OrderRejected(request_id=64, client_order_id=64, command=_amend(64), code=1,
                                  message="client_order_id 64 not found in this session",
                                  action=Reconcile(kind=ErrorKind.ORDER_NOT_FOUND), expected=True)], T0)
    journal.flush()
    rows = journal.errors(run_id)
    assert [r.source for r in rows] == [INFO_SOURCE]
    assert log.totals.errors == [] and log.totals.rejects == 0


def test_session_log_when_a_real_reject_arrives_notes_it_once(journal: Journal) -> None:
    run_id = journal.start_run("paper", {}, started_ns=T0)
    log = SessionLog(journal, run_id)
    log.on_event(ErrorReceived(local_ts_ns=T0, request_id=7, kind=ErrorKind.INVALID_PRICE, code=13,
                               message="invalid price"))
    log.on_notices([OrderRejected(request_id=7, client_order_id=7, command=_insert(7), code=13,
                                  message="invalid price", action=Reconcile(kind=ErrorKind.INVALID_PRICE))], T0)
    journal.flush()
    assert [r.source for r in journal.errors(run_id)] == ["rejected"]
    assert len(log.totals.errors) == 1 and log.totals.rejects == 1


def test_exit_reason_when_detail_repeats_the_reason_names_it_once() -> None:
    out = RunOutcome()
    out.observe([_change(TradingState.HALTED, Reason.SESSION_LOSS, "session_loss 301.2 USD")])
    assert out.exit_reason("signal").startswith("risk halt: session_loss 301.2 USD at ")
