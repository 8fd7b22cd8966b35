"""Volatility estimators, trend / mean-reversion signals, regime, TechnicalAnalysis warm-up."""

from __future__ import annotations

import math

import numpy as np
import pytest

from thalex_mm.config.models import TechnicalConfig, VolatilityEstimator
from thalex_mm.core.signals import (
    MeanReversionSignal,
    Regime,
    TrendSignal,
    classify_regime,
    variance_ratio,
)
from thalex_mm.core.technical import TechnicalAnalysis
from thalex_mm.core.volatility import (
    SECONDS_PER_YEAR,
    EwmaVolatility,
    GridSampler,
    ParkinsonVolatility,
    RealisedVolatility,
)

S = 1_000_000_000
SIGMA = 5e-4  # log-return σ per √s (≈ 89 % annualised)


def tick_path(seed: int, seconds: int = 10_000, ticks_per_s: int = 4, sigma: float = SIGMA):
    """Irregular ticks (uniform times) of a driftless log random walk with σ per √s."""
    rng = np.random.default_rng(seed)
    n = seconds * ticks_per_s
    ts = np.sort(rng.uniform(0, seconds, n))
    dts = np.diff(ts, prepend=0.0)
    logp = np.log(50_000.0) + np.cumsum(rng.standard_normal(n) * sigma * np.sqrt(dts))
    return (ts * S).astype(np.int64).tolist(), np.exp(logp).tolist()


def grid_returns(seed: int, n: int = 10_000, sigma: float = SIGMA, dt: float = 1.0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(n) * sigma * math.sqrt(dt)).tolist()


def test_grid_sampler_when_ticks_irregular_carries_last_price_to_grid_points():
    g = GridSampler(1.0)
    assert g.update(0, 100.0) == []
    assert g.update(int(0.5 * S), 101.0) == []
    # grid point 1 s gets 101 (last price before it); 2 s carries 101 forward; 3 s gets 102 (ts == grid)
    out = g.update(3 * S, 102.0)
    assert out == pytest.approx([math.log(101 / 100), 0.0, math.log(102 / 101)])
    assert g.advance(5 * S) == pytest.approx([0.0, 0.0])


def test_grid_sampler_when_gap_exceeds_max_restarts_without_returns():
    g = GridSampler(1.0, max_gap_s=10.0)
    g.update(0, 100.0)
    assert g.update(100 * S, 120.0) == []
    assert g.update(101 * S, 121.0) == pytest.approx([math.log(121 / 120)])


@pytest.mark.parametrize("seed", [1, 2])
def test_ewma_volatility_when_10000_ticks_known_sigma_recovers_within_5pct(seed):
    ts, px = tick_path(seed)
    g = GridSampler(1.0)
    est = EwmaVolatility(1.0, halflife_s=3000.0)
    for t, p in zip(ts, px, strict=True):
        for r in g.update(t, p):
            est.add(r)
    assert est.count >= 9_990
    assert est.sigma_per_sqrt_s() == pytest.approx(SIGMA, rel=0.05)


@pytest.mark.parametrize("seed", [3, 4])
def test_realised_volatility_when_10000_returns_known_sigma_recovers_within_5pct(seed):
    est = RealisedVolatility(dt_s=0.5, window_s=5_000.0)
    for r in grid_returns(seed, dt=0.5):
        est.add(r)
    assert est.samples == 10_000
    assert est.sigma_per_sqrt_s() == pytest.approx(SIGMA, rel=0.05)


@pytest.mark.parametrize("seed", [5, 6])
def test_parkinson_volatility_when_10000_bars_known_sigma_recovers_within_5pct(seed):
    rng = np.random.default_rng(seed)
    bar_s, sub = 10.0, 2000
    est = ParkinsonVolatility(bar_s, window_bars=10_000)
    for _ in range(10):  # 1000 bars per chunk
        steps = rng.standard_normal((1000, sub)) * SIGMA * math.sqrt(bar_s / sub)
        paths = np.concatenate([np.zeros((1000, 1)), np.cumsum(steps, axis=1)], axis=1)
        for hi, lo in zip(np.exp(paths.max(axis=1)), np.exp(paths.min(axis=1)), strict=True):
            est.add_bar(float(hi), float(lo))
    assert est.samples == 10_000
    assert est.sigma_per_sqrt_s() == pytest.approx(SIGMA, rel=0.05)


