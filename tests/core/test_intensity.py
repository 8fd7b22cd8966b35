"""Intensity estimation: fit of λ(δ) = A·e^(−kδ), fallbacks, sweeps, recalibration schedule."""

from __future__ import annotations

import math

import numpy as np
import pytest

from thalex_mm.config.models import AvellanedaConfig
from thalex_mm.core.intensity import IntensityEstimator, IntensitySource, fit_intensity
from thalex_mm.core.types import Side

S = 1_000_000_000


def synthetic_trades(seed: int, A: float, k: float, window_s: float, mid_sigma: float = 0.5):
    """Synthetic market: per side Poisson arrivals at rate A, depth ~ Exp(k) from the mid.

    Returns a time-sorted list of (ts_ns, price, aggressor, mid_before); the mid is a random walk
    (σ per √s ``mid_sigma``) sampled at each trade.
    """
    rng = np.random.default_rng(seed)
    out = []
    for side in (Side.BUY, Side.SELL):
        n = rng.poisson(A * window_s)
        ts = rng.uniform(0.0, window_s, n)
        depth = rng.exponential(1.0 / k, n)
        for t, d in zip(ts, depth, strict=True):
            out.append((float(t), side, float(d)))
    out.sort(key=lambda x: x[0])
    mids = 50_000.0 + np.cumsum(rng.standard_normal(len(out)) * mid_sigma * math.sqrt(window_s / max(len(out), 1)))
    trades = []
    for (t, side, d), mid in zip(out, mids, strict=True):
        price = mid + d if side is Side.BUY else mid - d
        trades.append((int(t * S) + 1, float(price), side, float(mid)))
    return trades


@pytest.mark.parametrize(("seed", "a_true", "k"), [(1, 2.0, 0.5), (2, 2.0, 0.5), (3, 5.0, 1.5), (4, 1.0, 0.05)])
def test_intensity_estimator_when_synthetic_market_recovers_a_and_k_within_10pct(seed, a_true, k):
    cfg = AvellanedaConfig(A=99.0, k=99.0, intensity_window_s=600.0, intensity_min_trades=50)
    est = IntensityEstimator(cfg)
    est.start(0)
    for ts, price, side, mid in synthetic_trades(seed, a_true, k, 600.0):
        est.add_trade(ts, price, side, mid)
    got = est.recalibrate(600 * S)
    assert got.source is IntensitySource.FIT
    a_hat = got.A
    assert a_hat == pytest.approx(a_true, rel=0.10)
    assert got.k == pytest.approx(k, rel=0.10)
    assert got.r2 > 0.95
    assert got.samples == pytest.approx(2 * a_true * 600, rel=0.15)


def test_intensity_estimator_when_thin_market_falls_back_to_config():
    cfg = AvellanedaConfig(A=140.0, k=1.5, intensity_min_trades=50)
    est = IntensityEstimator(cfg)
    est.start(0)
    for ts, price, side, mid in synthetic_trades(5, 0.02, 1.0, 600.0):
        est.add_trade(ts, price, side, mid)
    got = est.recalibrate(600 * S)
    assert got.source is IntensitySource.DEFAULT_THIN
    assert (got.A, got.k) == (140.0, 1.5)
    assert got.samples < 50


def test_intensity_estimator_when_depths_all_zero_reports_bad_fit_and_defaults():
    cfg = AvellanedaConfig(A=140.0, k=1.5, intensity_min_trades=5)
    est = IntensityEstimator(cfg)
    for i in range(100):
        est.add_trade(i * S, 100.0, Side.BUY, 100.0)
    got = est.recalibrate(100 * S)
    assert got.source is IntensitySource.DEFAULT_BAD_FIT
    assert (got.A, got.k) == (140.0, 1.5)


def test_intensity_estimator_when_same_ts_trades_counts_one_sweep_at_deepest():
    cfg = AvellanedaConfig(intensity_min_trades=5)
    est = IntensityEstimator(cfg)
    est.add_trade(S, 101.0, Side.BUY, 100.0)
    est.add_trade(S, 103.0, Side.BUY, 100.0)
    est.add_trade(S, 98.0, Side.SELL, 100.0)
    assert list(est._orders) == [(S, Side.BUY, 3.0), (S, Side.SELL, 2.0)]


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
    cfg = AvellanedaConfig(intensity_window_s=10.0, intensity_min_trades=5)
    est = IntensityEstimator(cfg)
    for i in range(20):
        est.add_trade(i * S, 101.0, Side.BUY, 100.0)
    est.recalibrate(25 * S)
    assert est.current.samples == 5  # ts 15..19 s remain in [15, 25]


def test_fit_intensity_when_exact_exponential_counts_returns_exact_parameters():
    # depths placed at exact quantiles of Exp(k): counts at depth >= δ follow N·e^(−kδ)
    k, n, window = 0.8, 20_000, 100.0
    depths = [-math.log(1 - (i + 0.5) / n) / k for i in range(n)]
    a_hat, kk, r2, used = fit_intensity(depths, window)
    assert kk == pytest.approx(k, rel=0.01)
    assert a_hat == pytest.approx(n / (2 * window), rel=0.01)
    assert r2 > 0.999 and used == 10


def test_intensity_estimator_when_estimation_disabled_keeps_config_values():
    cfg = AvellanedaConfig(A=140.0, k=1.5, estimate_intensity=False, intensity_window_s=600.0)
    est = IntensityEstimator(cfg)
    est.start(0)
    for ts, price, side, mid in synthetic_trades(9, 2.0, 0.5, 600.0):
        est.add_trade(ts, price, side, mid)
    got = est.recalibrate(600 * S)
    assert got.source is IntensitySource.DISABLED
    assert (got.A, got.k) == (140.0, 1.5)
