"""TechnicalAnalysis: one object fed with prices that keeps σ, trend, mean reversion and regime.

Feed it ``update(ts_ns, price)`` (mid or mark, quote currency) and optionally ``advance(now_ns)``
on timer events; read :meth:`TechnicalAnalysis.volatility` (σ with units and warm-up status)
and :meth:`TechnicalAnalysis.snapshot` (all signals, for the dashboard).

Warm-up: until the selected estimator has ``min_samples`` returns (bars for the range
estimator), σ is a prior (``warm`` False): ``sigma_prior_per_sqrt_s`` (quote currency per √s)
when configured; otherwise relative to the instrument: the quoting-timescale σ (0.1 s grid) as
soon as it has ``min_samples`` returns (a few seconds), before that
``sigma_prior_logret_per_sqrt_s`` × price. No BTC number in USD.
"""

from __future__ import annotations

from dataclasses import dataclass

from thalex_mm.config.models import TechnicalConfig, VolatilityEstimator
from thalex_mm.core.signals import (
    MeanReversionSignal,
    Regime,
    TrendSignal,
    VarianceRatio,
    classify_regime,
)
from thalex_mm.core.volatility import (
    EwmaVolatility,
    GridSampler,
    ParkinsonVolatility,
    RealisedVolatility,
    VolatilityEstimate,
    annualise,
)

__all__ = ["TechnicalAnalysis", "TechnicalSnapshot"]


@dataclass(frozen=True, slots=True, kw_only=True)
class TechnicalSnapshot:
    """All signals at one time (for the dashboard and the journal).

    Attributes:
        volatility: the selected σ estimate (see :class:`VolatilityEstimate`).
        sigma_fast_logret_per_sqrt_s: EWMA σ of sub-second mid changes (grid
            ``fast_sampling_interval_s``), per √second; None before the first return.
        sigma_fast_range_logret_per_sqrt_s: Parkinson σ on ``fast_range_bar_s`` bars, per
            √second; None before the first bar.
        sigma_baseline_logret_per_sqrt_s: slow EWMA σ (half-life ``baseline_factor`` × the
            configured one), per √second; None before the first return.
        trend_slope_logret_per_s: drift of log price, 1/s; None during warm-up.
        trend_t: t-statistic of the drift; None during warm-up.
        zscore: price against its moving mean, dimensionless; None during warm-up.
        variance_ratio: VR(q) reading, or None.
        regime: CALM / VOLATILE / TRENDING (CALM while not warm).
    """

    volatility: VolatilityEstimate
    sigma_fast_logret_per_sqrt_s: float | None
    sigma_fast_range_logret_per_sqrt_s: float | None
    sigma_baseline_logret_per_sqrt_s: float | None
    trend_slope_logret_per_s: float | None
    trend_t: float | None
    zscore: float | None
    variance_ratio: VarianceRatio | None
    regime: Regime


