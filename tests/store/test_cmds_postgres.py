"""``thalex-mm runs`` and ``thalex-mm report`` read a PostgreSQL journal named by ``--db URL``.

Runs only when ``THALEX_MM_TEST_POSTGRES_URL`` names a server (see conftest.py); the password in
the URL must appear in no output.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from thalex_mm.cli import main
from thalex_mm.store import Journal, redact_url

_S = 1_000_000_000
_T0_NS = 1_714_564_800 * _S  # 2024-05-01 12:00:00 UTC


def _leaks(url: str, text: str) -> bool:
    """Does ``text`` show the URL's password? (Checked even when it also names the user.)"""
    password = urlsplit(url).password
    if not password:
        return url in text
    shown = text.replace(redact_url(url), "")
    return url in text or f":{password}@" in text or password in shown


def test_runs_when_db_is_postgres_url_lists_its_runs(pg_url, capsys):
    with Journal(pg_url) as journal:
        old = journal.start_run("paper", {}, started_ns=_T0_NS)
        for i in range(3):
            journal.fill(old, ts_ns=i, trade_id=f"T{i}", side="buy", price=1.0, amount=1.0)
        journal.fill(old, ts_ns=9, trade_id="T0", side="buy", price=1.0, amount=1.0)  # dup
        journal.finish_run(old, "signal", stopped_ns=_T0_NS + 65 * _S)
        new = journal.start_run("live", {}, started_ns=_T0_NS + 3_600 * _S)
    assert main(["runs", "--db", pg_url]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    # columns: id, mode, start (UTC), duration, fills, volume, PnL, max |position|, exit reason
    assert lines[1].split() == [new, "live", "2024-05-01", "13:00:00", "-", "0", "0.000", "-",
                                "0.000", "(not", "finished)"]
    assert lines[2].split() == [old, "paper", "2024-05-01", "12:00:00", "1m05s", "3", "3.000",
                                "-", "3.000", "signal"]
    assert len(lines) == 3
    assert not _leaks(pg_url, captured.out + captured.err)


def test_runs_when_postgres_schema_empty_refuses_and_creates_nothing(pg_url, capsys,
                                                                     count_rows):
    # A reader never creates the schema: an empty database is "not a journal", one line.
    assert main(["runs", "--db", pg_url]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert redact_url(pg_url) in captured.err and "empty or not a journal" in captured.err
    assert not _leaks(pg_url, captured.err)
    from thalex_mm.store.backend import open_connection

    conn = open_connection(pg_url)
    try:
        assert conn.query("SELECT table_name FROM information_schema.tables "
                          "WHERE table_schema = current_schema()") == []
    finally:
        conn.close()


def test_runs_when_postgres_journal_has_no_runs_names_it_without_password(pg_url, capsys):
    Journal(pg_url).close()
    assert main(["runs", "--db", pg_url]) == 0
    out = capsys.readouterr().out
    assert out == f"no runs in {redact_url(pg_url)}\n"
    assert not _leaks(pg_url, out)


def test_report_when_db_is_postgres_url_writes_summary_and_html(pg_url, tmp_path, capsys):
    with Journal(pg_url) as journal:
        run_id = journal.start_run("paper", {}, instrument="BTC-PERPETUAL", started_ns=_T0_NS)
        for i, mid in enumerate([100.0, 102.0, 104.0]):
            journal.quote(run_id, ts_ns=_T0_NS + (i + 1) * _S, mid=mid, bid=mid - 1.0,
                          ask=mid + 1.0)
        journal.fill(run_id, ts_ns=_T0_NS + _S, trade_id="t1", side="buy", price=99.0,
                     amount=2.0, fee=0.0, maker_taker="maker")
        journal.finish_run(run_id, "signal", stopped_ns=_T0_NS + 4 * _S)
    out = tmp_path / "report"
    assert main(["report", run_id, "--db", pg_url, "--out", str(out)]) == 0
    captured = capsys.readouterr()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["fills"] == 1
    assert (out / "report.html").stat().st_size > 1_000
    assert not _leaks(pg_url, captured.out + captured.err)
    assert main(["report", "nope", "--db", pg_url]) == 2
    err = capsys.readouterr().err
    assert "unknown run 'nope'" in err and redact_url(pg_url) in err
    assert not _leaks(pg_url, err)
