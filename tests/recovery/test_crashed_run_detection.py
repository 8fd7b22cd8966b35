"""Which unfinished runs count as crashed: same mode/instrument/account, process gone.

Two bots may share a journal: a run whose process is still alive (or that ran on another host,
or before pids were journaled) is never closed; a dead process's run (paper included) is closed
with exit reason ``crashed (process <pid> gone)``, stopped at its last journaled record.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys

from thalex_mm.config.models import BotConfig
from thalex_mm.drivers.crash_recovery import recover_crashed_runs
from thalex_mm.store import Journal, close_crashed_runs
from thalex_mm.store.recovery import process_alive

_T0_NS = 1_714_564_800 * 1_000_000_000


def _cfg(instrument="BTC-PERPETUAL", account=None) -> BotConfig:
    return BotConfig.model_validate({"market": {"instrument": instrument, "account": account}})


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    assert not process_alive(proc.pid)
    return proc.pid


def _set(path, run_id, **cols) -> None:
    conn = sqlite3.connect(path)
    try:
        sets = ", ".join(f"{k} = ?" for k in cols)
        conn.execute(f"UPDATE runs SET {sets} WHERE run_id = ?", (*cols.values(), run_id))
        conn.commit()
    finally:
        conn.close()


def test_process_alive_when_pid_reused_by_a_newer_process_is_false():
    me = os.getpid()
    assert process_alive(me)
    assert process_alive(me, started_before_ns=10**19)  # run started after us: our process
    assert not process_alive(me, started_before_ns=_T0_NS)  # run from 2024: pid reused
    assert not process_alive(_dead_pid())


def test_close_crashed_runs_when_paper_process_died_closes_only_that_run(tmp_path):
    path = tmp_path / "j.sqlite"
    dead = _dead_pid()
    with Journal(path) as journal:
        crashed = journal.start_run("paper", _cfg(), started_ns=_T0_NS)
        journal.pnl(crashed, ts_ns=_T0_NS + 7_000_000_000, position=0.0, realised=0.0,
                    unrealised=0.0, equity=0.0)
        alive = journal.start_run("paper", _cfg())                      # this process: alive
        other_instr = journal.start_run("paper", _cfg("ETH-PERPETUAL"), started_ns=_T0_NS)
        other_acct = journal.start_run("paper", _cfg(account="A2"), started_ns=_T0_NS)
        other_mode = journal.start_run("live", _cfg(), started_ns=_T0_NS)
        other_host = journal.start_run("paper", _cfg(), started_ns=_T0_NS)
        no_pid = journal.start_run("paper", _cfg(), started_ns=_T0_NS)
    for run_id in (crashed, other_instr, other_acct, other_mode, other_host):
        _set(path, run_id, pid=dead)
    _set(path, other_host, host="some-other-host")
    _set(path, no_pid, pid=None, host=None)
    with Journal(path) as journal:
        assert close_crashed_runs(journal, "paper", _cfg()) == [crashed]
        run = journal.get_run(crashed)
        assert run.exit_reason == f"crashed (process {dead} gone)"
        assert run.stopped_ns == _T0_NS + 7_000_000_000  # its last record
        for run_id in (alive, other_instr, other_acct, other_mode, other_host, no_pid):
            assert journal.get_run(run_id).stopped_ns is None, run_id
        assert close_crashed_runs(journal, "paper", _cfg()) == []  # idempotent


def test_live_recovery_when_another_bot_is_still_running_leaves_its_run_open(tmp_path):
    path = tmp_path / "j.sqlite"
    with Journal(path) as journal:
        running = journal.start_run("live", _cfg(), network="test")  # pid: this process
        # No crashed run: recovery returns before contacting any exchange (port 1: nothing).
        asyncio.run(recover_crashed_runs(journal, _cfg(), "ws://127.0.0.1:1", None,
                                          network="test"))
        assert journal.get_run(running).stopped_ns is None


def test_live_recovery_when_process_dead_closes_run_even_without_exchange(tmp_path):
    path = tmp_path / "j.sqlite"
    dead = _dead_pid()
    with Journal(path) as journal:
        gone = journal.start_run("live", _cfg(), network="test", started_ns=_T0_NS)
        other_net = journal.start_run("live", _cfg(), network="prod", started_ns=_T0_NS)
    _set(path, gone, pid=dead)
    _set(path, other_net, pid=dead)
    with Journal(path) as journal:
        asyncio.run(recover_crashed_runs(journal, _cfg(), "ws://127.0.0.1:1", None,
                                          network="test"))
        reason = journal.get_run(gone).exit_reason
        assert reason is not None and reason.startswith(f"crashed (process {dead} gone; 0 missed")
        assert journal.get_run(gone).stopped_ns == _T0_NS  # no records: stopped at its start
        assert journal.get_run(other_net).stopped_ns is None


def test_live_hand_over_and_journal_commit_bound_the_kill_9_loss_below_one_second():
    import inspect

    from thalex_mm.drivers import live, session
    from thalex_mm.store import journal as journal_mod

    assert live.JOURNAL_HANDOVER_S <= 0.5
    assert live.JOURNAL_HANDOVER_S + journal_mod.DEFAULT_FLUSH_INTERVAL_S < 1.0
    # The live session's status loop waits at most the hand-over interval between two samples.
    assert "status_interval_s=JOURNAL_HANDOVER_S" in inspect.getsource(live.run_live)
    assert "timeout=status_interval_s" in inspect.getsource(session.run_session)
    doc = journal_mod.__doc__ or ""
    assert "0.7 s" in doc and "JOURNAL_HANDOVER_S" in doc
