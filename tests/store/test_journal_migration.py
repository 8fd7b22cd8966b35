"""Opening a database written by an older schema upgrades it in place, keeping its rows."""

from __future__ import annotations

import sqlite3

import pytest

from thalex_mm.errors import DataFileError
from thalex_mm.store import SCHEMA_VERSION, Journal, JournalReader

# The version-1 layout, written by hand (not taken from the migration list) so the test sees an
# old file exactly as an old release left it.
_V1_SQL = """
CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_ns INTEGER NOT NULL);
INSERT INTO schema_version VALUES (1, 123);
CREATE TABLE runs (run_id TEXT PRIMARY KEY, mode TEXT NOT NULL, started_ns INTEGER NOT NULL,
    stopped_ns INTEGER, exit_reason TEXT, version TEXT NOT NULL, config_json TEXT NOT NULL,
    config_hash TEXT NOT NULL);
CREATE TABLE orders (run_id TEXT NOT NULL, ts_ns INTEGER NOT NULL, event TEXT NOT NULL,
    client_order_id INTEGER, order_id TEXT, side TEXT, price REAL, amount REAL,
    filled_amount REAL, status TEXT, change_reason TEXT, delete_reason TEXT, detail TEXT);
CREATE TABLE fills (run_id TEXT NOT NULL, ts_ns INTEGER NOT NULL, trade_id TEXT NOT NULL,
    client_order_id INTEGER, order_id TEXT, side TEXT NOT NULL, price REAL NOT NULL,
    amount REAL NOT NULL, fee REAL NOT NULL, maker_taker TEXT, position_after REAL,
    UNIQUE (run_id, trade_id));
CREATE TABLE quotes (run_id TEXT NOT NULL, ts_ns INTEGER NOT NULL, mid REAL, fair_value REAL,
    reservation REAL, bid REAL, ask REAL, bid_size REAL, ask_size REAL, sigma REAL, A REAL,
    k REAL, gamma REAL);
CREATE TABLE risk_events (run_id TEXT NOT NULL, ts_ns INTEGER NOT NULL, state TEXT NOT NULL,
    previous TEXT, reason TEXT NOT NULL, detail TEXT);
CREATE TABLE pnl_snapshots (run_id TEXT NOT NULL, ts_ns INTEGER NOT NULL,
    position REAL NOT NULL, avg_price REAL, mark REAL, realised REAL NOT NULL,
    unrealised REAL NOT NULL, fees REAL NOT NULL, funding REAL NOT NULL, equity REAL NOT NULL);
INSERT INTO runs VALUES ('old-run', 'paper', 1000000000, 4000000000, 'signal', '0.0.1',
    '{"a":1}', 'abc');
INSERT INTO fills VALUES ('old-run', 5, 'T1', 1, 'X1', 'buy', 100.0, 0.5, 0.01, 'maker', 0.5);
INSERT INTO fills VALUES ('old-run', 6, 'T2', 2, 'X2', 'sell', 101.0, 0.5, 0.01, 'maker', 0.0);
"""


def _make_v1(path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(_V1_SQL)
    conn.commit()
    conn.close()


def _columns(path, table: str) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
    finally:
        conn.close()


def test_open_when_db_is_v1_upgrades_to_current_and_keeps_rows(tmp_path):
    path = tmp_path / "v1.sqlite"
    _make_v1(path)
    assert "instrument" not in _columns(path, "runs")

    with Journal(path) as journal:
        assert journal.schema_version == SCHEMA_VERSION
        old = journal.get_run("old-run")
        assert (old.mode, old.exit_reason, old.instrument, old.network) == (
            "paper", "signal", None, None)
        assert old.fill_count == 2
        assert [f.trade_id for f in journal.fills("old-run")] == ["T1", "T2"]
        # The upgraded file takes new-style records (errors table, instrument column).
        new = journal.start_run("paper", {}, instrument="ETH-PERPETUAL", network="test")
        journal.error(new, ts_ns=1, source="transport", message="reset")
        # The unique trade id still holds after the upgrade.
        journal.fill("old-run", ts_ns=7, trade_id="T1", side="buy", price=1.0, amount=1.0)
        assert len(journal.fills("old-run")) == 2
        assert [e.message for e in journal.errors(new)] == ["reset"]
        assert journal.get_run(new).instrument == "ETH-PERPETUAL"

    assert {"instrument", "network"} <= set(_columns(path, "runs"))
    conn = sqlite3.connect(path)
    versions = [r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY 1")]
    indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    conn.close()
    assert versions == list(range(1, SCHEMA_VERSION + 1))
    assert "ix_fills_run_ts" in indexes


def test_open_when_db_already_current_applies_nothing(tmp_path):
    path = tmp_path / "cur.sqlite"
    Journal(path).close()
    with JournalReader(path) as reader:
        assert reader.schema_version == SCHEMA_VERSION
    conn = sqlite3.connect(path)
    (rows,) = conn.execute("SELECT COUNT(*) FROM schema_version").fetchone()
    conn.close()
    assert rows == SCHEMA_VERSION


def test_open_when_db_is_newer_than_code_raises_data_file_error(tmp_path):
    path = tmp_path / "future.sqlite"
    Journal(path).close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO schema_version VALUES (?, 0)", (SCHEMA_VERSION + 5,))
    conn.commit()
    conn.close()
    with pytest.raises(DataFileError, match=f"version {SCHEMA_VERSION + 5} is newer"):
        JournalReader(path)


def test_migration_when_a_step_fails_leaves_previous_version(tmp_path):
    path = tmp_path / "broken.sqlite"
    _make_v1(path)
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE errors (x INTEGER)")  # step 2 will collide with this
    conn.commit()
    conn.close()
    with pytest.raises(DataFileError, match="schema version 2 failed"):
        Journal(path)
    assert "instrument" not in _columns(path, "runs")  # step 2 rolled back as a whole
    conn = sqlite3.connect(path)
    (version,) = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    conn.close()
    assert version == 1
