"""The multi-session top-level report plots equity and inventory over all sessions."""

from __future__ import annotations

import json
import re

import pytest

from thalex_mm.backtest.api import run_backtest
from thalex_mm.backtest.runner import BacktestSettings
from thalex_mm.config.models import BotConfig
from thalex_mm.reports import RunRecord, concatenated_curves, render_sessions_html

S = 1_000_000_000
DAY = 86_400 * S


def _rec(t0: int, mids: list[float], fills: list[tuple[int, int, float, float]]) -> RunRecord:
    return RunRecord(
        mid_ts_ns=[t0 + i * S for i in range(len(mids))], mid_price=mids,
        fill_ts_ns=[t0 + f[0] * S for f in fills], fill_side=[f[1] for f in fills],
        fill_price=[f[2] for f in fills], fill_amount=[f[3] for f in fills],
        fill_fee_quote=[0.0] * len(fills), fill_is_maker=[True] * len(fills),
        start_ts_ns=t0, end_ts_ns=t0 + (len(mids) - 1) * S,
    )  # fmt: skip


def test_curves_are_laid_end_to_end_in_time_order_with_cumulative_equity():
    # early: buy 1 @ 100 at 1 s, mid ends at 104 → equity +4 after 10 s
    early = _rec(10 * DAY, [100.0] * 5 + [104.0] * 6, [(1, 1, 100.0, 1.0)])
    # late (400 days later): sell 2 @ 50 at 2 s, mid ends 49 → +2 after 4 s
    late = _rec(410 * DAY, [50.0, 50.0, 50.0, 49.0, 49.0], [(2, -1, 50.0, 2.0)])
    curves = concatenated_curves([("late", late), ("early", early)])
    assert [c.label for c in curves] == ["early", "late"]
    a, b = curves
    assert (a.offset_s, b.offset_s) == (0.0, 10.0)
    assert a.equity[-1] == pytest.approx(4.0) and a.equity_x_s[-1] == pytest.approx(10.0)
    assert b.equity[0] == pytest.approx(4.0)  # carries the earlier session's equity
    assert b.equity[-1] == pytest.approx(6.0) and b.equity_x_s[-1] == pytest.approx(14.0)
    assert b.position_x_s[0] == pytest.approx(10.0) and b.position[-1] == -2.0
    assert a.position[0] == 0.0 and a.position[-1] == 1.0
    html = render_sessions_html({"sessions": 2, "pnl_total": 6.0},
                                [("late", late), ("early", early)])
    for name in ("plot-equity", "plot-inventory"):
        assert f'id="{name}"' in html
    assert html.index('href="early/report.html"') < html.index('href="late/report.html"')


def test_multi_session_backtest_report_has_aggregate_plots(tmp_path):
    out = tmp_path / "bt"
    res = run_backtest(["synthetic:20:1", "synthetic:20:2"], BotConfig(), BacktestSettings(),
                       out_dir=out, strip_timing=True)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["sessions"] == 2
    html = (out / "report.html").read_text()
    for name in ("equity", "inventory"):
        block = re.search(rf'data-chart="{name}">(.*?)</script>', html)
        assert block is not None, name
        data = json.loads(block.group(1))
        assert len(data["series"]) == 2 and data["x_label"].startswith("simulated time")
        # each session's series has values only on its own stretch of the shared x
        filled = [[v is not None for v in s["values"]] for s in data["series"]]
        assert any(filled[0]) and any(filled[1])
        assert not any(a and b for a, b in zip(*filled, strict=True))
    for label, _, _ in res.sessions:
        assert f'href="{label}/report.html"' in html
