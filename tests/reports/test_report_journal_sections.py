"""A paper run's report from the journal: timeline, fills.csv, mode fields, readable times,
a terminal table that fits 100 columns."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from thalex_mm.commands.report_cmd import write_run_report
from thalex_mm.reports import format_summary_table
from thalex_mm.reports.timeline import INFO_SOURCE
from thalex_mm.store import Journal, JournalReader

S = 1_000_000_000
T0 = 1_764_697_500 * S  # 2025-12-02 17:45:00 UTC


def _paper_run(path: Path) -> str:
    journal = Journal(path, flush_interval_s=0.05)
    try:
        run_id = journal.start_run("paper", {"avellaneda": {"maker_fee_rate": 0.0,
                                                            "taker_fee_rate": 0.0005}},
                                   instrument="BTC-PERPETUAL", started_ns=T0)
        for i in range(90):
            journal.quote(run_id, ts_ns=T0 + i * S, mid=100.0 + (i % 7), fair_value=None,
                          reservation=None, bid=99.0 + (i % 7), ask=101.0 + (i % 7),
                          bid_size=0.1, ask_size=0.1, sigma=None, A=None, k=None, gamma=None)
        journal.fill(run_id, ts_ns=T0 + 3 * S + 5_000_000, trade_id="t1", side="buy",
                     price=102.0, amount=0.1, fee=0.0, maker_taker="maker", position_after=0.1)
        journal.fill(run_id, ts_ns=T0 + 20 * S, trade_id="t2", side="sell", price=107.0,
                     amount=0.05, fee=0.002675, maker_taker="taker", position_after=0.05)
        journal.risk_event(run_id, ts_ns=T0 + 30 * S, state="halted", previous="active",
                           reason="kill_switch", detail="kill switch (dashboard 127.0.0.1)")
        journal.error(run_id, ts_ns=T0 + 10 * S, source=INFO_SOURCE, code="1",
                      message="AmendOrder: not found (order already filled or cancelled)")
        journal.error(run_id, ts_ns=T0 + 11 * S, source="rejected", code="13",
                      message="InsertOrder: invalid price")
        journal.finish_run(run_id, "kill switch (dashboard 127.0.0.1) at 2025-12-02 17:45:30 "
                                   "UTC; then duration reached", stopped_ns=T0 + 90 * S)
    finally:
        journal.close()
    return run_id


def test_report_of_a_killed_paper_run_shows_the_kill_on_the_timeline_and_charts(tmp_path: Path) -> None:
    db = tmp_path / "j.sqlite"
    run_id = _paper_run(db)
    with JournalReader(db) as reader:
        summary = write_run_report(reader, run_id, tmp_path / "out")
    html = (tmp_path / "out" / "report.html").read_text()
    table = html[html.index('id="timeline-table"'):html.index('<h2 id="charts">')]
    rows = re.findall(r"<tr><td>([^<]*)</td><td[^>]*>([^<]*)</td><td>([^<]*)</td></tr>", table)
    assert ("2025-12-02 17:45:30.000", "kill", "active → halted: kill switch (dashboard 127.0.0.1)") in rows
    assert any(kind == "error" and "invalid price" in what for _, kind, what in rows)
    assert not any("not found" in what for _, _, what in rows)  # info is not on the timeline
    equity = json.loads(re.search(r'data-chart="equity">(.*?)</script>', html).group(1))
    assert [T0 / S + 30, "#b00020", "kill"] in equity["marks"]
    assert summary["exit_reason"].startswith("kill switch (dashboard 127.0.0.1)")
    assert summary["fee_rates"].startswith("maker 0.00 bp, taker 5.00 bp")
    assert summary["counters"]["errors"] == 1 and summary["counters"]["info"] == 1


def test_report_of_a_paper_run_has_paper_fields_utc_times_and_an_adaptive_sharpe(tmp_path: Path) -> None:
    db = tmp_path / "j.sqlite"
    run_id = _paper_run(db)
    with JournalReader(db) as reader:
        summary = write_run_report(reader, run_id, tmp_path / "out")
    assert summary["mode"] == "paper"
    for backtest_only in ("events", "events_per_second", "wall_seconds", "seconds_simulated"):
        assert backtest_only not in summary
    assert summary["duration_s"] == 90.0
    assert summary["start_utc"] == "2025-12-02 17:45:00 UTC"
    assert summary["sharpe_grid_s"] == 1.0 and summary["sharpe"] is not None
    text = format_summary_table({k: v for k, v in summary.items() if k != "config"})
    assert max(len(line) for line in text.splitlines()) <= 100
    assert "start_ts_ns" not in text and "2025-12-02 17:45:00 UTC" in text


def test_fills_csv_when_written_matches_the_journal_row_for_row(tmp_path: Path) -> None:
    db = tmp_path / "j.sqlite"
    run_id = _paper_run(db)
    with JournalReader(db) as reader:
        write_run_report(reader, run_id, tmp_path / "out")
        fills = reader.fills(run_id)
    with (tmp_path / "out" / "fills.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["time_utc", "trade_id", "side", "price", "size", "fee", "liquidity",
                             "position_after", "markout_1s", "markout_10s", "markout_60s"]
    assert [r["trade_id"] for r in rows] == [f.trade_id for f in fills]
    assert rows[0]["time_utc"] == "2025-12-02 17:45:03.005"
    for row, f in zip(rows, fills, strict=True):
        assert (row["side"], float(row["price"]), float(row["size"]), float(row["fee"]),
                row["liquidity"], float(row["position_after"])) == (
            f.side, f.price, f.amount, f.fee, f.maker_taker, f.position_after)
    # buy 0.1 @ 102 at 3.005 s; mid 1 s later (4 s: 100 + 4) = 104 -> +2 per contract
    assert float(rows[0]["markout_1s"]) == 2.0
    assert float(rows[1]["markout_60s"]) == 4.0  # sold @ 107, mid at 80 s = 100 + 80 % 7
