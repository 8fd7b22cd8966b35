"""Progress of long work: one line per 10 % off a terminal, a bar on one; backtest and sweep report."""

from __future__ import annotations

import io

from thalex_mm.backtest.api import run_backtest
from thalex_mm.backtest.runner import BacktestSettings
from thalex_mm.backtest.sweep import run_sweep
from thalex_mm.config.models import BotConfig
from thalex_mm.progress import Progress


class _Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_progress_when_not_a_terminal_writes_one_line_per_ten_percent() -> None:
    out, clock = io.StringIO(), _Clock()
    p = Progress("backtest", 7200.0, stream=out, tty=False, clock=clock)
    for i in range(1, 101):
        clock.t += 0.5
        p.update(done=72.0 * i, events=1000 * i, pnl=0.1 * i)
    p.close()
    lines = out.getvalue().splitlines()
    assert len(lines) == 10  # 10 % .. 90 %, then the final line
    assert lines[0] == "backtest  10%, 12m00s/2h00m00s simulated, 2,000 events/s, ETA 45.0s, PnL +1.00"
    assert lines[-1].startswith("backtest 100%, 2h00m00s/2h00m00s simulated")
    assert lines[-1].endswith("; took 50.0s")


def test_progress_when_work_jumps_past_several_deciles_writes_one_line() -> None:
    out = io.StringIO()
    p = Progress("sweep", 3, unit="runs", stream=out, tty=False, clock=_Clock())
    p.advance()
    p.advance()
    assert out.getvalue().splitlines() == [
        "sweep  33%, 1/3 runs, ETA 0.0s", "sweep  67%, 2/3 runs, ETA 0.0s"]


def test_progress_when_a_terminal_draws_a_bar_with_the_figures() -> None:
    out, clock = io.StringIO(), _Clock()
    with Progress("backtest", 100.0, stream=out, tty=True, clock=clock, width=160) as p:
        clock.t += 1.0
        p.update(done=50.0, events=5000, pnl=-2.5)
    text = out.getvalue()
    assert "backtest" in text and "5,000 events/s" in text and "PnL -2.50" in text
    assert "\x1b[" in text  # drawn with terminal control codes


def test_progress_when_disabled_writes_nothing() -> None:
    out = io.StringIO()
    with Progress("x", 10.0, stream=out, tty=False, enabled=False) as p:
        p.update(done=10.0)
    assert out.getvalue() == ""


class _Sink:
    def __init__(self) -> None:
        self.updates: list[tuple[float, int | None, float | None]] = []
        self.closed = False

    def update(self, *, done: float, events: int | None = None, pnl: float | None = None) -> None:
        self.updates.append((done, events, pnl))

    def close(self) -> None:
        self.closed = True


def test_backtest_when_given_progress_reports_simulated_time_events_and_pnl() -> None:
    sinks: list[tuple[str, float, _Sink]] = []

    def factory(title: str, total: float) -> _Sink:
        sink = _Sink()
        sinks.append((title, total, sink))
        return sink

    run_backtest(["synthetic:300"], BotConfig(), BacktestSettings(), progress=factory)
    ((title, total, sink),) = sinks
    assert title == "backtest" and 290 < total <= 300 and sink.closed
    done = [u[0] for u in sink.updates]
    assert len(done) > 3 and done == sorted(done) and done[-1] == total
    assert all(u[1] is not None for u in sink.updates)
    assert any(u[2] is not None for u in sink.updates)  # PnL so far from the core


def test_sweep_when_given_progress_counts_finished_runs() -> None:
    sink = _Sink()
    results = run_sweep(["synthetic:30"], BotConfig(), [("avellaneda.gamma", (0.05, 0.5))],
                        BacktestSettings(), jobs=1, progress=sink)
    assert [u[0] for u in sink.updates] == [1, 2]
    assert [r["params"]["avellaneda.gamma"] for r in results] == [0.05, 0.5]
    best = max(r["summary"]["pnl_total"] for r in results)
    assert sink.updates[-1][2] == best



def test_load_events_when_files_are_converted_reports_each_file(tmp_path) -> None:
    import os
    from pathlib import Path

    import pytest

    from thalex_mm.data import load_events

    base = Path(os.environ.get("THALEX_MM_DATA_DIR", Path(__file__).resolve().parents[3] / "shared" / "data"))
    folder = base / "tardis_csv_format_samples_btc_perps"
    files = sorted(folder.glob("*.csv")) if folder.is_dir() else []
    if len(files) < 2:
        pytest.skip(f"needs the shared Tardis samples in {folder}")
    made: list[tuple[str, float, str, _Sink]] = []

    def factory(title: str, total: float, unit: str = "sim_s") -> _Sink:
        sink = _Sink()
        sink.advance = lambda: sink.update(done=len(sink.updates) + 1)  # type: ignore[attr-defined]
        made.append((title, total, unit, sink))
        return sink

    pair = [f for f in files if "deribit" in f.name or "bitmex" in f.name]
    load_events(pair, cache_dir=tmp_path, progress=factory)
    ((title, total, unit, sink),) = made
    assert (title, total, unit) == ("convert", 2, "files")
    assert [u[0] for u in sink.updates] == [1, 2] and sink.closed
    made.clear()
    load_events(pair, cache_dir=tmp_path, progress=factory)  # a cache hit: nothing to show
    assert made == []
