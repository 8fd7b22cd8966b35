"""``kill -9`` the live bot mid-session and restart it on the same journal.

Real processes: ``thalex-mm sim`` and ``thalex-mm live --url``. The exchange's own view comes
from a separate login with the same key (``private/open_orders``, ``portfolio``,
``trade_history``). After the crash and the restart:

- the dead session's orders are gone (cancel-on-disconnect) and the restarted bot quotes again
  within a few seconds;
- the restarted core starts from the exchange's position (portfolio), not from zero;
- the journal has a new run id for the restart, no trade id twice, and the distinct trade ids
  of all runs are exactly the account's trades at the exchange;
- client order ids restart at 1 in the new session (Thalex ids are per session), which is
  harmless: the dead session's orders are gone, and no fill is attributed twice.
"""

from __future__ import annotations

import re
import signal
import sqlite3

import pytest
from recovery_procs import (
    account_view,
    journal_rows,
    start_bot,
    start_sim,
    stop_process,
    wait_until,
)

pytestmark = pytest.mark.slow

QUOTE_AGAIN_S = 20.0  # the restarted bot must rest orders again within this (process start-up
# and first quote; generous: CI machines are shared and a cold interpreter start is slow)


def _runs(db):
    return journal_rows(db, "SELECT run_id, started_ns, stopped_ns, exit_reason FROM runs ORDER BY started_ns")


def _fills(db, run_id=None):
    if run_id is None:
        return journal_rows(db, "SELECT run_id, trade_id, client_order_id FROM fills")
    return journal_rows(db, "SELECT run_id, trade_id, client_order_id FROM fills WHERE run_id = ?", (run_id,))


def _drop_latest_fills(db, run_id) -> int:
    conn = sqlite3.connect(db)
    try:
        n = conn.execute("SELECT COUNT(*) FROM fills WHERE run_id = ?", (run_id,)).fetchone()[0]
        cur = conn.execute("DELETE FROM fills WHERE rowid IN (SELECT rowid FROM fills WHERE run_id = ? "
                           "ORDER BY ts_ns DESC LIMIT ?)", (run_id, (n + 1) // 2))
        conn.commit()
        return cur.rowcount
    finally:
        conn.close()


def _view_if(sim, *, quoting: bool):
    v = account_view(sim)
    return v if bool(v.open_orders) == quoting else None


def test_kill_9_then_restart_reconciles_with_exchange_and_journal(tmp_path):
    db = tmp_path / "journal.db"
    sim = start_sim(tmp_path, "--seed", "11")
    bot = bot2 = None
    try:
        # --- first session: quote, get fills and a non-zero position, then die hard
        bot = start_bot(sim, db, tmp_path, name="bot1")
        wait_until(lambda: account_view(sim).open_orders, 20, "the bot to rest orders")
        wait_until(lambda: len(_fills(db)) >= 3, 40, "three journaled fills")
        wait_until(lambda: abs(account_view(sim).position) > 1e-9, 40, "a non-zero position")
        before_kill = account_view(sim)
        assert before_kill.open_orders, "the bot must be quoting when it is killed"
        bot.send_signal(signal.SIGKILL)
        assert bot.wait(timeout=10) == -signal.SIGKILL

        # cancel-on-disconnect: the server deletes the dead session's orders when its socket dies
        after_kill = wait_until(lambda: _view_if(sim, quoting=False), 5,
                                "the dead session's orders to be cancelled")
        assert after_kill.open_orders == []
        # (a last fill in flight at the kill may have flattened it: then the portfolio check
        # below is about a zero position, which is still a check)
        position_at_restart = after_kill.position
        trades_at_restart = set(after_kill.trade_ids)
        runs = _runs(db)
        assert len(runs) == 1 and runs[0][2] is None  # the dead run never finished
        first_run = runs[0][0]
        assert len(_fills(db, first_run)) >= 3
        # worst case of a crash: the last journal batch never reached the disk. Drop half of the
        # dead run's fills (the latest ones); the restart must recover them from the exchange.
        lost = _drop_latest_fills(db, first_run)
        assert lost >= 1

        # --- restart on the same journal
        bot2 = start_bot(sim, db, tmp_path, name="bot2")
        view = wait_until(lambda: _view_if(sim, quoting=True), QUOTE_AGAIN_S,
                          "the restarted bot to quote")
        runs = _runs(db)
        assert len(runs) == 2 and runs[1][0] != first_run
        second_run = runs[1][0]
        # client order ids never restart (issue 12): the new run's base comes from the wall
        # clock at its start, above every id the dead run handed out
        dead_ids = [o["client_order_id"] for o in before_kill.open_orders if o.get("client_order_id") is not None]
        new_ids = [o["client_order_id"] for o in view.open_orders if o.get("client_order_id") is not None]
        assert dead_ids and new_ids and min(new_ids) > max(dead_ids)

        # the restarted core took its position from the portfolio: its first PnL snapshot
        # (before any new fill) shows the exchange's position
        first_pnl = wait_until(
            lambda: journal_rows(db, "SELECT ts_ns, position FROM pnl_snapshots WHERE run_id = ? "
                                     "ORDER BY ts_ns LIMIT 1", (second_run,)),
            10, "the restarted run's first PnL snapshot")
        fills_before_snapshot = journal_rows(
            db, "SELECT COUNT(*) FROM fills WHERE run_id = ? AND ts_ns <= ?", (second_run, first_pnl[0][0]))
        if fills_before_snapshot[0][0] == 0:
            assert first_pnl[0][1] == pytest.approx(position_at_restart, abs=1e-9)

        # let it trade a little more, then stop cleanly
        wait_until(lambda: len(set(account_view(sim).trade_ids) - trades_at_restart) >= 2, 40,
                   "two fills in the restarted session")
        assert stop_process(bot2, signal.SIGTERM) == 0
        out = (tmp_path / "bot2.out").read_text()
        final = account_view(sim)
        assert final.open_orders == [], "a clean stop leaves no order at the exchange"
        m = re.search(r"final position\s+([+-]\d+\.\d+)", out)
        assert m, out
        assert float(m.group(1)) == pytest.approx(final.position, abs=1e-3)

        # --- the journal against the exchange
        fills = _fills(db)
        per_run: dict[str, list[str]] = {}
        for run_id, trade_id, _ in fills:
            per_run.setdefault(run_id, []).append(trade_id)
        for run_id, ids in per_run.items():
            assert len(ids) == len(set(ids)), f"run {run_id} journaled a trade twice"
        assert not set(per_run.get(first_run, [])) & set(per_run.get(second_run, [])), \
            "a fill of the dead session was journaled again by the restart"
        journaled = {trade_id for _, trade_id, _ in fills}
        assert journaled == set(final.trade_ids)
        assert len(journaled) == len(final.trade_ids)
        runs = _runs(db)
        assert runs[1][2] is not None and runs[1][3]  # the restart finished with a reason
        # the dead run was closed by the restart, its missed fills recovered from the exchange
        assert runs[0][2] is not None and runs[0][3].startswith("crashed"), runs[0]
        m = re.search(rf"recovered   run {first_run}: crashed, (\d+) missed fills", out)
        assert m, out
        assert int(m.group(1)) >= lost
        dead_session_trades = trades_at_restart
        assert set(per_run[first_run]) == dead_session_trades
    finally:
        for p in (bot, bot2):
            if p is not None:
                stop_process(p, signal.SIGKILL, 5)
        stop_process(sim.proc, signal.SIGINT)
