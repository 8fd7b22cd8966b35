"""Walk-forward evaluation: causality (a planted future shock changes nothing before it),
determinism under a seed (and across processes), progress, and bad input exiting 2 with one
line. Real backtester, small data."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import ClassVar

import pytest
from evaluation_market import T0_NS, S, write_market

from thalex_mm.backtest.runner import BacktestSettings
from thalex_mm.cli import main
from thalex_mm.config.models import BotConfig
from thalex_mm.core.market_maker import MarketMakerCore
from thalex_mm.evaluation.walkforward import EvaluationSpec, run_evaluation

SHOCK_AT_S = 150.0
CALIBRATION_S = 60.0
_QUOTING = ("InsertOrder", "AmendOrder", "MassQuote")


class LoggingCore:
    """The real core, keeping (core time, command) of every command it returns (a wrapper: the
    core may be compiled, and a compiled class takes no interpreted subclass)."""

    logs: ClassVar[list[list[tuple[int, str]]]] = []

    def __init__(self, config: BotConfig) -> None:
        self.core = MarketMakerCore(config)
        self.sent: list[tuple[int, str]] = []
        LoggingCore.logs.append(self.sent)

    def __getattr__(self, name: str):
        return getattr(self.core, name)  # on_sent, next_deadline_ns, status, config, ...

    def handle(self, event):
        out = self.core.handle(event)
        self.sent.extend((event.local_ts_ns, repr(c)) for c in out.commands)
        return out


def _evaluate(data: Path) -> tuple[dict, list[tuple[int, str]]]:
    LoggingCore.logs = []
    spec = EvaluationSpec(data=(str(data),), config=BotConfig(), calibration_s=CALIBRATION_S,
                          min_trading_s=60.0, block_s=20.0, bootstrap=50, jobs=1,
                          settings=BacktestSettings(seed=1))
    doc, _ = run_evaluation(spec, core_factory=LoggingCore)
    assert len(LoggingCore.logs) == 1
    return doc, LoggingCore.logs[0]


def test_walkforward_when_a_shock_is_planted_in_the_future_decisions_before_it_are_unchanged(
        tmp_path):
    calm_doc, calm = _evaluate(write_market(tmp_path / "calm", 240))
    shock_doc, shocked = _evaluate(write_market(tmp_path / "shock", 240,
                                                shock_at_s=SHOCK_AT_S, shock_usd=20.5))
    shock_ns = T0_NS + int(SHOCK_AT_S * S)
    trade_from = T0_NS + int(CALIBRATION_S * S)
    before = [c for c in calm if c[0] < shock_ns]
    # the core quoted before the shock, so the comparison means something ...
    assert sum(any(q in c for q in _QUOTING) for _, c in before) > 10
    # ... and sent nothing during its calibration window ...
    assert calm[0][0] >= trade_from
    # ... every decision before the shock is the same with and without it (the shock is
    # off the price grid: a grid read from the whole session would already differ) ...
    assert [c for c in shocked if c[0] < shock_ns] == before
    # ... while the shock does change what came after (so this test can fail)
    assert [c for c in shocked if c[0] >= shock_ns] != [c for c in calm if c[0] >= shock_ns]
    # what the core had learned when it began trading is the same too
    cal = [d["walk_forward"]["sessions"][0]["calibration"] for d in (calm_doc, shock_doc)]
    assert cal[0] == cal[1] and cal[0]["sigma"] is not None


def _cli(args: list[str], capsys) -> tuple[int, str, str]:
    rc = main(["evaluate", *args])
    out, err = capsys.readouterr()
    return rc, out, err


def test_evaluate_when_run_twice_with_one_seed_writes_identical_files(tmp_path, capsys):
    data = write_market(tmp_path / "rec", 200)
    files = {}
    for name, seed in (("a", "7"), ("b", "7"), ("c", "8")):
        rc, _, err = _cli(["--data", str(data), "--out", str(tmp_path / name), "--seed", seed,
                           "--latency-jitter", "0.3", "--bootstrap", "100", "--jobs", "1",
                           "--grid", "avellaneda.gamma=0.05,0.2"], capsys)
        assert rc == 0, err
        files[name] = [(tmp_path / name / f).read_bytes()
                       for f in ("evaluation.json", "evaluation.html")]
    assert files["a"] == files["b"]
    assert files["a"][0] != files["c"][0]  # the seed does reach the run (jitter, bootstrap)
    doc = json.loads(files["a"][0])
    wf = doc["walk_forward"]
    assert wf["overall"]["metrics"]["fills"] > 0
    lo, hi = wf["overall"]["ci95"]["pnl"]
    assert lo <= wf["overall"]["metrics"]["pnl"] <= hi
    assert [p["params"] for p in doc["points"]] == [{"avellaneda.gamma": 0.05},
                                                   {"avellaneda.gamma": 0.2}]
    _assert_offline_uplot_charts(files["a"][1].decode(), sessions=len(wf["sessions"]))


def _assert_offline_uplot_charts(html: str, sessions: int) -> None:
    """evaluation.html is one offline file: uPlot and the chart code inlined, no script or
    stylesheet fetched; the equity, inventory and markout charts carry their data."""
    assert "uPlot" in html and "window.thalexCharts" in html  # library and charts.js inline
    assert re.search(r"<script[^>]*\bsrc\s*=", html) is None
    assert "<link" not in html and "@import" not in html
    assert re.search(r"(src|href)\s*=\s*[\"']?\s*(https?:)?//", html, re.I) is None
    data = {json.loads(m)["id"]: json.loads(m) for m in re.findall(
        r'<script type="application/json" data-chart="[a-z]+">(.*?)</script>', html)}
    assert sorted(data) == ["equity", "inventory", "markouts"]
    assert len(data["equity"]["series"]) == len(data["inventory"]["series"]) == sessions
    assert len(data["equity"]["x"]) > 1
    assert [s["label"] for s in data["markouts"]["series"]] == ["all", "buy", "sell"]


def _one_line_error(rc: int, err: str, *needles: str) -> None:
    assert rc == 2
    assert err.count("\n") == 1 and err.startswith("thalex-mm evaluate: "), err
    for n in needles:
        assert n in err, err


def test_evaluate_when_the_data_holds_nothing_exits_2_with_one_line(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "README").write_text("no market data here\n")
    rc, _, err = _cli(["--data", str(tmp_path / "empty"), "--out", str(tmp_path / "o")], capsys)
    _one_line_error(rc, err, "no supported data file", str(tmp_path / "empty"))
    assert not (tmp_path / "o").exists()


def test_evaluate_when_a_grid_key_is_unknown_exits_2_with_one_line(tmp_path, capsys):
    data = write_market(tmp_path / "rec", 130)
    rc, _, err = _cli(["--data", str(data), "--grid", "avellaneda.gama=0.1,0.2",
                       "--out", str(tmp_path / "o")], capsys)
    _one_line_error(rc, err, "avellaneda.gama")


def test_evaluate_when_a_session_is_too_short_to_calibrate_exits_2_with_one_line(
        tmp_path, capsys):
    data = write_market(tmp_path / "rec", 90)
    rc, _, err = _cli(["--data", str(data), "--out", str(tmp_path / "o")], capsys)
    _one_line_error(rc, err, "too short to calibrate", "--calibration-s 60", "need 120 s")


class _Seen:
    """A progress reporter recording ``(done, total)`` as the evaluation reports it."""

    def __init__(self, seen: list[tuple[float, float]], total: float) -> None:
        self.seen, self.total = seen, total

    def update(self, *, done: float, events: int | None = None, pnl: float | None = None) -> None:
        self.seen.append((done, self.total))

    def close(self) -> None:
        pass


def test_evaluate_when_run_on_two_processes_matches_one_and_reports_progress():
    seen: list[tuple[float, float]] = []
    docs = []
    for jobs in (1, 2):
        spec = EvaluationSpec(data=("synthetic:130:1", "synthetic:130:2"), config=BotConfig(),
                              bootstrap=50, jobs=jobs)
        doc, extras = run_evaluation(spec, progress=lambda title, total: _Seen(seen, total))
        docs.append(doc)
        assert len(extras["runs"]) == 2
    assert docs[0] == docs[1]
    total = seen[-1][1]
    assert seen[-1][0] == pytest.approx(total)
    assert any(0 < d < total for d, _ in seen)  # progress inside a running session too
