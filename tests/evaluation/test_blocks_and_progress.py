"""Block sums and bootstrap of the evaluation metrics (hand-made record), grid-point selection
from earlier sessions only, and the progress lines when stderr is not a terminal."""

from __future__ import annotations

import io

import numpy as np
import pytest

from thalex_mm.evaluation.blocks import block_sums, bootstrap_metrics, metrics_from_sums
from thalex_mm.evaluation.session_run import SessionRun
from thalex_mm.evaluation.walkforward import PlannedSession, select_points
from thalex_mm.progress import Progress
from thalex_mm.reports import RunRecord, compute_summary

S = 1_000_000_000
T0 = 1_700_000_000 * S


def _record() -> RunRecord:
    """100 s window; mid 100, then 101 from t=50 s (sampled again at 100 s); we buy 1 @ 99.5 at 10 s and sell 1 @ 101.5
    at 60 s; both sides quoted from 0 to 80 s."""
    return RunRecord(
        mid_ts_ns=[T0, T0 + 50 * S, T0 + 100 * S], mid_price=[100.0, 101.0, 101.0],
        quote_ts_ns=[T0, T0 + 80 * S], quote_bid=[99.5, np.nan], quote_ask=[101.5, np.nan],
        quote_fair_value=[np.nan, np.nan], quote_reservation=[np.nan, np.nan],
        fill_ts_ns=[T0 + 10 * S, T0 + 60 * S], fill_side=[1, -1], fill_price=[99.5, 101.5],
        fill_amount=[1.0, 1.0], fill_fee_quote=[0.0, 0.0], fill_is_maker=[True, True],
        start_ts_ns=T0, end_ts_ns=T0 + 100 * S)


def test_block_metrics_when_summed_equal_the_hand_computed_figures():
    rec = _record()
    blocks = block_sums(rec, 30.0)
    assert blocks.shape[0] == 4  # 30 + 30 + 30 + 10 s
    m = {k: float(v) for k, v in metrics_from_sums(blocks.sum(axis=0)).items()}
    assert m["pnl"] == pytest.approx(2.0) == compute_summary(rec)["pnl_total"]
    assert m["pnl_bps"] == pytest.approx(1e4 * 2.0 / 201.0)
    assert m["quote_uptime"] == pytest.approx(0.8)
    assert m["fills"] == 2 and m["fills_buy"] == 1 and m["volume"] == 2.0
    assert m["spread_captured"] == pytest.approx(0.5)  # 0.5 on each side
    assert m["spread_captured_buy"] == pytest.approx(0.5)
    assert m["markout_60s_buy"] == pytest.approx(1.5)  # 101 - 99.5
    assert np.isnan(m["markout_60s_sell"])  # 60 s after 60 s is past the last mid
    assert m["markout_1s_sell_bps"] == pytest.approx(1e4 * 0.5 / 101.5)


def test_bootstrap_when_seeded_is_reproducible_and_brackets_the_point():
    blocks = block_sums(_record(), 10.0)
    a = bootstrap_metrics([blocks], samples=300, rng=np.random.default_rng(5))
    b = bootstrap_metrics([blocks], samples=300, rng=np.random.default_rng(5))
    c = bootstrap_metrics([blocks], samples=300, rng=np.random.default_rng(6))
    assert a == b and a[1] != c[1]
    point, ci = a
    assert ci["pnl"][0] <= point["pnl"] <= ci["pnl"][1]
    assert ci["pnl"][0] < ci["pnl"][1]


def test_progress_when_not_a_terminal_writes_one_line_per_tenth():
    out = io.StringIO()
    p = Progress("evaluate", 100.0, stream=out, tty=False)
    for done in (5, 12, 13, 35, 100):
        p.update(done=done)
    p.close()
    lines = out.getvalue().splitlines()
    assert [line.split(",")[0] for line in lines] == ["evaluate  12%", "evaluate  35%",
                                                      "evaluate 100%"]


def _run(point: int, session: int, pnl: float, notional: float) -> SessionRun:
    from thalex_mm.evaluation.blocks import FIELDS

    blocks = np.zeros((1, len(FIELDS)))
    blocks[0, FIELDS.index("pnl")] = pnl
    blocks[0, FIELDS.index("notional")] = notional
    empty = np.zeros(0)
    return SessionRun(point=point, session=session, label=f"s{session}", blocks=blocks,
                      max_abs_position=0.0, summary={}, calibration=None, connected_at_ns=None,
                      start_ts_ns=0, trade_from_ns=0, end_ts_ns=0, tick_size=0.1,
                      equity_x_s=empty, equity=empty, position_x_s=empty, position=empty)


def test_grid_selection_when_a_session_overlaps_uses_only_sessions_that_ended_before_it():
    plans = [PlannedSession(label=f"s{i}", paths=(), start_ts_ns=a, trade_from_ns=b,
                            end_ts_ns=c)
             for i, (a, b, c) in enumerate([(0, 10, 100), (50, 60, 150), (200, 210, 300)])]
    # point 1 wins session 0, point 0 wins session 1 by far (session 1 overlaps session 0)
    runs = {(0, 0): _run(0, 0, -1.0, 100.0), (1, 0): _run(1, 0, 1.0, 100.0),
            (0, 1): _run(0, 1, 50.0, 100.0), (1, 1): _run(1, 1, -50.0, 100.0),
            (0, 2): _run(0, 2, 0.0, 1.0), (1, 2): _run(1, 2, 0.0, 1.0)}
    chosen = select_points(plans, runs, 2, "pnl_bps")
    assert chosen[0][0] == 0 and "no earlier session" in chosen[0][1]
    assert chosen[1][0] == 0 and "no earlier session" in chosen[1][1]  # s0 had not ended
    assert chosen[2][0] == 0 and "s0, s1" in chosen[2][1]  # pooled: +49 vs -49
    runs[(1, 2)] = _run(1, 2, 1e9, 1.0)  # how point 1 does on s2 itself cannot matter ...
    assert select_points(plans, runs, 2, "pnl_bps")[2][0] == 0
    runs[(1, 1)] = _run(1, 1, 50.0, 100.0)  # ... how it did on earlier sessions does
    assert select_points(plans, runs, 2, "pnl_bps")[2][0] == 1