def test_parkinson_when_fed_ticks_closes_bars_on_time_with_carried_open():
    est = ParkinsonVolatility(10.0, window_bars=5)
    est.update(0, 100.0)
    est.update(3 * S, 104.0)
    est.update(5 * S, 98.0)
    assert est.samples == 0
    est.update(12 * S, 99.0)  # closes bar [0, 10): range 98..104; new bar opens at 98
    assert est.samples == 1
    expected = math.sqrt(math.log(104 / 98) ** 2 / (4 * math.log(2)) / 10.0)
    assert est.sigma_per_sqrt_s() == pytest.approx(expected)
    est.update(20 * S, 99.0)  # closes bar [10, 20): range min(98, 99)..max(98, 99)
    assert est.samples == 2


def test_technical_analysis_when_warming_up_returns_prior_then_estimate_in_price_units():
    cfg = TechnicalConfig(sampling_interval_s=1.0, ewma_halflife_s=3000.0, min_samples=30, sigma_prior_per_sqrt_s=7.0)
    ta = TechnicalAnalysis(cfg)
    ts, px = tick_path(7, seconds=2000)
    i = 0
    while ta.ewma.count < 29:
        ta.update(ts[i], px[i])
        i += 1
    early = ta.volatility()
    assert not early.warm
    assert early.sigma_price_per_sqrt_s == 7.0
    for t, p in zip(ts[i:], px[i:], strict=True):
        ta.update(t, p)
    v = ta.volatility()
    assert v.warm and v.samples >= 1990
    assert v.sigma_price_per_sqrt_s == pytest.approx(v.sigma_logret_per_sqrt_s * px[-1])
    assert v.sigma_annualised == pytest.approx(v.sigma_logret_per_sqrt_s * math.sqrt(SECONDS_PER_YEAR))
    assert v.sigma_logret_per_sqrt_s == pytest.approx(SIGMA, rel=0.1)


@pytest.mark.parametrize("kind", list(VolatilityEstimator))
def test_technical_analysis_when_estimator_selected_uses_it(kind):
    cfg = TechnicalConfig(volatility_estimator=kind, min_samples=5, range_bar_s=5.0, realised_window_s=600.0)
    ta = TechnicalAnalysis(cfg)
    ts, px = tick_path(8, seconds=600, ticks_per_s=20)
    for t, p in zip(ts, px, strict=True):
        ta.update(t, p)
    v = ta.volatility()
    assert v.warm
    assert v.sigma_logret_per_sqrt_s == pytest.approx(SIGMA, rel=0.25)


def test_trend_signal_when_drift_present_t_stat_large_and_slope_signed():
    rng = np.random.default_rng(11)
    drift = 2e-4  # per step, 0.4 σ
    up = TrendSignal(1.0, ema_s=300.0)
    for r in rng.standard_normal(3000) * SIGMA + drift:
        up.add(float(r))
    rd = up.reading()
    assert rd.t_stat > 3.0
    assert rd.slope_logret_per_s == pytest.approx(drift, rel=0.5)


@pytest.mark.parametrize("seed", [12, 13, 14])
def test_trend_signal_when_random_walk_t_stat_small(seed):
    rng = np.random.default_rng(seed)
    flat = TrendSignal(1.0, ema_s=300.0)
    for r in rng.standard_normal(3000) * SIGMA:
        flat.add(float(r))
    assert abs(flat.reading().t_stat) < 3.0


def _ou_log_prices(seed: int, n: int, phi: float):
    rng = np.random.default_rng(seed)
    x = np.zeros(n)
    eps = rng.standard_normal(n) * SIGMA
    for i in range(1, n):
        x[i] = phi * x[i - 1] + eps[i]
    return x


def test_variance_ratio_when_mean_reverting_ratio_below_one_significantly():
    x = _ou_log_prices(21, 5000, phi=0.8)  # strongly mean-reverting log price
    vr = variance_ratio(np.diff(x).tolist(), q=5)
    # AR(1) level: VR(q) = (1 − φ^q) / (q·(1 − φ)) = 0.672 for φ = 0.8, q = 5
    assert vr.ratio == pytest.approx((1 - 0.8**5) / (5 * 0.2), abs=0.08)
    assert vr.z < -5


