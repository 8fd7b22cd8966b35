"""Intensity estimation in ticks: censored MLE of k, A, the market-learned prior, schedule."""

from __future__ import annotations

import math

import numpy as np
import pytest

from thalex_mm.config.models import AvellanedaConfig
from thalex_mm.core.intensity import (
    IntensityEstimator,
    IntensitySource,
    OrderReach,
    fit_k_per_tick,
)
from thalex_mm.core.types import Side

S = 1_000_000_000


def queue_market(seed: int, A: float, k_per_tick: float, tick: float, window_s: float,
                 spread_ticks: int = 1):
    """A tick-constrained market with censoring at the touch.

    Per side, market orders arrive at rate A; each has a reach R ~ Exp(k) from the mid
    (k = k_per_tick / tick). The book has a level at every tick from the touch outwards; the
    touch is ``spread_ticks / 2`` ticks from the mid. An order with R below the touch never
    prints (censored); otherwise it prints at the deepest level within its reach.

    Returns:
        time-sorted ``(ts_ns, price, aggressor, mid_before, touch_before)``.
    """
    rng = np.random.default_rng(seed)
    k = k_per_tick / tick
    h = 0.5 * spread_ticks * tick
    out = []
    for side in (Side.BUY, Side.SELL):
        n = rng.poisson(A * window_s)
        ts = np.sort(rng.uniform(0.0, window_s, n))
        reach = rng.exponential(1.0 / k, n)
        for t, r in zip(ts, reach, strict=True):
            out.append((float(t), side, float(r)))
    out.sort(key=lambda x: x[0])
    # the mid walks on its grid (half ticks for an odd spread, whole ticks for an even one)
    steps = rng.integers(-1, 2, len(out))
    base = 50_000.0 if spread_ticks % 2 == 0 else 50_000.0 + 0.5 * tick
    mids = base + np.cumsum(steps) * tick
    trades = []
    for (t, side, r), mid in zip(out, mids, strict=True):
        if r < h:
            continue  # did not reach the touch: no print
        depth = h + math.floor((r - h) / tick + 1e-9) * tick
        sign = 1.0 if side is Side.BUY else -1.0
        trades.append((int(t * S) + 1, round(mid + sign * depth, 8), side, float(mid),
                       round(mid + sign * h, 8)))
    return trades


def feed(est: IntensityEstimator, trades) -> None:
    est.start(0)
    for ts, price, side, mid, touch in trades:
        est.add_trade(ts, price, side, mid, touch)


@pytest.mark.parametrize(("seed", "tick", "a_true", "k_tick", "spread"), [
    (1, 0.1, 2.0, 0.3, 1),
    (2, 1.0, 3.0, 0.8, 1),
    (3, 0.01, 1.5, 0.5, 1),
    (4, 0.5, 2.0, 0.4, 2),
])
def test_intensity_estimator_when_queue_market_recovers_a_and_k_within_10pct(seed, tick, a_true, k_tick, spread):
    est = IntensityEstimator(AvellanedaConfig(intensity_window_s=1200.0), tick_size=tick)
    feed(est, queue_market(seed, a_true, k_tick, tick, 1200.0, spread_ticks=spread))
    got = est.recalibrate(1200 * S)
    assert got.source is IntensitySource.FIT
    assert got.k_per_tick == pytest.approx(k_tick, rel=0.10)
    assert got.k == pytest.approx(k_tick / tick, rel=0.10)
    assert got.A_market == pytest.approx(a_true, rel=0.10)
    # a quote waiting at its price fills on orders reaching one tick further
    assert pytest.approx(got.A_market * math.exp(-got.k_per_tick), rel=1e-9) == got.A
    assert got.confidence > 0.9
    assert 0.0 < got.k_rel_se < 0.1


