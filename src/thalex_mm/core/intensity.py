"""Order-arrival intensity λ(δ) = A·e^(−kδ) estimated from public trades.

Definition used everywhere in this project (docs/model.md §4): **λ(δ) is the rate, per side
and per second, of market orders that reach a depth of at least δ from the mid** (δ in quote
currency). A limit order resting at depth δ is hit at rate λ(δ). In the synthetic market, market
orders arrive per side at total rate A and each reaches a depth δ ~ Exp(k) from the mid, so
rate(depth >= δ) = A·P(Exp(k) >= δ) = A·e^(−kδ): the same A and k.

Method:

1. Each public trade gives a depth δ = price − mid (buy aggressor) or mid − price (sell), with
   the mid *just before* the trade (passed by the caller), floored at 0. Trades with the same
   timestamp and aggressor are one sweeping market order: its depth is the deepest one.
2. Over the window W = min(window_s, time observed), the count N(δ_i) of orders with depth
   >= δ_i gives λ̂(δ_i) = N(δ_i) / (2·W) (both sides pooled, hence the 2).
3. Weighted least squares of ln λ̂(δ_i) = ln A − k·δ_i on the shallow buckets δ_i = i·Δ,
   i = 0..n_buckets−1, with Δ = q90(depths) / (n_buckets − 1) (the grid stops at the 90th
   percentile of observed depths) and buckets with N >= min_bucket_count; weights N(δ_i)
   (Var ln N ≈ 1/N).
4. The fit replaces the configured A and k only with >= min_trades orders, >= 3 usable
   buckets, k > 0 and R² >= min_r2; otherwise the configured values are used, with the reason.
   There is no warm-up block: an estimate (fitted or default) is always available.

Pure: time comes as ``ts_ns`` / ``now_ns`` arguments (ns since epoch).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from thalex_mm.config.models import AvellanedaConfig
from thalex_mm.core.types import Side

__all__ = ["IntensityEstimate", "IntensityEstimator", "IntensitySource", "fit_intensity"]

_NS_PER_S = 1_000_000_000


class IntensitySource(StrEnum):
    """Where the current A and k come from."""

    FIT = "fit"
    DEFAULT_THIN = "default_thin"  # fewer than min_trades orders in the window
    DEFAULT_BAD_FIT = "default_bad_fit"  # too few buckets, k <= 0 or R² below min_r2
    DEFAULT_INITIAL = "default_initial"  # no calibration has run yet
    DISABLED = "disabled"  # estimate_intensity is false: always the configured values


@dataclass(frozen=True, slots=True, kw_only=True)
class IntensityEstimate:
    """A and k in use, with the fit's confidence.

    Attributes:
        A: arrivals per second per side at depth 0 (1/s).
        k: decay per quote-currency unit of depth (1/quote currency).
        r2: R² of the log-linear fit (nan when no fit was attempted).
        samples: market orders in the window at the last calibration.
        source: FIT or the reason the configured defaults are used.
        fitted_A: the raw fitted A even when rejected (nan if no fit), 1/s.
        fitted_k: the raw fitted k even when rejected (nan if no fit), 1/quote currency.
        calibrated_ts_ns: time of the calibration, ns (0 = never).
    """

    A: float
    k: float
    r2: float
    samples: int
    source: IntensitySource
    fitted_A: float = math.nan
    fitted_k: float = math.nan
    calibrated_ts_ns: int = 0


def fit_intensity(
    depths: list[float],
    window_s: float,
    *,
    n_buckets: int = 10,
    min_bucket_count: int = 5,
) -> tuple[float, float, float, int] | None:
    """Fit λ(δ) = A·e^(−kδ) to market-order depths observed over ``window_s`` (both sides).

    Args:
        depths: depth of each market order from the mid, quote currency, >= 0.
        window_s: observation time, seconds, > 0.
        n_buckets: number of depth grid points δ_i (the grid ends at the 90th percentile).
        min_bucket_count: a grid point needs at least this many orders at or beyond it.

    Returns:
        ``(A per second per side, k per quote currency, R², buckets used)`` or None when
        fewer than 3 buckets are usable or the depths have no spread.
    """
    n = len(depths)
    if n == 0 or window_s <= 0.0:
        return None
    d = sorted(depths)
    top = d[min(n - 1, int(0.9 * n))]
    if top <= 0.0:
        return None
    step = top / (n_buckets - 1)
    xs: list[float] = []
    ys: list[float] = []
    ws: list[float] = []
    for i in range(n_buckets):
        delta = i * step
        count = n - bisect_left(d, delta - 1e-12)
        if count < min_bucket_count:
            break
        xs.append(delta)
        ys.append(math.log(count / (2.0 * window_s)))
        ws.append(float(count))
    if len(xs) < 3:
        return None
    sw = math.fsum(ws)
    mx = math.fsum(w * x for w, x in zip(ws, xs, strict=True)) / sw
    my = math.fsum(w * y for w, y in zip(ws, ys, strict=True)) / sw
    sxx = math.fsum(w * (x - mx) ** 2 for w, x in zip(ws, xs, strict=True))
    sxy = math.fsum(w * (x - mx) * (y - my) for w, x, y in zip(ws, xs, ys, strict=True))
    syy = math.fsum(w * (y - my) ** 2 for w, y in zip(ws, ys, strict=True))
    if sxx <= 0.0:
        return None
    slope = sxy / sxx
    intercept = my - slope * mx
    r2 = (sxy * sxy) / (sxx * syy) if syy > 0.0 else 1.0
    return math.exp(intercept), -slope, r2, len(xs)


class IntensityEstimator:
    """Rolling A/k estimator with fallback and scheduled recalibration.

    Args:
        config: the ``avellaneda`` section (A, k defaults; estimate_intensity,
            intensity_window_s, intensity_min_trades, recalibrate_interval_s).
        n_buckets: depth grid points for the fit. Not in the config; default 10.
        min_bucket_count: orders needed at or beyond a grid point. Not in the config; default 5.
        min_r2: lowest R² accepted. Not in the config; default 0.8.
        max_orders: buffer capacity (oldest dropped). Default 200,000.
    """

    def __init__(
        self,
        config: AvellanedaConfig,
        *,
        n_buckets: int = 10,
        min_bucket_count: int = 5,
        min_r2: float = 0.8,
        max_orders: int = 200_000,
    ) -> None:
        if n_buckets < 3:
            raise ValueError(f"n_buckets: got {n_buckets!r}, expected >= 3")
        self.enabled = config.estimate_intensity
        self.default_A = config.A
        self.default_k = config.k
        self.window_ns = int(config.intensity_window_s * _NS_PER_S)
        self.min_trades = config.intensity_min_trades
        self.interval_ns = int(config.recalibrate_interval_s * _NS_PER_S)
        self.n_buckets = n_buckets
        self.min_bucket_count = min_bucket_count
        self.min_r2 = min_r2
        self._orders: deque[tuple[int, Side, float]] = deque(maxlen=max_orders)
        self._start_ns: int | None = None
        self._last_calibration_ns: int | None = None
        self.current = IntensityEstimate(
            A=config.A, k=config.k, r2=math.nan, samples=0, source=IntensitySource.DEFAULT_INITIAL
        )

    def start(self, ts_ns: int) -> None:
        """Mark the start of observation (window length before any trade), ns since epoch."""
        if self._start_ns is None:
            self._start_ns = ts_ns

    def add_trade(self, ts_ns: int, price: float, aggressor: Side, mid_before: float | None) -> None:
        """Record one public trade.

        Args:
            ts_ns: trade time, ns since epoch.
            price: trade price, quote currency.
            aggressor: the taker's side.
            mid_before: mid just before the trade, quote currency; None skips the trade.
        """
        if mid_before is None or not (price > 0.0 and mid_before > 0.0):
            return
        depth = price - mid_before if aggressor is Side.BUY else mid_before - price
        if depth < 0.0:
            depth = 0.0
        self.start(ts_ns)
        orders = self._orders
        if orders:
            last_ts, last_side, last_depth = orders[-1]
            if last_ts == ts_ns and last_side is aggressor:  # same sweep
                if depth > last_depth:
                    orders[-1] = (ts_ns, aggressor, depth)
                return
        orders.append((ts_ns, aggressor, depth))

    def add_records(self, records: Iterable) -> None:
        """Record trades from objects with ``ts_ns, price, aggressor, mid_before`` attributes
        (e.g. :class:`thalex_mm.core.market_state.TradeRecord`)."""
        for r in records:
            self.add_trade(r.ts_ns, r.price, r.aggressor, r.mid_before)

    def next_calibration_ns(self) -> int | None:
        """When :meth:`maybe_recalibrate` will next act, ns (None: at the next call)."""
        if self._last_calibration_ns is None:
            return None
        return self._last_calibration_ns + self.interval_ns

    def maybe_recalibrate(self, now_ns: int) -> bool:
        """Recalibrate if ``recalibrate_interval_s`` has passed since the last time.

        Returns:
            True if a calibration ran (``current`` was replaced).
        """
        last = self._last_calibration_ns
        if last is not None and now_ns - last < self.interval_ns:
            return False
        self.recalibrate(now_ns)
        return True

    def recalibrate(self, now_ns: int) -> IntensityEstimate:
        """Drop orders older than the window, fit, and set ``current`` (fit or defaults)."""
        self._last_calibration_ns = now_ns
        cutoff = now_ns - self.window_ns
        orders = self._orders
        while orders and orders[0][0] < cutoff:
            orders.popleft()
        start = self._start_ns if self._start_ns is not None else now_ns
        window_s = (now_ns - max(start, cutoff)) / _NS_PER_S
        n = len(orders)
        if not self.enabled:
            est = IntensityEstimate(
                A=self.default_A, k=self.default_k, r2=math.nan, samples=n,
                source=IntensitySource.DISABLED, calibrated_ts_ns=now_ns,
            )
        elif n < self.min_trades or window_s <= 0.0:
            est = IntensityEstimate(
                A=self.default_A, k=self.default_k, r2=math.nan, samples=n,
                source=IntensitySource.DEFAULT_THIN, calibrated_ts_ns=now_ns,
            )
        else:
            fit = fit_intensity(
                [o[2] for o in orders], window_s,
                n_buckets=self.n_buckets, min_bucket_count=self.min_bucket_count,
            )
            if fit is None:
                est = IntensityEstimate(
                    A=self.default_A, k=self.default_k, r2=math.nan, samples=n,
                    source=IntensitySource.DEFAULT_BAD_FIT, calibrated_ts_ns=now_ns,
                )
            else:
                a, k, r2, _ = fit
                ok = k > 0.0 and math.isfinite(a) and math.isfinite(k) and r2 >= self.min_r2
                est = IntensityEstimate(
                    A=a if ok else self.default_A,
                    k=k if ok else self.default_k,
                    r2=r2,
                    samples=n,
                    source=IntensitySource.FIT if ok else IntensitySource.DEFAULT_BAD_FIT,
                    fitted_A=a,
                    fitted_k=k,
                    calibrated_ts_ns=now_ns,
                )
        self.current = est
        return est
