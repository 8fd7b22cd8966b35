"""Backtester: latency ordering, honest fills, fees/funding by hand, windows, CLI, sweeps."""

from __future__ import annotations

import gzip
import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from thalex_mm.backtest.api import run_backtest
from thalex_mm.backtest.runner import BacktestSettings, run_session
from thalex_mm.backtest.sessions import parse_time_ns, window_events
from thalex_mm.backtest.sweep import parse_grid, run_sweep
from thalex_mm.cli import main
from thalex_mm.config.models import BotConfig
from thalex_mm.core.commands import Halt, InsertOrder
from thalex_mm.core.events import (
    AccountTradesReceived,
    BookDeltaReceived,
    BookSnapshotReceived,
    TickerUpdated,
)
from thalex_mm.core.step import EMPTY_STEP, Step
from thalex_mm.core.types import Side, TimeInForce
from thalex_mm.data import EventKind, events_from_columns
from thalex_mm.reports import RunRecorder

# tests here that need the shared data skip without it (fail under CI=true)
pytestmark = pytest.mark.real_part("the shared market data (THALEX_MM_DATA_DIR or ../shared/data)")

S = 1_000_000_000
T0 = 1_700_000_000 * S
REPO = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("THALEX_MM_DATA_DIR", REPO / ".." / "shared" / "data"))
BINANCE = DATA / "binance_usdm_btcusdt_perp_l2_trades"


class OneBidCore:
    """Stand-in core: once it has seen a book, buys ``amount`` at ``price`` (post-only)."""

    def __init__(self, config: BotConfig, price: float = 100.0, amount: float = 1.0) -> None:
        self.name = config.market.instrument
        self.price, self.amount = price, amount
        self.sent = False
        self.log: list = []
        self.sent_at: list[int] = []

    def handle(self, event):
        self.log.append(event)
        if not self.sent and isinstance(event, BookSnapshotReceived | BookDeltaReceived):
            self.sent = True
            self.sent_at.append(event.local_ts_ns)
            return Step(commands=(InsertOrder(client_order_id=1, instrument=self.name, side=Side.BUY,
                                              amount=self.amount, price=self.price, post_only=True),))
        return EMPTY_STEP

    def on_sent(self, request_id, command):
        pass

    def next_deadline_ns(self):
        return None


def _rows(rows):
    cols = list(zip(*rows, strict=True))
    return events_from_columns(cols[0], cols[1], cols[2], cols[3], cols[4], cols[5])


def _tiny(extra=(), seconds=10):
    """Book 100 x 101 (bid 2 ahead of us), marks every second, then ``extra`` rows."""
    L, C, M = EventKind.BOOK_LEVEL, EventKind.BOOK_CLEAR, EventKind.MARK
    rows = [(C, 0, T0, T0, 0.0, 0.0), (L, 1, T0, T0, 100.0, 2.0), (L, -1, T0, T0, 101.0, 3.0)]
    rows += [(M, 0, T0 + i * S, T0 + i * S, 100.0, 0.0) for i in range(seconds + 1)]
    rows += list(extra)
    arr = _rows(rows)
    return arr[np.argsort(arr["exch_ts"], kind="stable")]


def _run(events, settings, core_holder=None, price=100.0):
    rec = RunRecorder(instrument="BTC-PERPETUAL")

    def factory(cfg):
        core = OneBidCore(cfg, price=price)
        if core_holder is not None:
            core_holder.append(core)
        return core

    res = run_session(events, BotConfig(), settings, rec, core_factory=factory)
    return res, rec.finish(events=res.rows, start_ts_ns=res.start_ts_ns, end_ts_ns=res.end_ts_ns)


def test_backtest_when_order_sent_it_arrives_after_latency_and_fills_after_arrival():
    # a sell print through our bid 3 ms after the first book: before our order arrives
    # (latency 7 ms), so it cannot fill us; the one at +50 ms can
    T = EventKind.TRADE
    early = (T, -1, T0 + 3_000_000, T0 + 3_000_000, 99.0, 10.0)
    late = (T, -1, T0 + 50 * 1_000_000, T0 + 50 * 1_000_000, 99.0, 10.0)
    cores: list = []
    st = BacktestSettings(order_latency_ms=7.0, response_latency_ms=4.0, feed_latency_ms=0.0,
                          batch_ms=1.0, maker_fee_rate=0.0, taker_fee_rate=0.0)
    _res, record = _run(_tiny([early, late]), st, cores)
    core = cores[0]
    sent = core.sent_at[0]
    assert record.fill_ts_ns.tolist() == [T0 + 50 * 1_000_000]
    assert record.fill_ts_ns[0] >= sent + 7_000_000
    trades = [e for e in core.log if isinstance(e, AccountTradesReceived)]
    assert trades[0].local_ts_ns == T0 + 50 * 1_000_000 + 4_000_000
    # the quote series starts when the order arrived at the engine
    assert record.quote_ts_ns[0] == sent + 7_000_000