def test_intensity_estimator_when_most_trades_at_the_touch_still_fits_and_is_not_frozen():
    # the issue-13 market: one tick wide, ~85 % of the orders print at the touch (k = 2/tick)
    tick = 0.1
    cfg = AvellanedaConfig(A=3.0, k=0.4, intensity_min_trades=10, intensity_window_s=1200.0)
    est = IntensityEstimator(cfg, tick_size=tick)
    feed(est, queue_market(7, 4.0, 2.0, tick, 1200.0))
    got = est.recalibrate(1200 * S)
    assert got.source is IntensitySource.FIT
    assert got.k_per_tick == pytest.approx(2.0, rel=0.15)
    assert got.k != 0.4


def test_intensity_estimator_when_market_prints_inside_the_touch_uses_every_order():
    # the synthetic AS world: every order prints at its limit, no queue, no truncation
    rng = np.random.default_rng(11)
    tick, a_true, k = 1.0, 2.0, 0.5  # k per quote currency
    est = IntensityEstimator(AvellanedaConfig(), tick_size=tick)
    est.start(0)
    rows = []
    for side in (Side.BUY, Side.SELL):
        n = rng.poisson(a_true * 900)
        for t, d in zip(rng.uniform(0, 900, n), rng.exponential(1 / k, n), strict=True):
            rows.append((int(t * S) + 1, side, float(d)))
    rows.sort(key=lambda r: r[0])
    mid = 65_000.3
    for ts, side, d in rows:
        limit = mid + d if side is Side.BUY else mid - d
        price = math.floor(limit) if side is Side.BUY else math.ceil(limit)
        touch = math.ceil(mid) + 5 if side is Side.BUY else math.floor(mid) - 5
        est.add_trade(ts, float(price), side, mid, float(touch))
    got = est.recalibrate(900 * S)
    assert got.k == pytest.approx(k, rel=0.10)
    assert pytest.approx(a_true, rel=0.10) == got.A
    assert got.A_market == got.A


def test_intensity_estimator_when_no_trades_uses_prior_learned_from_one_tick_market():
    est = IntensityEstimator(AvellanedaConfig(A=3.0, k=0.4), tick_size=0.5)
    est.start(0)
    got = est.recalibrate(600 * S)
    assert got.source is IntensitySource.PRIOR
    assert got.confidence == 0.0
    assert got.k_per_tick == pytest.approx(math.log(2.0))  # reach one spread beyond the touch
    assert got.k == pytest.approx(math.log(2.0) / 0.5)
    assert got.A < 3.0  # a quiet window lowers A from the configured centre


def test_intensity_estimator_when_spread_is_wide_prior_k_is_lower():
    est = IntensityEstimator(AvellanedaConfig(), tick_size=1.0)
    est.start(0)
    for i in range(10):  # four-tick spread, touch prints only
        est.add_trade(i * S, 102.0, Side.BUY, 100.0, 102.0)
    got = est.recalibrate(10 * S)
    assert got.prior_k_per_tick == pytest.approx(math.log1p(1 / 4.0))
    assert got.source is IntensitySource.PRIOR  # no order traded through the touch


def test_intensity_estimator_when_few_orders_shrinks_between_prior_and_data():
    tick = 1.0
    est = IntensityEstimator(AvellanedaConfig(intensity_min_trades=50), tick_size=tick)
    trades = queue_market(5, 0.1, 0.2, tick, 200.0)
    feed(est, trades)
    got = est.recalibrate(300 * S)
    assert got.source is IntensitySource.PRIOR
    assert 0.0 < got.confidence < 0.5
    lo, hi = sorted((got.fitted_k * tick, got.prior_k_per_tick))
    assert lo < got.k_per_tick < hi


def test_intensity_estimator_when_tick_unknown_reports_initial_config_values():
    est = IntensityEstimator(AvellanedaConfig(A=7.0, k=0.9))
    est.add_trade(S, 101.0, Side.BUY, 100.0, 101.0)
    got = est.recalibrate(10 * S)
    assert got.source is IntensitySource.DEFAULT_INITIAL
    assert (got.A, got.k) == (7.0, 0.9)


