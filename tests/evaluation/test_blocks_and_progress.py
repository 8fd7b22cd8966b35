"""Block sums and bootstrap of the evaluation metrics (hand-made record), and the progress
lines when stderr is not a terminal."""

from __future__ import annotations

import io

import numpy as np
import pytest

from thalex_mm.evaluation.blocks import block_sums, bootstrap_metrics, metrics_from_sums
from thalex_mm.evaluation.progress import ProgressReporter
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
    p = ProgressReporter("evaluate", stream=out, interactive=False)
    for done in (5, 12, 13, 35, 100):
        p.update(done, 100)
    p.close()
    assert out.getvalue().splitlines() == ["evaluate: 12 % done", "evaluate: 35 % done",
                                           "evaluate: 100 % done"]