@pytest.mark.parametrize("seed", [22, 23, 24])
def test_variance_ratio_when_random_walk_ratio_near_one(seed):
    r = np.random.default_rng(seed).standard_normal(5000) * SIGMA
    vr = variance_ratio(r.tolist(), q=5)
    assert abs(vr.ratio - 1.0) < 0.1 and abs(vr.z) < 3


def test_variance_ratio_when_returns_autocorrelated_ratio_above_one():
    rng = np.random.default_rng(25)
    e = rng.standard_normal(5000) * SIGMA
    r = np.zeros(5000)
    for i in range(1, 5000):
        r[i] = 0.4 * r[i - 1] + e[i]  # momentum in returns
    vr = variance_ratio(r.tolist(), q=5)
    assert vr.ratio > 1.5 and vr.z > 5


def test_mean_reversion_zscore_when_price_far_above_window_mean_is_large():
    mr = MeanReversionSignal(1.0, window_s=100.0)
    rng = np.random.default_rng(26)
    for p in 100.0 + rng.standard_normal(99) * 0.1:
        mr.add(float(p), 0.0)
    mr.add(101.0, 0.0)
    assert mr.zscore() > 5.0


def test_classify_regime_when_thresholds_crossed_returns_documented_flags():
    assert classify_regime(1.0, 1.0, 0.5) is Regime.CALM
    assert classify_regime(1.5, 1.0, 0.5) is Regime.VOLATILE
    assert classify_regime(1.49, 1.0, -3.0) is Regime.TRENDING
    assert classify_regime(2.0, 1.0, 5.0) is Regime.VOLATILE  # volatility checked first


def test_technical_snapshot_when_vol_jumps_flags_volatile():
    cfg = TechnicalConfig(ewma_halflife_s=30.0, min_samples=10)
    ta = TechnicalAnalysis(cfg)
    rng = np.random.default_rng(27)
    logp = np.log(100.0)
    t = 0
    for k in range(3000):
        sigma = SIGMA if k < 2900 else 5 * SIGMA
        logp += rng.standard_normal() * sigma
        t += S
        ta.update(t, float(np.exp(logp)))
    snap = ta.snapshot()
    assert snap.regime is Regime.VOLATILE
    assert snap.variance_ratio is not None and snap.zscore is not None


def test_grid_sampler_when_update_older_than_last_ignores_it():
    g = GridSampler(1.0)
    g.update(0, 100.0)
    g.update(int(0.6 * S), 101.0)
    assert g.update(int(0.3 * S), 50.0) == []
    assert g.update(S, 101.0) == pytest.approx([math.log(101 / 100)])


@pytest.mark.parametrize("seed", [21, 22, 23])
def test_technical_analysis_when_sub_second_path_fast_sigma_within_5pct(seed):
    # the quoting timescale: 50 ticks/s, σ from 0.1 s mid changes (units: log return per √s)
    cfg = TechnicalConfig(volatility_estimator=VolatilityEstimator.FAST, fast_sampling_interval_s=0.1,
                          fast_halflife_s=120.0, min_samples=100)
    ta = TechnicalAnalysis(cfg)
    ts, px = tick_path(seed, seconds=900, ticks_per_s=50)
    for t, p in zip(ts, px, strict=True):
        ta.update(t, p)
    v = ta.volatility()
    assert v.warm and v.samples >= 8900
    assert v.sigma_logret_per_sqrt_s == pytest.approx(SIGMA, rel=0.05)
    assert v.sigma_price_per_sqrt_s == pytest.approx(v.sigma_logret_per_sqrt_s * px[-1])
    snap = ta.snapshot()
    assert snap.sigma_fast_logret_per_sqrt_s == v.sigma_logret_per_sqrt_s


def test_technical_analysis_when_sub_second_path_fast_range_sigma_close():
    # Parkinson on 1 s bars of 50 ticks/s: the discrete range reads a little low (documented)
    cfg = TechnicalConfig(volatility_estimator=VolatilityEstimator.FAST_RANGE, fast_range_bar_s=1.0,
                          fast_range_window_s=900.0, min_samples=100)
    ta = TechnicalAnalysis(cfg)
    ts, px = tick_path(24, seconds=900, ticks_per_s=50)
    for t, p in zip(ts, px, strict=True):
        ta.update(t, p)
    v = ta.volatility()
    assert v.warm
    assert 0.85 * SIGMA < v.sigma_logret_per_sqrt_s <= 1.02 * SIGMA