class TechnicalAnalysis:
    """Volatility estimators and signals over one price stream.

    Args:
        config: the ``technical`` section of BOT_CONFIG.
        vr_q: variance-ratio horizon, grid steps, >= 2. Not in the config; default 5.
        baseline_factor: the regime baseline σ uses an EWMA half-life this many times the
            configured ``ewma_halflife_s``. Not in the config; default 10.
        volatile_ratio: σ / baseline σ at or above which the regime is VOLATILE. Default 1.5.
        trend_t_threshold: |trend t| at or above which the regime is TRENDING. Default 3.
    """

    def __init__(
        self,
        config: TechnicalConfig,
        *,
        vr_q: int = 5,
        baseline_factor: float = 10.0,
        volatile_ratio: float = 1.5,
        trend_t_threshold: float = 3.0,
    ) -> None:
        dt = config.sampling_interval_s
        self.config = config
        self.sampler = GridSampler(dt)
        self.ewma = EwmaVolatility(dt, config.ewma_halflife_s)
        self.baseline = EwmaVolatility(dt, config.ewma_halflife_s * baseline_factor)
        self.realised = RealisedVolatility(dt, max(config.realised_window_s, dt))
        window_bars = max(1, round(config.realised_window_s / config.range_bar_s))
        self.parkinson = ParkinsonVolatility(config.range_bar_s, window_bars)
        # the quoting timescale: sub-second mid changes and short-bar ranges
        fdt = config.fast_sampling_interval_s
        self.fast_sampler = GridSampler(fdt)
        self.fast = EwmaVolatility(fdt, config.fast_halflife_s)
        fast_bars = max(1, round(config.fast_range_window_s / config.fast_range_bar_s))
        self.fast_range = ParkinsonVolatility(config.fast_range_bar_s, fast_bars)
        self.trend = TrendSignal(dt, config.trend_ema_s)
        self.mean_reversion = MeanReversionSignal(dt, max(config.mean_window_s, 3 * dt))
        self.vr_q = vr_q
        self.volatile_ratio = volatile_ratio
        self.trend_t_threshold = trend_t_threshold
        # the last volatility(): its inputs change only in update() and advance(), which clear it
        self._volatility: VolatilityEstimate | None = None

    def update(self, ts_ns: int, price: float) -> int:
        """Feed a price (quote currency) observed at ``ts_ns``. Returns the grid returns added."""
        self._volatility = None
        self.parkinson.update(ts_ns, price)
        self.fast_range.update(ts_ns, price)
        self._consume_fast(self.fast_sampler.update(ts_ns, price))
        return self._consume(self.sampler.update(ts_ns, price))

    def advance(self, now_ns: int) -> int:
        """Close grid points up to ``now_ns`` with the carried-forward price (timer events)."""
        self._volatility = None
        self._consume_fast(self.fast_sampler.advance(now_ns))
        return self._consume(self.sampler.advance(now_ns))

    def _consume_fast(self, returns: list[float]) -> None:
        for r in returns:
            self.fast.add(r)

    def _consume(self, returns: list[float]) -> int:
        if not returns:
            return 0
        price = self.sampler.last_price
        for r in returns:
            self.ewma.add(r)
            self.baseline.add(r)
            self.realised.add(r)
            self.trend.add(r)
            self.mean_reversion.add(price, r)
        return len(returns)

    def volatility(self) -> VolatilityEstimate:
        """σ of the configured estimator, or the prior during warm-up (``warm`` False)."""
        vol = self._volatility
        if vol is None:
            vol = self._volatility = self._estimate()
        return vol

    def _estimate(self) -> VolatilityEstimate:
        cfg = self.config
        kind = cfg.volatility_estimator
        if kind is VolatilityEstimator.EWMA:
            sig, n = self.ewma.sigma_per_sqrt_s(), self.ewma.count
        elif kind is VolatilityEstimator.REALISED:
            sig, n = self.realised.sigma_per_sqrt_s(), self.realised.count
        elif kind is VolatilityEstimator.FAST:
            sig, n = self.fast.sigma_per_sqrt_s(), self.fast.count
        elif kind is VolatilityEstimator.FAST_RANGE:
            sig, n = self.fast_range.sigma_per_sqrt_s(), self.fast_range.count
        else:
            sig, n = self.parkinson.sigma_per_sqrt_s(), self.parkinson.count
        price = self.sampler.last_price
        if sig is None or n < cfg.min_samples or price <= 0.0:
            fast = self.fast.sigma_per_sqrt_s()
            if cfg.sigma_prior_per_sqrt_s is not None:
                prior = cfg.sigma_prior_per_sqrt_s
                logret = prior / price if price > 0.0 else 0.0
            elif fast is not None and self.fast.count >= cfg.min_samples and price > 0.0:
                logret = fast
                prior = fast * price
            else:
                logret = cfg.sigma_prior_logret_per_sqrt_s
                prior = logret * price
            return VolatilityEstimate(
                sigma_logret_per_sqrt_s=logret,
                sigma_price_per_sqrt_s=prior,
                sigma_annualised=annualise(logret),
                samples=n,
                warm=False,
                price=price,
            )
        return VolatilityEstimate(
            sigma_logret_per_sqrt_s=sig,
            sigma_price_per_sqrt_s=sig * price,
            sigma_annualised=annualise(sig),
            samples=n,
            warm=True,
            price=price,
        )

    def snapshot(self) -> TechnicalSnapshot:
        """Every signal now; O(window) because of VR(q) and the z-score (slow path only)."""
        vol = self.volatility()
        base = self.baseline.sigma_per_sqrt_s()
        tr = self.trend.reading()
        regime = Regime.CALM
        if vol.warm and base is not None:
            regime = classify_regime(
                vol.sigma_logret_per_sqrt_s,
                base,
                tr.t_stat if tr else 0.0,
                volatile_ratio=self.volatile_ratio,
                trend_t_threshold=self.trend_t_threshold,
            )
        return TechnicalSnapshot(
            volatility=vol,
            sigma_fast_logret_per_sqrt_s=self.fast.sigma_per_sqrt_s(),
            sigma_fast_range_logret_per_sqrt_s=self.fast_range.sigma_per_sqrt_s(),
            sigma_baseline_logret_per_sqrt_s=base,
            trend_slope_logret_per_s=tr.slope_logret_per_s if tr else None,
            trend_t=tr.t_stat if tr else None,
            zscore=self.mean_reversion.zscore(),
            variance_ratio=self.mean_reversion.variance_ratio(self.vr_q),
            regime=regime,
        )
