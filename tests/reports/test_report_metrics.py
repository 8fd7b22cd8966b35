"""Metrics on hand-built runs with numbers worked out by hand (see the comments)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thalex_mm.core.types import Side
from thalex_mm.reports import (
    MIN_SHARPE_INTERVALS,
    SHARPE_INTERVAL_S,
    RunRecord,
    RunRecorder,
    average_cost_pnl,
    compute_summary,
    equity_at,
    equity_curve,
    markouts,
    max_drawdown,
    quote_uptime,
    sharpe_ratio,
    time_weighted_abs_position,
)

S = 1_000_000_000


def _two_fill_run() -> RunRecord:
    """Mids 100@0s 101@1s 102@2s 100@3s 103@11.5s 104@12s; buy 2@100.5 (fee 0.1) at 0.5 s,
    sell 1@102 (rebate 0.05) at 1.5 s; funding paid 0.3 at 5 s."""
    rec = RunRecorder(instrument="BTC-PERPETUAL", config={"gamma": 0.1})
    for t_s, px in ((0, 100.0), (1, 101.0), (2, 102.0), (3, 100.0), (11.5, 103.0), (12, 104.0)):
        rec.on_mid(int(t_s * S), px)
    rec.on_fill(S // 2, Side.BUY, 100.5, 2.0, 0.1, True)
    rec.on_fill(3 * S // 2, -1, 102.0, 1.0, -0.05, False)
    rec.on_funding(5 * S, -0.3)
    return rec.finish(events=1000, wall_seconds=0.5)


def test_summary_when_two_fills_gives_hand_computed_pnl():
    s = compute_summary(_two_fill_run())
    # position 1 left at average cost 100.5; last mid 104
    assert s["pnl_realised"] == pytest.approx(1.5, abs=1e-12)  # 1 · (102 − 100.5)
    assert s["pnl_unrealised"] == pytest.approx(3.5, abs=1e-12)  # 1 · (104 − 100.5)
    assert s["fees"] == pytest.approx(0.05, abs=1e-12)  # 0.1 − 0.05
    assert s["funding"] == pytest.approx(-0.3, abs=1e-12)
    assert s["pnl_total"] == pytest.approx(1.5 + 3.5 - 0.05 - 0.3, abs=1e-12)
    assert s["fills"] == 2 and s["fills_buy"] == 1 and s["fills_sell"] == 1
    assert s["fills_maker"] == 1
    assert s["volume"] == 3.0
    assert s["notional_volume"] == pytest.approx(2 * 100.5 + 102.0)
    assert s["final_position"] == 1.0
    assert s["max_abs_position"] == 2.0
    assert s["seconds_simulated"] == 12.0
    assert s["events"] == 1000 and s["events_per_second"] == 2000.0
    assert s["instrument"] == "BTC-PERPETUAL"


def test_summary_when_two_fills_gives_hand_computed_markouts():
    s = compute_summary(_two_fill_run())
    # 1 s: buy → mid(1.5)=101: +0.5 (×2); sell → mid(2.5)=102: 0 (×1) → 1/3
    assert s["markout_1s"] == pytest.approx(1 / 3, abs=1e-12)
    # 10 s: buy → mid(10.5)=100: −0.5 (×2); sell → mid(11.5)=103 (exact time counts): −1
    assert s["markout_10s"] == pytest.approx(-2 / 3, abs=1e-12)
    # 60 s: beyond the last mid for every fill
    assert s["markout_60s"] is None


def test_drawdown_when_two_fills_is_peak_2_95_to_trough_0_65():
    # equity: 0, −1.1, 0.9, 1.95, 2.95, 0.95 (3 s), 0.65 (5 s, funding), 3.65, 4.65
    ts, eq = equity_curve(_two_fill_run())
    assert ts[0] == 0 and ts[-1] == 12 * S
    assert eq[-1] == pytest.approx(4.65, abs=1e-12)
    assert compute_summary(_two_fill_run())["max_drawdown"] == pytest.approx(2.3, abs=1e-12)


def test_time_weighted_position_when_two_fills_matches_step_integral():
    # |pos| 0 on [0, .5), 2 on [.5, 1.5), 1 on [1.5, 12] → (2 + 10.5) / 12
    assert time_weighted_abs_position(_two_fill_run()) == pytest.approx(12.5 / 12, abs=1e-12)


def test_max_drawdown_of_known_curve():
    assert max_drawdown(np.array([1.0, 3.0, 2.0, 5.0, 1.5, 4.0, 0.5, 6.0])) == 4.5
    assert max_drawdown(np.array([1.0, 2.0, 3.0])) == 0.0
    assert max_drawdown(np.array([])) == 0.0


def test_quote_uptime_when_sides_come_and_go():
    # window 0..10 s; both [2,5) and [8,10) = 5 s; bid same; ask [2,7) and [8,10) = 7 s
    rec = RunRecorder()
    rec.on_quote(2 * S, 99.0, 101.0)
    rec.on_quote(5 * S, None, 101.0)
    rec.on_quote(7 * S, None, float("nan"))
    rec.on_quote(8 * S, 99.5, 100.5, 100.0, 99.9)
    r = rec.finish(start_ts_ns=0, end_ts_ns=10 * S)
    assert quote_uptime(r) == pytest.approx((0.5, 0.5, 0.7), abs=1e-12)
    s = compute_summary(r)
    assert (s["quote_uptime"], s["quote_uptime_bid"], s["quote_uptime_ask"]) == pytest.approx(
        (0.5, 0.5, 0.7)
    )


def test_average_cost_when_position_crosses_zero():
    rec = RunRecorder()
    rec.on_fill(1, 1, 100.0, 1.0)
    rec.on_fill(2, 1, 102.0, 1.0)  # long 2 @ 101
    rec.on_fill(3, -1, 103.0, 1.0)  # realise +2, long 1 @ 101
    rec.on_fill(4, -1, 111.0, 3.0)  # realise +10, short 2 @ 111
    rec.on_fill(5, 1, 106.0, 2.0)  # realise +10, flat
    realised, pos, avg = average_cost_pnl(rec.finish())
    assert realised == pytest.approx(22.0, abs=1e-12)
    assert pos == 0.0 and math.isnan(avg)


def test_sharpe_when_known_equity_changes_on_1s_grid():
    # long 1 from 100 (initial position), no fills: equity = mid − 100 → 0,1,3,2,6
    r = RunRecord(
        mid_ts_ns=np.arange(5) * S,
        mid_price=[100.0, 101.0, 103.0, 102.0, 106.0],
        initial_position=1.0,
        initial_price=100.0,
    )
    sharpe, grid = sharpe_ratio(r, 1.0, min_intervals=2)
    changes = np.array([1.0, 2.0, -1.0, 4.0])
    expected = 1.5 / math.sqrt(13 / 3)  # per interval, not annualised
    assert changes.mean() == 1.5
    assert grid == 1.0
    assert sharpe == pytest.approx(expected, rel=1e-12)
    assert sharpe_ratio(r, 1.0, min_intervals=5)[0] is None  # only 4 intervals
    assert compute_summary(r)["pnl_unrealised"] == pytest.approx(6.0)


def _minute_walk(n_minutes: int, seed: int = 4) -> RunRecord:
    rng = np.random.default_rng(seed)
    mids = 100.0 + np.cumsum(np.r_[0.0, rng.normal(0.05, 1.0, n_minutes)])
    return RunRecord(mid_ts_ns=np.arange(n_minutes + 1) * 60 * S, mid_price=mids,
                     initial_position=1.0, initial_price=100.0)


def test_sharpe_at_a_fixed_minute_grid_needs_min_intervals_and_is_not_annualised():
    assert (SHARPE_INTERVAL_S, MIN_SHARPE_INTERVALS) == (60.0, 30)
    short = _minute_walk(MIN_SHARPE_INTERVALS - 1)  # 29 one-minute intervals: too few
    s = compute_summary(short, sharpe_grid_s=SHARPE_INTERVAL_S)
    assert s["sharpe"] is None and s["sharpe_grid_s"] == 60.0
    long = _minute_walk(MIN_SHARPE_INTERVALS + 10)
    changes = np.diff(long.mid_price)
    expected = changes.mean() / changes.std(ddof=1)
    s = compute_summary(long, sharpe_grid_s=SHARPE_INTERVAL_S)
    assert s["sharpe"] == pytest.approx(expected, rel=1e-12)
    assert abs(s["sharpe"]) < 2  # a per-minute ratio, not ×sqrt(minutes per year)


def test_sharpe_when_flat_equity_is_none():
    r = RunRecord(mid_ts_ns=np.arange(10) * S, mid_price=np.full(10, 100.0))
    assert sharpe_ratio(r, 1.0)[0] is None


def test_markout_when_fill_precedes_all_mids_at_horizon_is_excluded():
    # fill at 0 s, first mid at 5 s: the 1 s horizon has no mid yet; 10 s sees 95 (sell: +5)
    r = RunRecord(
        mid_ts_ns=[5 * S, 20 * S], mid_price=[95.0, 90.0],
        fill_ts_ns=[0], fill_side=[-1], fill_price=[100.0], fill_amount=[1.0],
        fill_fee_quote=[0.0], fill_is_maker=[True],
    )  # fmt: skip
    assert markouts(r, (1.0, 10.0, 30.0)) == {
        "markout_1s": None,
        "markout_10s": 5.0,
        "markout_30s": None,
    }


def test_summary_when_empty_run_has_zeros_and_nulls():
    s = compute_summary(RunRecord())
    assert s["fills"] == 0 and s["volume"] == 0.0 and s["pnl_total"] == 0.0
    assert s["pnl_realised"] == 0.0 and s["pnl_unrealised"] == 0.0
    assert s["max_drawdown"] == 0.0 and s["sharpe"] is None
    assert s["markout_1s"] is None and s["quote_uptime"] is None
    assert s["events_per_second"] is None and s["seconds_simulated"] == 0.0


def test_summary_when_mids_but_no_fills_has_zero_pnl_and_zero_uptime():
    r = RunRecord(mid_ts_ns=np.arange(100) * S, mid_price=100.0 + np.arange(100.0))
    s = compute_summary(r)
    assert s["pnl_total"] == 0.0 and s["max_drawdown"] == 0.0
    assert s["quote_uptime"] == 0.0 and s["time_weighted_abs_position"] == 0.0
    assert s["requotes"] is None and s["rejects"] is None


def test_summary_values_are_plain_python_numbers():
    s = compute_summary(_two_fill_run())
    for k, v in s.items():
        assert v is None or type(v) in (int, float, str, dict), (k, type(v))
        if isinstance(v, float):
            assert math.isfinite(v), k


def test_recorder_counts_requotes_rejects_and_named_counters():
    rec = RunRecorder()
    rec.count_requote()
    rec.count_requote(4)
    rec.count_reject()
    rec.count("halts", 2)
    s = compute_summary(rec.finish())
    assert (s["requotes"], s["rejects"], s["counters"]) == (5, 1, {"halts": 2})


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"mid_ts_ns": [1, 2], "mid_price": [1.0]}, "mid_price"),
        ({"mid_ts_ns": [2, 1], "mid_price": [1.0, 1.0]}, "non-decreasing"),
        (
            dict(fill_ts_ns=[1], fill_side=[0], fill_price=[1.0], fill_amount=[1.0],
                 fill_fee_quote=[0.0], fill_is_maker=[True]),
            "fill_side[0]",
        ),
        (
            dict(fill_ts_ns=[1], fill_side=[1], fill_price=[1.0], fill_amount=[0.0],
                 fill_fee_quote=[0.0], fill_is_maker=[True]),
            "fill_amount[0]",
        ),
        ({"start_ts_ns": 5, "end_ts_ns": 4}, "end_ts_ns"),
    ],
)  # fmt: skip
def test_run_record_when_bad_input_raises_naming_field(kwargs, needle):
    with pytest.raises(ValueError, match=None) as exc:
        RunRecord(**kwargs)
    assert needle in str(exc.value)


@settings(max_examples=60, deadline=None)
@given(
    fills=st.lists(
        st.tuples(
            st.integers(0, 100),
            st.sampled_from([-1, 1]),
            st.floats(90, 110),
            st.floats(0.01, 5),
            st.floats(-0.1, 0.1),
        ),
        max_size=30,
    ),
    mids=st.lists(st.tuples(st.integers(0, 100), st.floats(90, 110)), min_size=1, max_size=30),
    funding=st.lists(st.tuples(st.integers(0, 100), st.floats(-1, 1)), max_size=5),
)
def test_pnl_total_equals_final_equity_for_any_run(fills, mids, funding):
    fills, mids, funding = sorted(fills), sorted(mids), sorted(funding)
    rec = RunRecorder()
    for t, px in mids:
        rec.on_mid(t * S, px)
    for t, side, px, amt, fee in fills:
        rec.on_fill(t * S, side, px, amt, fee)
    for t, amt in funding:
        rec.on_funding(t * S, amt)
    r = rec.finish()
    s = compute_summary(r)
    end = r.window_ns[1]
    assert s["pnl_total"] == pytest.approx(float(equity_at(r, np.array([end]))[0]), abs=1e-7)
    assert s["max_drawdown"] >= 0.0
    assert s["max_abs_position"] >= abs(s["final_position"]) - 1e-12


@pytest.mark.parametrize(("duration_s", "interval_s"), [
    (20.0, 1.0), (60.0, 1.0), (450.0, 5.0), (45 * 60.0, 30.0), (86_400.0, 900.0)])
def test_adaptive_sharpe_interval_when_run_length_varies_gives_at_most_100_intervals(
        duration_s, interval_s):
    from thalex_mm.reports.metrics import adaptive_sharpe_interval_s

    assert adaptive_sharpe_interval_s(duration_s) == interval_s


def test_sharpe_by_default_when_a_short_paper_run_has_a_minute_of_data_is_defined():
    r = RunRecord(mid_ts_ns=np.arange(61) * S, mid_price=100.0 + np.sin(np.arange(61.0)),
                  initial_position=1.0, initial_price=100.0)
    s = compute_summary(r)
    assert s["sharpe_grid_s"] == 1.0 and s["sharpe"] is not None
    tiny = RunRecord(mid_ts_ns=np.arange(21) * S, mid_price=100.0 + np.sin(np.arange(21.0)),
                     initial_position=1.0, initial_price=100.0)
    assert compute_summary(tiny)["sharpe"] is None  # 20 intervals of 1 s: too few


def test_spread_captured_markouts_by_side_and_pnl_bps_when_fills_have_known_edges():
    r = RunRecord(
        mid_ts_ns=np.array([0, 5, 12, 20]) * S, mid_price=np.array([100.0, 100.0, 101.0, 101.0]),
        fill_ts_ns=np.array([1, 2]) * S, fill_side=np.array([1, -1]),
        fill_price=np.array([99.0, 100.5]), fill_amount=np.array([1.0, 3.0]),
        fill_fee_quote=np.zeros(2), fill_is_maker=np.ones(2, dtype=bool))
    s = compute_summary(r)
    # edge at the fill: buy 100-99 = 1, sell 100.5-100 = 0.5; weighted (1*1 + 3*0.5)/4
    assert s["spread_captured"] == pytest.approx(0.625)
    assert s["markouts_by_side"]["buy"]["markout_10s"] == pytest.approx(1.0)   # t=11: 100 - 99
    assert s["markouts_by_side"]["sell"]["markout_10s"] == pytest.approx(-0.5)  # t=12: 100.5 - 101
    assert s["markouts_by_side"]["sell"]["markout_60s"] is None
    notional = 99.0 + 3 * 100.5
    assert s["pnl_bps_of_notional"] == pytest.approx(s["pnl_total"] / notional * 1e4)
