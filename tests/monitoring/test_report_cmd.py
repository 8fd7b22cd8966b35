"""``thalex-mm report RUN_ID`` rebuilds the report from a real SQLite journal."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from thalex_mm.cli import main
from thalex_mm.commands.report_cmd import record_from_journal
from thalex_mm.store import Journal, JournalReader

S = 1_000_000_000
T0 = 1_700_000_000 * S


def _write_run(path: Path) -> str:
    journal = Journal(path, flush_interval_s=0.05)
    try:
        run_id = journal.start_run("paper", {"market": {"instrument": "BTC-PERPETUAL"}},
                                   instrument="BTC-PERPETUAL", started_ns=T0)
        mids = [100.0, 101.0, 104.0, 110.0, 108.0]
        for i, mid in enumerate(mids):
            journal.quote(run_id, ts_ns=T0 + (i + 1) * S, mid=mid, fair_value=mid + 0.5,
                          reservation=mid - 0.25, bid=None if i == 4 else mid - 1.0,
                          ask=mid + 1.0, bid_size=0.5, ask_size=0.5, sigma=0.01, A=140.0,
                          k=0.3, gamma=0.1)
        # Buy 2 @ 100 (maker, rebate), sell 1 @ 110 (taker), then funding received 0.3.
        journal.fill(run_id, ts_ns=T0 + 1 * S, trade_id="t1", side="buy", price=100.0,
                     amount=2.0, fee=-0.02, maker_taker="maker")
        journal.fill(run_id, ts_ns=T0 + 4 * S, trade_id="t2", side="sell", price=110.0,
                     amount=1.0, fee=0.11, maker_taker="taker")
        journal.pnl(run_id, ts_ns=T0 + 2 * S, position=2.0, realised=0.0, unrealised=2.0,
                    equity=2.02, fees=-0.02, funding=0.0, mark=101.0)
        journal.pnl(run_id, ts_ns=T0 + 5 * S, position=1.0, realised=10.0, unrealised=8.0,
                    equity=18.21, fees=0.09, funding=0.3, mark=108.0)
        journal.order(run_id, ts_ns=T0 + S, event="sent", side="buy", price=99.0, amount=2.0)
        journal.order(run_id, ts_ns=T0 + S, event="rejected", side="buy", price=99.0,
                      amount=2.0, detail="post-only would cross")
        journal.finish_run(run_id, "signal", stopped_ns=T0 + 6 * S)
    finally:
        journal.close()
    return run_id


def test_record_from_journal_maps_every_series(tmp_path: Path) -> None:
    db = tmp_path / "journal.sqlite"
    run_id = _write_run(db)
    with JournalReader(db) as reader:
        rec = record_from_journal(reader, run_id)
    assert list(rec.mid_price) == [100.0, 101.0, 104.0, 110.0, 108.0]
    assert list(rec.quote_ts_ns) == [T0 + i * S for i in range(1, 6)]
    assert math.isnan(rec.quote_bid[4]) and rec.quote_bid[0] == 99.0
    assert list(rec.quote_fair_value) == [100.5, 101.5, 104.5, 110.5, 108.5]
    assert list(rec.quote_reservation) == [99.75, 100.75, 103.75, 109.75, 107.75]
    assert list(rec.fill_side) == [1, -1] and list(rec.fill_is_maker) == [True, False]
    assert list(rec.fill_fee_quote) == [-0.02, 0.11]
    assert list(rec.funding_quote) == [0.3] and list(rec.funding_ts_ns) == [T0 + 5 * S]
    assert rec.window_ns == (T0, T0 + 6 * S)
    assert rec.instrument == "BTC-PERPETUAL" and rec.rejects == 1
    assert rec.counters["orders_sent"] == 1
    assert rec.config == {"market": {"instrument": "BTC-PERPETUAL"}}


def test_report_command_writes_summary_and_html(tmp_path: Path, capsys) -> None:
    db = tmp_path / "journal.sqlite"
    run_id = _write_run(db)
    out = tmp_path / "out"
    assert main(["report", run_id, "--db", str(db), "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["fills"] == 2 and summary["fills_buy"] == 1 and summary["fills_sell"] == 1
    assert summary["fills_maker"] == 1
    assert summary["volume"] == pytest.approx(3.0)
    assert summary["notional_volume"] == pytest.approx(310.0)
    assert summary["fees"] == pytest.approx(0.09)
    assert summary["funding"] == pytest.approx(0.3)
    assert summary["final_position"] == pytest.approx(1.0)
    # Average cost: sold 1 of 2 bought at 100 for 110 -> +10 realised; 1 left marked at 108.
    assert summary["pnl_realised"] == pytest.approx(10.0)
    assert summary["pnl_unrealised"] == pytest.approx(8.0)
    assert summary["instrument"] == "BTC-PERPETUAL"
    html = (out / "report.html").read_text()
    assert run_id in html and 'data-chart="equity"' in html and "http://" not in html.replace(
        "http://www.w3.org/2000/svg", "")
    printed = capsys.readouterr().out
    assert "pnl_realised" in printed and str(out / "report.html") in printed


def test_unknown_run_exits_2_naming_it(tmp_path: Path, capsys) -> None:
    db = tmp_path / "journal.sqlite"
    _write_run(db)
    assert main(["report", "no-such-run", "--db", str(db), "--out", str(tmp_path / "o")]) == 2
    assert "no-such-run" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_missing_journal_exits_2(tmp_path: Path, capsys) -> None:
    assert main(["report", "x", "--db", str(tmp_path / "absent.sqlite")]) == 2
    assert "absent.sqlite" in capsys.readouterr().err


def test_report_after_run_when_journal_is_a_file_writes_next_to_it(tmp_path: Path, capsys) -> None:
    from thalex_mm.commands.report_cmd import default_report_dir, report_after_run

    db = tmp_path / "journal.sqlite"
    run_id = _write_run(db)
    out = report_after_run(str(db), run_id)
    assert out == tmp_path / "reports" / run_id
    assert {p.name for p in out.iterdir()} == {"summary.json", "fills.csv", "report.html"}
    assert str(out / "report.html") in capsys.readouterr().out
    assert default_report_dir("postgresql://u@h/db") == Path("runs/reports")


def test_report_after_run_when_run_is_unknown_says_so_without_raising(tmp_path: Path, capsys) -> None:
    from thalex_mm.commands.report_cmd import report_after_run

    db = tmp_path / "journal.sqlite"
    _write_run(db)
    assert report_after_run(str(db), "nope") is None
    assert "thalex-mm report nope" in capsys.readouterr().err
