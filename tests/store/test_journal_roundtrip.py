"""Round trip of every record kind, duplicate fills, batching, reads, closing.

Tests taking the ``journal`` or ``location`` fixture run on SQLite and on PostgreSQL (the
latter only when ``THALEX_MM_TEST_POSTGRES_URL`` names a server; see conftest.py).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time

import numpy as np
import pytest

from thalex_mm.config import BotConfig
from thalex_mm.core.types import ChangeReason, OrderStatus, Side
from thalex_mm.errors import DataFileError, InvalidState
from thalex_mm.store import (
    SCHEMA_VERSION,
    ErrorRecord,
    FillRecord,
    Journal,
    JournalReader,
    OrderRecord,
    PnlSnapshot,
    QuoteRecord,
    RiskEventRecord,
    canonical_config_json,
    open_journal,
)


@pytest.fixture
def journal(location):
    j = Journal(location, flush_interval_s=0.05)
    yield j
    j.close()


def test_journal_when_every_record_kind_written_reads_back_equal(journal):
    run_id = journal.start_run("paper", BotConfig(), started_ns=1_000)
    journal.order(run_id, ts_ns=10, event="sent", client_order_id=7, side=Side.BUY, price=100.5,
                  amount=0.01, status=None, detail="insert")
    journal.order(run_id, ts_ns=11, event="updated", client_order_id=7, order_id="X1",
                  side=Side.BUY, price=100.5, amount=0.01, filled_amount=0.004,
                  status=OrderStatus.PARTIALLY_FILLED, change_reason=ChangeReason.FILL)
    journal.fill(run_id, ts_ns=12, trade_id="T1", client_order_id=7, order_id="X1",
                 side=Side.BUY, price=100.5, amount=0.004, fee=-0.0001, maker_taker="maker",
                 position_after=0.004)
    journal.quote(run_id, ts_ns=13, mid=100.75, fair_value=100.7, reservation=100.6,
                  bid=100.5, ask=101.0, bid_size=0.01, ask_size=0.02, sigma=2.5, A=140.0,
                  k=1.5, gamma=0.1)
    journal.risk_event(run_id, ts_ns=14, state="reducing", previous="active",
                       reason="position_soft_limit", detail="position 0.06 > 0.05")
    journal.pnl(run_id, ts_ns=15, position=0.004, avg_price=100.5, mark=100.75, realised=0.0,
                unrealised=0.001, fees=-0.0001, funding=0.0, equity=0.0011)
    journal.error(run_id, ts_ns=16, source="exchange", code=3, message="order not found")

    assert journal.orders(run_id) == [
        OrderRecord(run_id=run_id, ts_ns=10, event="sent", client_order_id=7, order_id=None,
                    side="buy", price=100.5, amount=0.01, filled_amount=None, status=None,
                    change_reason=None, delete_reason=None, detail="insert"),
        OrderRecord(run_id=run_id, ts_ns=11, event="updated", client_order_id=7, order_id="X1",
                    side="buy", price=100.5, amount=0.01, filled_amount=0.004,
                    status="partially_filled", change_reason="fill", delete_reason=None,
                    detail=None),
    ]
    assert journal.fills(run_id) == [
        FillRecord(run_id=run_id, ts_ns=12, trade_id="T1", client_order_id=7, order_id="X1",
                   side="buy", price=100.5, amount=0.004, fee=-0.0001, maker_taker="maker",
                   position_after=0.004)
    ]
    assert journal.quotes(run_id) == [
        QuoteRecord(run_id=run_id, ts_ns=13, mid=100.75, fair_value=100.7, reservation=100.6,
                    bid=100.5, ask=101.0, bid_size=0.01, ask_size=0.02, sigma=2.5, A=140.0,
                    k=1.5, gamma=0.1)
    ]
    assert journal.risk_events(run_id) == [
        RiskEventRecord(run_id=run_id, ts_ns=14, state="reducing", previous="active",
                        reason="position_soft_limit", detail="position 0.06 > 0.05")
    ]
    assert journal.pnl_snapshots(run_id) == [
        PnlSnapshot(run_id=run_id, ts_ns=15, position=0.004, avg_price=100.5, mark=100.75,
                    realised=0.0, unrealised=0.001, fees=-0.0001, funding=0.0, equity=0.0011)
    ]
    assert journal.errors(run_id) == [
        ErrorRecord(run_id=run_id, ts_ns=16, source="exchange", code="3",
                    message="order not found")
    ]


def test_start_run_when_botconfig_given_stores_canonical_json_hash_and_market(journal):
    config = BotConfig()
    run_id = journal.start_run("live", config, started_ns=5_000_000_000)
    journal.finish_run(run_id, "signal", stopped_ns=7_500_000_000)
    info = journal.get_run(run_id)
    assert info.mode == "live"
    assert info.instrument == config.market.instrument
    assert info.network == "sim"
    assert json.loads(info.config_json) == config.model_dump(mode="json")
    assert info.config_json == canonical_config_json(config)
    assert info.config_hash == hashlib.sha256(info.config_json.encode()).hexdigest()
    assert (info.started_ns, info.stopped_ns, info.exit_reason) == (5_000_000_000,
                                                                    7_500_000_000, "signal")
    assert info.duration_s == pytest.approx(2.5)
    assert info.fill_count == 0


def test_start_run_when_mode_unknown_raises(journal):
    with pytest.raises(ValueError, match="demo"):
        journal.start_run("demo", {})


def test_finish_run_when_run_unknown_raises_key_error(journal):
    with pytest.raises(KeyError, match="nope"):
        journal.finish_run("nope", "done")


def test_get_run_when_unknown_raises_key_error(journal):
    with pytest.raises(KeyError, match="missing"):
        journal.get_run("missing")


def test_run_ids_when_many_started_in_same_second_are_unique(journal):
    ids = {journal.start_run("backtest", {"a": 1}, started_ns=i) for i in range(50)}
    assert len(ids) == 50
    assert all(len(i.split("-")) == 2 and i.endswith(tuple("0123456789abcdef")) for i in ids)


def test_list_runs_newest_first_with_fill_counts(journal):
    first = journal.start_run("paper", {}, started_ns=1_000)
    second = journal.start_run("backtest", {}, started_ns=3_000)
    third = journal.start_run("live", {}, started_ns=2_000)
    for i in range(3):
        journal.fill(second, ts_ns=i, trade_id=f"T{i}", side="sell", price=1.0, amount=1.0)
    journal.fill(first, ts_ns=0, trade_id="T0", side="buy", price=1.0, amount=1.0)
    runs = journal.list_runs()
    assert [r.run_id for r in runs] == [second, third, first]
    assert [r.fill_count for r in runs] == [3, 0, 1]


def test_fill_when_trade_id_duplicated_is_stored_once(journal):
    run_id = journal.start_run("paper", {})
    other = journal.start_run("paper", {})
    for _ in range(3):
        journal.fill(run_id, ts_ns=1, trade_id="T-dup", side="buy", price=10.0, amount=2.0)
    journal.fill(run_id, ts_ns=2, trade_id="T-other", side="sell", price=11.0, amount=1.0)
    journal.fill(other, ts_ns=3, trade_id="T-dup", side="buy", price=10.0, amount=2.0)
    journal.flush()
    assert [f.trade_id for f in journal.fills(run_id)] == ["T-dup", "T-other"]
    assert [f.trade_id for f in journal.fills(other)] == ["T-dup"]
    assert journal.stats().duplicate_fills == 2
    # Across flushes too (a replayed fill after a reconnect).
    journal.fill(run_id, ts_ns=9, trade_id="T-dup", side="buy", price=10.0, amount=2.0)
    assert len(journal.fills(run_id)) == 2
    assert journal.stats().duplicate_fills == 3


def test_record_methods_when_called_touch_no_database_until_flush(location, count_rows):
    path = location
    journal = Journal(path, flush_interval_s=3600)
    try:
        run_id = journal.start_run("backtest", {})
        for i in range(1_000):
            journal.quote(run_id, ts_ns=i, mid=float(i))
            journal.order(run_id, ts_ns=i, event="sent", client_order_id=i)
        assert count_rows(path, "quotes") == 0
        assert count_rows(path, "orders") == 0
        assert journal.stats().queued == 2_000
        assert journal.flush()
        assert count_rows(path, "quotes") == 1_000
        assert count_rows(path, "orders") == 1_000
        stats = journal.stats()
        assert (stats.queued, stats.written, stats.transactions) == (0, 2_000, 1)
    finally:
        journal.close()


def test_writer_when_records_arrive_commits_them_in_few_batches_without_flush(location,
                                                                            count_rows):
    path = location
    journal = Journal(path, flush_interval_s=0.05)
    try:
        run_id = journal.start_run("paper", {})
        for i in range(5_000):
            journal.pnl(run_id, ts_ns=i, position=0.0, realised=0.0, unrealised=0.0,
                        equity=float(i))
        deadline = time.monotonic() + 10
        while count_rows(path, "pnl_snapshots") < 5_000:
            assert time.monotonic() < deadline, "writer never committed"
            time.sleep(0.02)
        assert 1 <= journal.stats().transactions <= 10
    finally:
        journal.close()


def test_arrays_when_values_missing_hold_nan_and_timestamps(journal):
    run_id = journal.start_run("backtest", {})
    journal.quote(run_id, ts_ns=2, mid=101.0, bid=100.0)
    journal.quote(run_id, ts_ns=1, mid=99.0, ask=100.0, A=3.0)
    journal.pnl(run_id, ts_ns=5, position=1.5, realised=2.0, unrealised=-1.0, equity=1.0)
    quotes = journal.quotes_array(run_id)
    assert quotes["ts_ns"].tolist() == [1, 2]
    assert quotes["mid"].tolist() == [99.0, 101.0]
    assert np.isnan(quotes["bid"][0]) and quotes["bid"][1] == 100.0
    assert quotes["A"][0] == 3.0
    pnl = journal.pnl_array(run_id)
    assert pnl["position"].tolist() == [1.5]
    assert pnl["equity"].tolist() == [1.0]
    assert np.isnan(pnl["mark"][0])
    assert len(journal.quotes_array("other")) == 0


def test_close_when_called_twice_drains_everything_and_later_records_raise(location,
                                                                           count_rows):
    path = location
    journal = Journal(path, flush_interval_s=3600)
    run_id = journal.start_run("paper", {})
    for i in range(100):
        journal.error(run_id, ts_ns=i, source="core", message=f"e{i}")
    journal.close()
    journal.close()
    assert count_rows(path, "errors") == 100
    with pytest.raises(InvalidState, match="closed"):
        journal.error(run_id, ts_ns=0, source="core", message="late")
    with JournalReader(path) as reader:
        assert [e.message for e in reader.errors(run_id)][:3] == ["e0", "e1", "e2"]


def test_database_when_opened_is_in_wal_mode(tmp_path):
    journal = Journal(tmp_path / "wal.sqlite")
    journal.close()
    conn = sqlite3.connect(journal.path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] == (
            SCHEMA_VERSION
        )
    finally:
        conn.close()


def test_reader_when_file_missing_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nothing\.sqlite"):
        JournalReader(tmp_path / "nothing.sqlite")
    assert not (tmp_path / "nothing.sqlite").exists()


def test_reader_when_file_not_sqlite_raises_data_file_error(tmp_path):
    bogus = tmp_path / "bogus.sqlite"
    bogus.write_bytes(b"this is not a database, just some text\n" * 100)
    with pytest.raises(DataFileError, match=r"bogus\.sqlite"):
        JournalReader(bogus)


def test_open_journal_when_sqlite_url_opens_that_file(tmp_path):
    target = tmp_path / "sub" / "u.sqlite"
    journal = open_journal(f"sqlite:///{target}")
    try:
        journal.start_run("paper", {})
    finally:
        journal.close()
    assert target.is_file()


def test_open_journal_when_postgres_unreachable_raises_transport_error_without_password():
    from thalex_mm.errors import TransportError

    # Port 1 on loopback: nothing listens, the connection is refused at once.
    with pytest.raises(TransportError) as info:
        open_journal("postgresql://user:hunter2@127.0.0.1:1/journal")
    text = str(info.value)
    assert "postgresql://user@127.0.0.1:1/journal" in text and "cannot connect" in text
    assert "hunter2" not in text
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_open_journal_when_asyncpg_missing_raises_config_error_naming_the_extra(monkeypatch):
    import sys

    from thalex_mm.errors import ConfigError

    monkeypatch.setitem(sys.modules, "asyncpg", None)  # makes "import asyncpg" fail
    with pytest.raises(ConfigError) as info:
        open_journal("postgres://user:hunter2@db.example/journal")
    text = str(info.value)
    assert "monitoring.journal_path" in text and "thalex-mm[postgres]" in text
    assert "hunter2" not in text


def test_redact_url_drops_password_and_query_keeps_the_rest():
    from thalex_mm.store import describe_location, redact_url

    assert redact_url("postgresql://u:p%40ss@db.example:5433/j?sslmode=require&password=x") == (
        "postgresql://u@db.example:5433/j")
    assert redact_url("postgresql://db.example/j") == "postgresql://db.example/j"
    assert redact_url("postgresql://u:pw@[::1]:5432/j") == "postgresql://u@[::1]:5432/j"
    assert redact_url("postgresql://u:pw@h:notaport/j") == "<unparsable URL>"
    assert describe_location("runs/j.sqlite") == "runs/j.sqlite"
    assert describe_location("postgres://a:b@h/d") == "postgres://a@h/d"


def test_journal_file_when_postgres_url_raises_config_error_without_password():
    from thalex_mm.errors import ConfigError
    from thalex_mm.store import journal_file

    with pytest.raises(ConfigError) as info:
        journal_file("postgresql://user:hunter2@db/journal")
    assert "monitoring.journal_path" in str(info.value)
    assert "hunter2" not in str(info.value)


def test_sinks_when_checked_both_satisfy_the_protocol(journal):
    from thalex_mm.store import JournalSink, NullJournal

    null = NullJournal()
    assert isinstance(journal, JournalSink) and isinstance(null, JournalSink)
    assert [null.start_run("paper", {}), null.start_run("live", {})] == ["null-1", "null-2"]
    null.fill("null-1", ts_ns=1, trade_id="T", side="buy", price=1.0, amount=1.0)
    assert null.flush() is True
    with pytest.raises(ValueError, match="demo"):
        null.start_run("demo", {})
