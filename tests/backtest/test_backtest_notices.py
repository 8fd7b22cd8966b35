"""A backtest's report shows the core's halts and denials (its notices reach one sink, as live)."""

from __future__ import annotations

import json

from thalex_mm.backtest.api import run_backtest
from thalex_mm.backtest.runner import BacktestSettings
from thalex_mm.config.models import BotConfig


def _config(**risk: float) -> BotConfig:
    base = BotConfig()
    return base.model_copy(update={"risk": base.risk.model_copy(update=risk)})


def test_backtest_when_a_loss_limit_is_breached_report_counts_the_halt(tmp_path):
    # any drawdown from the PnL peak halts (a session-loss limit needs the run to be below its
    # start, which depends on the path the quotes take)
    out = run_backtest(["synthetic:60:1"], _config(max_drawdown_usd=1e-6), BacktestSettings(),
                       out_dir=tmp_path)
    written = json.loads((tmp_path / "summary.json").read_text())["counters"]
    assert written["halts"] == 1
    assert written["risk_events"] >= 1
    assert out.summary["counters"]["halts"] == 1


def test_backtest_when_orders_exceed_max_order_size_summary_counts_the_denials():
    cfg = _config(max_order_size=0.0005)
    # explicit sizes: an unset (relative) size would be capped at max_order_size (model.md §9)
    cfg = cfg.model_copy(update={"order": cfg.order.model_copy(update={"sizes": (0.01,)})})
    out = run_backtest(["synthetic:60:1"], cfg, BacktestSettings())
    counters = out.summary["counters"]
    assert counters["quote_denials"] > 0
    assert counters["commands"] == 0  # every quote was denied: nothing reached the engine
    assert counters["halts"] == 0


def test_backtest_when_nothing_is_refused_summary_shows_zero_halts_and_denials():
    counters = run_backtest(["synthetic:30:1"], BotConfig(), BacktestSettings()).summary["counters"]
    assert (counters["halts"], counters["quote_denials"], counters["order_denials"]) == (0, 0, 0)
