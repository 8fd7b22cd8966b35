"""``record_from_journal``: rejects from the errors table, requotes from the sent orders."""

from __future__ import annotations

from pathlib import Path

from thalex_mm.commands.report_cmd import record_from_journal
from thalex_mm.core.budget import Drop, DropReason
from thalex_mm.core.commands import AmendOrder, CancelOrder, InsertOrder, InstrumentQuote, MassQuote
from thalex_mm.core.error_kinds import ErrorKind
from thalex_mm.core.order_records import OrderRejected
from thalex_mm.core.types import Side
from thalex_mm.drivers.session_log import SessionLog
from thalex_mm.store import Journal, JournalReader

S = 1_000_000_000
T0 = 1_700_000_000 * S
INSTR = "BTC-PERPETUAL"


def _reject(rid: int) -> OrderRejected:
    return OrderRejected(request_id=rid, client_order_id=rid, code=3,
                         command=InsertOrder(client_order_id=rid, instrument=INSTR, side=Side.BUY, amount=0.1, price=100.0),
                         message="post-only would cross",
                         action=Drop(kind=ErrorKind.INVALID_PRICE, reason=DropReason.INVALID_PRICE))


def test_rejects_are_counted_from_the_errors_the_session_log_writes(tmp_path: Path) -> None:
    db = tmp_path / "j.sqlite"
    journal = Journal(db, flush_interval_s=0.02)
    try:
        run_id = journal.start_run("paper", {}, instrument=INSTR, started_ns=T0)
        log = SessionLog(journal, run_id)
        log.on_notices([_reject(1), _reject(2), _reject(3)], T0 + S)
        journal.error(run_id, ts_ns=T0 + S, source="exchange", code=11, message="not a reject")
        journal.finish_run(run_id, "signal", stopped_ns=T0 + 2 * S)
    finally:
        journal.close()
    with JournalReader(db) as reader:
        rec = record_from_journal(reader, run_id)
    assert rec.rejects == 3
    assert rec.counters["errors"] == 4


def test_requotes_count_inserts_amends_and_mass_quotes_once_each(tmp_path: Path) -> None:
    db = tmp_path / "j.sqlite"
    journal = Journal(db, flush_interval_s=0.02)
    try:
        run_id = journal.start_run("paper", {}, instrument=INSTR, started_ns=T0)
        log = SessionLog(journal, run_id)
        ins = InsertOrder(client_order_id=1, instrument=INSTR, side=Side.BUY, price=99.0,
                          amount=0.1)
        log.on_command(1, ins, T0 + 1)
        log.on_command(2, AmendOrder(client_order_id=1, price=99.5, amount=0.1), T0 + 2)
        log.on_command(3, CancelOrder(client_order_id=1), T0 + 3)  # not a requote
        three_levels = MassQuote(quotes=(InstrumentQuote(
            instrument=INSTR, bids=((99.0, 0.1), (98.0, 0.1)), asks=((101.0, 0.1),)),))
        log.on_command(4, three_levels, T0 + 4)
        log.on_command(5, three_levels, T0 + 5)
        journal.finish_run(run_id, "signal", stopped_ns=T0 + 2 * S)
    finally:
        journal.close()
    with JournalReader(db) as reader:
        rec = record_from_journal(reader, run_id)
    # 1 insert + 1 amend + 2 mass quotes (of 3 journaled levels each).
    assert rec.requotes == 4
    assert rec.counters["orders_sent:mass_quote"] == 6