def test_intensity_estimator_when_estimation_disabled_keeps_config_values():
    cfg = AvellanedaConfig(A=140.0, k=1.5, estimate_intensity=False)
    est = IntensityEstimator(cfg, tick_size=0.1)
    feed(est, queue_market(9, 2.0, 0.5, 0.1, 600.0))
    got = est.recalibrate(600 * S)
    assert got.source is IntensitySource.DISABLED
    assert (got.A, got.k) == (140.0, 1.5)


def test_intensity_estimator_when_same_ts_trades_counts_one_sweep_at_deepest():
    est = IntensityEstimator(AvellanedaConfig())
    est.add_trade(S, 101.0, Side.BUY, 100.0, 101.0)
    est.add_trade(S, 103.0, Side.BUY, 100.0, 101.0)
    est.add_trade(S, 98.0, Side.SELL, 100.0, 99.0)
    assert [(o[1], o[2]) for o in est._orders] == [(Side.BUY, 3.0), (Side.SELL, 2.0)]


def test_intensity_estimator_when_trade_without_mid_skips_it():
    est = IntensityEstimator(AvellanedaConfig())
    est.add_trade(S, 101.0, Side.BUY, None)
    assert len(est._orders) == 0


def test_intensity_estimator_when_interval_not_elapsed_does_not_recalibrate():
    cfg = AvellanedaConfig(recalibrate_interval_s=30.0)
    est = IntensityEstimator(cfg)
    assert est.current.source is IntensitySource.DEFAULT_INITIAL
    assert est.maybe_recalibrate(100 * S)
    assert est.next_calibration_ns() == 130 * S
    assert not est.maybe_recalibrate(129 * S)
    assert est.maybe_recalibrate(130 * S)
    assert est.current.calibrated_ts_ns == 130 * S


def test_intensity_estimator_when_orders_age_out_of_window_drops_them():
    cfg = AvellanedaConfig(intensity_window_s=10.0)
    est = IntensityEstimator(cfg, tick_size=1.0)
    for i in range(20):
        est.add_trade(i * S, 103.0, Side.BUY, 100.0, 101.0)
    est.recalibrate(25 * S)
    assert est.current.samples == 5  # ts 15..19 s remain in [15, 25]


def test_intensity_estimator_when_fitted_part_of_the_time_reports_that_fraction():
    tick = 0.1
    est = IntensityEstimator(AvellanedaConfig(intensity_window_s=600.0), tick_size=tick)
    assert est.fitted_fraction is None
    est.recalibrate(0)
    est.note_quote(0)  # prior in use for [0, 100 s)
    feed(est, queue_market(3, 3.0, 0.5, tick, 100.0))
    est.recalibrate(100 * S)
    assert est.current.source is IntensitySource.FIT
    est.note_quote(100 * S)  # fitted in use for [100, 400 s)
    est.note_quote(400 * S)
    assert est.fitted_fraction == pytest.approx(0.75)


def test_fit_k_per_tick_when_geometric_excess_matches_closed_form():
    # interval width 1 tick, no truncation effect: MLE is ln(1 + 1/mean excess)
    reaches = [OrderReach(lower_ticks=float(a), upper_ticks=a + 1.0, truncation_ticks=0.0)
               for a in [0] * 50 + [1] * 30 + [2] * 20]
    k, info = fit_k_per_tick(reaches)
    assert k == pytest.approx(math.log1p(1 / 0.7), rel=1e-6)
    assert info > 0


def test_fit_k_per_tick_when_only_touch_prints_and_no_prior_is_not_identified():
    reaches = [OrderReach(lower_ticks=0.5, upper_ticks=1.5, truncation_ticks=0.5)] * 20
    assert fit_k_per_tick(reaches) is None
    k, _ = fit_k_per_tick(reaches, prior_excess_ticks=1.0, prior_orders=20)
    assert 0.0 < k < 50.0
