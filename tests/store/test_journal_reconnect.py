"""A dropped database connection (server restart, network blip) loses no journal record.

The writer keeps the records queued, reopens its connection with backoff and writes them; the
queue is bounded (beyond ``max_pending_rows`` the oldest are dropped, counted, warned once).
PostgreSQL: a real backend killed with ``pg_terminate_backend``. SQLite (no server to lose):
an injected connection that reports itself broken.
"""

from __future__ import annotations

import logging
import secrets
import time

from thalex_mm.errors import TransportError
from thalex_mm.store import Journal
from thalex_mm.store.backend import Connection, open_connection
from thalex_mm.store.dialect import DbError


class _DeadConnection(Connection):
    """Stands in for a connection the server dropped; ``reopen`` fails ``failures`` times."""

    def __init__(self, real: Connection, failures: int) -> None:
        self.dialect = real.dialect
        self.display = real.display
        self._real = real
        self.failures = failures
        self.reopen_calls = 0

    def query(self, sql, params=()):
        raise DbError("connection was closed in the middle of operation")

    execute = query

    def insert_rows(self, table, rows):
        raise DbError("connection was closed in the middle of operation")

    def is_broken(self) -> bool:
        return True

    def reopen(self):
        self.reopen_calls += 1
        if self.reopen_calls <= self.failures:
            raise TransportError("journal: cannot connect: ConnectionRefusedError")
        return self._real.reopen()

    def close(self) -> None:
        self._real.close()


def _wait(cond, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not cond():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def test_sqlite_when_connection_drops_records_wait_and_are_written_after_reconnect(
        tmp_path, count_rows):
    path = tmp_path / "j.sqlite"
    journal = Journal(path, flush_interval_s=0.02)
    run_id = journal.start_run("paper", {})
    for i in range(3):
        journal.error(run_id, ts_ns=i, source="core", message=f"before{i}")
    assert journal.flush()
    dead = _DeadConnection(journal._wconn, failures=2)
    journal._wconn = dead
    for i in range(4):
        journal.error(run_id, ts_ns=10 + i, source="core", message=f"during{i}")
    # While the connection is down and reopening fails, the records wait (nothing dropped).
    assert journal.flush(timeout_s=0.05) is False
    _wait(lambda: dead.reopen_calls >= 3)
    assert journal.flush()
    stats = journal.stats()
    assert (stats.dropped, stats.queued, stats.reconnects, stats.written) == (0, 0, 1, 7)
    journal.finish_run(run_id, "signal")
    journal.close()
    assert count_rows(str(path), "errors") == 7


def test_sqlite_when_outage_exceeds_the_bound_drops_oldest_with_one_warning(
        tmp_path, caplog):
    path = tmp_path / "j.sqlite"
    journal = Journal(path, flush_interval_s=0.02, max_pending_rows=5)
    run_id = journal.start_run("paper", {})
    dead = _DeadConnection(journal._wconn, failures=10**9)
    journal._wconn = dead
    with caplog.at_level(logging.WARNING, logger="thalex_mm.store.journal"):
        for i in range(12):
            journal.error(run_id, ts_ns=i, source="core", message=f"m{i}")
        _wait(lambda: journal.stats().dropped == 7)
        for i in range(12, 15):
            journal.error(run_id, ts_ns=i, source="core", message=f"m{i}")
        _wait(lambda: journal.stats().dropped == 10)
        dead.failures = 0
        assert journal.flush() is True
    warnings = [r for r in caplog.records if "dropping the oldest" in r.getMessage()]
    assert len(warnings) == 1
    assert [e.message for e in journal.errors(run_id)] == [f"m{i}" for i in range(10, 15)]
    journal.close()


def test_sqlite_when_database_never_comes_back_close_gives_up_counting_the_loss(tmp_path):
    journal = Journal(tmp_path / "j.sqlite", flush_interval_s=0.02, close_timeout_s=0.2)
    run_id = journal.start_run("paper", {})
    journal._wconn = _DeadConnection(journal._wconn, failures=10**9)
    for i in range(4):
        journal.error(run_id, ts_ns=i, source="core", message="x")
    started = time.monotonic()
    journal.close()
    assert time.monotonic() - started < 5.0
    assert journal.stats().dropped == 4


def test_postgres_when_backend_terminated_loses_nothing_and_finishes_run(pg_url, count_rows):
    app = f"thalex_mm_reconnect_{secrets.token_hex(4)}"
    url = f"{pg_url}&application_name={app}"
    journal = Journal(url, flush_interval_s=0.05)
    run_id = journal.start_run("live", {})
    for i in range(5):
        journal.fill(run_id, ts_ns=i, trade_id=f"A{i}", side="buy", price=1.0, amount=1.0)
    assert journal.flush()
    admin = open_connection(pg_url)
    try:
        killed = admin.query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = ? AND pid <> pg_backend_pid()", (app,))
        assert len(killed) == 2  # the journal's reader and writer connections
        for i in range(5, 12):
            journal.fill(run_id, ts_ns=i, trade_id=f"A{i}", side="buy", price=1.0, amount=1.0)
        assert journal.flush(timeout_s=15)
        stats = journal.stats()
        assert (stats.dropped, stats.queued, stats.reconnects) == (0, 0, 1)
        # The main connection (runs table, reads) reconnects too.
        journal.finish_run(run_id, "signal")
        assert journal.get_run(run_id).exit_reason == "signal"
        journal.close()
        assert count_rows(url, "fills") == 12
    finally:
        admin.close()