def test_backtest_when_print_only_reaches_queue_front_risk_averse_gives_no_fill():
    # 2 contracts ahead of us at 100; a sell print of 1.5 at 100 does not reach us
    T = EventKind.TRADE
    rows = [(T, -1, T0 + 2 * S, T0 + 2 * S, 100.0, 1.5)]
    st = BacktestSettings(feed_latency_ms=0.0, batch_ms=1.0)
    _, record = _run(_tiny(rows), st)
    assert record.fill_ts_ns.size == 0


def test_backtest_fees_and_funding_match_hand_computation():
    # fill 1 @ 100 at t = 1.5 s (print through), maker fee 2 bp; funding 0.3 per 24 h
    T = EventKind.TRADE
    rows = [(T, -1, T0 + 1500 * 1_000_000, T0 + 1500 * 1_000_000, 99.0, 10.0)]
    st = BacktestSettings(feed_latency_ms=0.0, batch_ms=1000.0, maker_fee_rate=0.0002,
                          taker_fee_rate=0.0005, funding_rate_24h=0.3)
    _res, record = _run(_tiny(rows, seconds=10), st)
    from thalex_mm.reports import compute_summary

    s = compute_summary(record)
    assert s["fills"] == 1 and s["volume"] == 1.0
    assert s["fees"] == pytest.approx(0.0002 * 100.0 * 1.0)
    # accruals each second at the marks; the position (1 long) exists for the accruals at
    # t = 2 .. 10 s: 9 one-second accruals of -1 * 100 * 0.3 / 86400
    assert s["funding"] == pytest.approx(-9 * 100.0 * 0.3 / 86400.0)
    assert s["pnl_total"] == pytest.approx(s["pnl_realised"] + s["pnl_unrealised"]
                                           - s["fees"] + s["funding"])


def test_backtest_risk_averse_gives_no_more_fills_than_probabilistic_queue():
    cfg = BotConfig()
    fills = {}
    for qm in ("risk_averse", "power2"):
        out = run_backtest(["synthetic:90:3"], cfg, BacktestSettings(queue_model=qm))
        fills[qm] = out.summary["fills"]
    assert fills["risk_averse"] <= fills["power2"]
    assert fills["power2"] > 0


def test_window_events_when_start_cut_prepends_book_snapshot():
    from thalex_mm.backtest.sessions import synthetic_events

    ev = synthetic_events("synthetic:20", seed=1)
    start = int(ev["exch_ts"][0]) + 5 * S
    end = start + 5 * S
    w = window_events(ev, start, end)
    assert w["kind"][0] == EventKind.BOOK_CLEAR
    assert w["exch_ts"].min() == start and w["exch_ts"].max() <= end
    n_levels = int(np.sum(w["exch_ts"] == start))
    assert n_levels > 2
    out = run_backtest(["synthetic:20:1"], BotConfig(), BacktestSettings(),
                       start_ns=start, end_ns=end)
    assert out.summary["start_ts_ns"] >= start and out.summary["end_ts_ns"] <= end


def test_parse_time():
    assert parse_time_ns("1680652800") == 1680652800 * S
    assert parse_time_ns("2023-04-05T00:00:00Z") == 1680652800 * S
    with pytest.raises(ValueError, match="ISO-8601"):
        parse_time_ns("yesterday")
    # grouping of the shared captures: tests/backtest/test_session_grouping.py


def test_cli_backtest_is_deterministic(tmp_path, capsys):
    outs = []
    for name in ("a", "b"):
        d = tmp_path / name
        rc = main(["backtest", "--data", "synthetic:40:2", "--out", str(d), "--seed", "5",
                   "--latency-jitter", "0.3"])
        assert rc == 0
        outs.append(json.loads((d / "summary.json").read_text()))
        assert (d / "report.html").read_text().startswith("<!")
    for o in outs:
        for k in ("wall_seconds", "events_per_second"):
            o.pop(k)
    assert outs[0] == outs[1]
    assert outs[0]["fills"] > 0
    assert "pnl_total" in capsys.readouterr().out


