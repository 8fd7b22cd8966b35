"""Trend, mean-reversion and regime signals on fixed-grid log returns.

Inputs are the grid log returns of :class:`thalex_mm.core.volatility.GridSampler` (step ``dt``
seconds) and grid prices (quote currency). See docs/model.md §5 for the formulas.

* Trend: exponentially weighted mean of the log returns (the slope of the log-price EMA) with
  a t-statistic using the effective sample size of the weights.
* Mean reversion: z-score of the price against its moving mean, and the Lo–MacKinlay (1988)
  variance ratio VR(q) with its homoskedastic z-statistic.
* Regime: CALM / VOLATILE / TRENDING from σ against a slow baseline σ and the trend t-stat.

Pure: plain floats; VR(q) is O(window) per call, meant for the slow (timer) path, not per quote.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "MeanReversionSignal",
    "Regime",
    "TrendReading",
    "TrendSignal",
    "VarianceRatio",
    "classify_regime",
    "variance_ratio",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class TrendReading:
    """Attributes:
    slope_logret_per_s: EW mean log return per second (drift of log price), 1/s.
    t_stat: slope / its standard error (dimensionless); |t| >= 3 is a strong trend.
    n_eff: effective number of returns behind the mean.
    """

    slope_logret_per_s: float
    t_stat: float
    n_eff: float


class TrendSignal:
    """EW mean and variance of grid returns; span N = ``ema_s / dt`` steps, α = 2/(N + 1).

    With weights w_i = (1 − α)^i: mean = Σw r / Σw, var = Σw r² / Σw − mean²,
    n_eff = (Σw)² / Σw², t = mean / sqrt(var / n_eff).
    """

    __slots__ = ("_lam", "_m", "_q", "_reading", "_w1", "_w2", "count", "dt_s")

    def __init__(self, dt_s: float, ema_s: float) -> None:
        if not (dt_s > 0 and ema_s > 0):
            raise ValueError(f"dt_s/ema_s: got {dt_s!r}/{ema_s!r}, expected both > 0")
        n = max(ema_s / dt_s, 1.0)
        self._lam = 1.0 - 2.0 / (n + 1.0)
        self.dt_s = dt_s
        self._m = self._q = self._w1 = self._w2 = 0.0
        self.count = 0
        self._reading: TrendReading | None = None  # the last reading; add() clears it

    def add(self, r: float) -> None:
        """Add one grid log return (dimensionless)."""
        self._reading = None
        lam = self._lam
        self._m = lam * self._m + r
        self._q = lam * self._q + r * r
        self._w1 = lam * self._w1 + 1.0
        self._w2 = lam * lam * self._w2 + 1.0
        self.count += 1

    def reading(self) -> TrendReading | None:
        """Current slope and t-stat; None before 3 returns."""
        if self.count < 3:
            return None
        if self._reading is not None:
            return self._reading
        mean = self._m / self._w1
        var = max(self._q / self._w1 - mean * mean, 0.0)
        n_eff = self._w1 * self._w1 / self._w2
        se = math.sqrt(var / n_eff) if var > 0 else 0.0
        t = mean / se if se > 0 else 0.0
        self._reading = TrendReading(slope_logret_per_s=mean / self.dt_s, t_stat=t, n_eff=n_eff)
        return self._reading


@dataclass(frozen=True, slots=True, kw_only=True)
class VarianceRatio:
    """Lo–MacKinlay variance ratio.

    Attributes:
        q: aggregation horizon, grid steps.
        ratio: VR(q) = Var(q-step returns) / (q · Var(1-step returns)); 1 for a random walk,
            < 1 mean reverting, > 1 trending (momentum).
        z: homoskedastic z-statistic (VR − 1) / sqrt(2(2q − 1)(q − 1) / (3qn)).
        n: number of 1-step returns used.
    """

    q: int
    ratio: float
    z: float
    n: int


def variance_ratio(returns: list[float] | deque[float], q: int) -> VarianceRatio | None:
    """Lo–MacKinlay (1988) VR(q) with overlapping q-sums and the homoskedastic z-statistic.

    Args:
        returns: 1-step log returns, oldest first.
        q: horizon in steps, >= 2.

    Returns:
        None when there are fewer than 2q returns or no variance.
    """
    if q < 2:
        raise ValueError(f"q: got {q!r}, expected >= 2")
    n = len(returns)
    if n < 2 * q:
        return None
    r = list(returns)
    mu = math.fsum(r) / n
    var1 = math.fsum((x - mu) ** 2 for x in r) / (n - 1)
    if var1 <= 0.0:
        return None
    # overlapping q-step sums
    s = math.fsum(r[:q])
    acc = (s - q * mu) ** 2
    for i in range(q, n):
        s += r[i] - r[i - q]
        acc += (s - q * mu) ** 2
    m = q * (n - q + 1) * (1.0 - q / n)  # Lo–MacKinlay unbiased scaling
    varq = acc / m
    ratio = varq / var1
    z = (ratio - 1.0) / math.sqrt(2.0 * (2 * q - 1) * (q - 1) / (3.0 * q * n))
    return VarianceRatio(q=q, ratio=ratio, z=z, n=n)


class MeanReversionSignal:
    """Z-score of the price against its moving mean, and VR(q) over the same window.

    Args:
        dt_s: grid step, seconds.
        window_s: moving window, seconds (window = window_s / dt grid points).
    """

    __slots__ = ("_prices", "_returns", "dt_s")

    def __init__(self, dt_s: float, window_s: float) -> None:
        if not (dt_s > 0 and window_s >= 3 * dt_s):
            raise ValueError(f"window_s: got {window_s!r}, expected >= 3·dt_s ({3 * dt_s!r})")
        n = round(window_s / dt_s)
        self.dt_s = dt_s
        self._prices: deque[float] = deque(maxlen=n)
        self._returns: deque[float] = deque(maxlen=n)

    def add(self, price: float, r: float) -> None:
        """Add one grid point: its price (quote currency) and the log return that led to it."""
        self._prices.append(price)
        self._returns.append(r)

    def zscore(self) -> float | None:
        """(last price − window mean) / window standard deviation; None before 3 points."""
        p = self._prices
        n = len(p)
        if n < 3:
            return None
        mean = math.fsum(p) / n
        var = math.fsum((x - mean) ** 2 for x in p) / (n - 1)
        if var <= 0.0:
            return 0.0
        return (p[-1] - mean) / math.sqrt(var)

    def variance_ratio(self, q: int) -> VarianceRatio | None:
        """VR(q) of the window's returns (see :func:`variance_ratio`)."""
        return variance_ratio(self._returns, q)


class Regime(StrEnum):
    """Market regime flag (see :func:`classify_regime` for the thresholds)."""

    CALM = "calm"
    VOLATILE = "volatile"
    TRENDING = "trending"


def classify_regime(
    sigma: float,
    sigma_baseline: float,
    trend_t: float,
    *,
    volatile_ratio: float = 1.5,
    trend_t_threshold: float = 3.0,
) -> Regime:
    """Regime flag.

    VOLATILE when ``sigma >= volatile_ratio · sigma_baseline`` (short σ well above the slow σ;
    checked first because it is the risk case); else TRENDING when ``|trend_t| >=
    trend_t_threshold``; else CALM.

    Args:
        sigma: current σ, any unit.
        sigma_baseline: slow σ in the same unit.
        trend_t: trend t-statistic (dimensionless).
        volatile_ratio: σ / baseline at or above which the market is volatile. Default 1.5.
        trend_t_threshold: |t| at or above which the market is trending. Default 3.
    """
    if sigma_baseline > 0.0 and sigma >= volatile_ratio * sigma_baseline:
        return Regime.VOLATILE
    if abs(trend_t) >= trend_t_threshold:
        return Regime.TRENDING
    return Regime.CALM