def test_cli_backtest_when_file_corrupt_exits_2_naming_file_and_line(tmp_path, capsys):
    bad = tmp_path / "usdm_btcusdt_20230101.dat.gz"
    with gzip.open(bad, "wt") as fh:
        fh.write('1680652700452000000 {"stream":"btcusdt@depth@0ms","data":{"e":"depthUpdate"}}\n')
        fh.write("1680652700452000001 {not json\n")
    rc = main(["backtest", "--data", str(bad), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2
    assert str(bad) in err


def test_sweep_runs_grid_and_ray_path_errors_clearly(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # as if the optional extra were missing
    res = run_sweep(["synthetic:20:1"], BotConfig(), [parse_grid("avellaneda.gamma=0.05,0.5")],
                    BacktestSettings(), jobs=1)
    assert [r["params"]["avellaneda.gamma"] for r in res] == [0.05, 0.5]
    with pytest.raises(RuntimeError, match="ray"):
        run_sweep(["synthetic:5"], BotConfig(), [parse_grid("avellaneda.gamma=0.1")],
                  BacktestSettings(), ray_address="auto")
    rc = main(["sweep", "--data", "synthetic:5", "--grid", "avellaneda.gamma=0.1",
               "--ray-address", "auto"])
    assert rc == 2 and "ray" in capsys.readouterr().err
    with pytest.raises(ValueError, match=r"section\.key"):
        parse_grid("gamma")


def test_shared_sessions_backtest_from_cli(tmp_path):
    files = sorted(str(p) for p in BINANCE.glob("usdm_btcusdt_*")) if BINANCE.is_dir() else []
    if len(files) < 4:
        pytest.skip(f"shared Binance captures not found under {BINANCE}")
    rc = main(["backtest", "--data", *files, "--out", str(tmp_path)])
    assert rc == 0
    s = json.loads((tmp_path / "summary.json").read_text())
    assert s["sessions"] == 2 and s["events"] > 700_000
    assert (tmp_path / "20230404-20230405" / "report.html").exists()
    assert s["fills"] > 0


def test_backtest_summary_when_intensity_fitted_reports_calibration_in_ticks(tmp_path) -> None:
    # the synthetic AS world prints every order at its limit: k = 0.5 per USD, tick 1 USD
    out = run_backtest(["synthetic:120:4"], BotConfig(), BacktestSettings(), out_dir=tmp_path)
    cal = out.summary["calibration"]
    assert cal["intensity_source"] == "fit"
    assert cal["k_per_tick"] == pytest.approx(cal["k_per_quote_ccy"] * 1.0)
    assert cal["k_per_tick"] == pytest.approx(0.5, rel=0.25)
    assert 0.5 <= cal["intensity_confidence"] <= 1.0
    assert 0.0 < cal["intensity_fitted_fraction"] <= 1.0
    written = json.loads((tmp_path / "summary.json").read_text())
    assert written["calibration"]["k_per_tick"] == pytest.approx(cal["k_per_tick"])


def test_backtest_when_data_has_an_8h_funding_rate_core_sees_it_per_24h():
    # Binance states funding per 8 h; the core's fair value takes a rate per 24 h (Thalex's
    # convention): the ticker the core sees must carry 3 x the recorded rate.
    F = EventKind.FUNDING_RATE
    events = _tiny(extra=[(F, 0, T0 + 2 * S, T0 + 2 * S, 0.0003, 0.0)], seconds=4)
    holder: list = []
    _run(events, BacktestSettings(order_latency_ms=1.0, response_latency_ms=1.0), core_holder=holder)
    rates = [e.funding_rate for e in holder[0].log if isinstance(e, TickerUpdated) and e.funding_rate is not None]
    assert rates and rates[0] == pytest.approx(0.0009)


class KillingCore(OneBidCore):
    """Stand-in core: on the first book, halts and sends a reduce-only IOC flatten (the kill
    switch with cancel_and_flatten), as the real core does."""

    def handle(self, event):
        self.log.append(event)
        if not self.sent and isinstance(event, BookSnapshotReceived | BookDeltaReceived):
            self.sent = True
            return Step(commands=(
                Halt(reason="kill_switch", detail="test"),
                InsertOrder(client_order_id=9, instrument=self.name, side=Side.SELL, amount=0.5,
                            price=99.0, reduce_only=True, time_in_force=TimeInForce.IOC, post_only=False)))
        return EMPTY_STEP


def test_backtest_when_halt_comes_with_a_flatten_sends_the_flatten_like_live():
    events = _tiny(seconds=3)
    res = run_session(events, BotConfig(), BacktestSettings(order_latency_ms=1.0, response_latency_ms=1.0),
                      RunRecorder(instrument="BTC-PERPETUAL"), core_factory=KillingCore)
    assert res.commands == 1  # the flatten reached the exchange (the Halt is not a request)
