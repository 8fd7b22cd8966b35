"""Volatility estimators: fixed-grid return sampler, EWMA, realised (rolling), Parkinson range.

Units and conventions (see docs/model.md §5):

* Prices in quote currency, timestamps in ns since the epoch, durations in seconds.
* Returns are **log returns** sampled on a fixed time grid of ``dt`` seconds (not per tick):
  the grid price at a grid point ``g`` is the last price whose timestamp is ``<= g`` (carried
  forward when nothing traded), so quiet periods count as zero returns.
* Every estimator reports ``sigma_logret_per_sqrt_s`` = standard deviation of the log return
  over one second, i.e. sqrt(E[r²] / dt) with r the return over ``dt``. The model wants the
  price-unit figure ``σ_price = σ_logret · price`` (quote currency per √second), and humans
  want the annualised one ``σ_logret · sqrt(365·86400)`` (per √year).

Pure: no clock, no numpy on the update path (plain floats and ``math``).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

__all__ = [
    "SECONDS_PER_YEAR",
    "EwmaVolatility",
    "GridSampler",
    "ParkinsonVolatility",
    "RealisedVolatility",
    "VolatilityEstimate",
    "annualise",
]

SECONDS_PER_YEAR = 365.0 * 86400.0
"""Seconds in the (crypto, 24/7) year used for annualisation."""

_NS_PER_S = 1_000_000_000
_FOUR_LN2 = 4.0 * math.log(2.0)


def annualise(sigma_per_sqrt_s: float) -> float:
    """σ per √second → σ per √year (365·86400 s)."""
    return sigma_per_sqrt_s * math.sqrt(SECONDS_PER_YEAR)


@dataclass(slots=True, kw_only=True, unsafe_hash=True)
class VolatilityEstimate:
    """One σ reading.

    Attributes:
        sigma_logret_per_sqrt_s: σ of log returns, per √second.
        sigma_price_per_sqrt_s: σ in quote currency per √second (= σ_logret · price).
        sigma_annualised: σ of log returns per √year (365·86400 s).
        samples: returns (or bars) behind the figure.
        warm: False while the configured prior is used (fewer than ``min_samples``).
        price: reference price used for the conversion, quote currency.
    """

    sigma_logret_per_sqrt_s: float
    sigma_price_per_sqrt_s: float
    sigma_annualised: float
    samples: int
    warm: bool
    price: float

    def __init__(self, *, sigma_logret_per_sqrt_s: float, sigma_price_per_sqrt_s: float,
                 sigma_annualised: float, samples: int, warm: bool, price: float) -> None:
        # A written __init__: mypyc compiles it (docs/build.md, "Per-event value objects").
        self.sigma_logret_per_sqrt_s = sigma_logret_per_sqrt_s
        self.sigma_price_per_sqrt_s = sigma_price_per_sqrt_s
        self.sigma_annualised = sigma_annualised
        self.samples = samples
        self.warm = warm
        self.price = price


class GridSampler:
    """Turns ``(ts_ns, price)`` updates into log returns on a fixed grid of ``interval_s``.

    The grid starts at the first update. A return is emitted for each grid point passed;
    the price at a grid point is the last price seen at or before it (carried forward).

    Args:
        interval_s: grid step, seconds, > 0.
        max_gap_s: a gap without updates longer than this restarts the grid at the next update
            instead of emitting a long run of zero returns (e.g. after a disconnect), seconds.
    """

    __slots__ = ("_grid_price", "_interval_ns", "_last_price", "_last_ts_ns", "_max_gap_ns", "_next_ns", "interval_s")

    def __init__(self, interval_s: float, max_gap_s: float = 3600.0) -> None:
        if not interval_s > 0:
            raise ValueError(f"interval_s: got {interval_s!r}, expected > 0")
        self.interval_s = float(interval_s)
        self._interval_ns = round(interval_s * _NS_PER_S)
        self._max_gap_ns = int(max_gap_s * _NS_PER_S)
        self._next_ns: int | None = None
        self._grid_price = 0.0
        self._last_price = 0.0
        self._last_ts_ns = 0

    @property
    def last_price(self) -> float:
        """Last price seen, quote currency (0 before the first update)."""
        return self._last_price

    def update(self, ts_ns: int, price: float) -> list[float]:
        """Record a price; returns the log returns of the grid points now complete (oldest first).

        Args:
            ts_ns: time of the price, ns since epoch (non-decreasing; older ones are ignored).
            price: quote currency, > 0 (non-positive or non-finite prices are ignored).
        """
        if not (price > 0.0 and math.isfinite(price)):
            return []
        if ts_ns < self._last_ts_ns:
            return []
        self._last_ts_ns = ts_ns
        nxt = self._next_ns
        if nxt is None or ts_ns - nxt > self._max_gap_ns:
            self._next_ns = ts_ns + self._interval_ns
            self._grid_price = self._last_price = price
            return []
        out: list[float] = []
        if ts_ns >= nxt:
            out = self._advance_to(ts_ns - 1) if ts_ns > nxt else []
            self._last_price = price
            if ts_ns == self._next_ns:
                out.extend(self._advance_to(ts_ns))
        else:
            self._last_price = price
        return out

    def advance(self, now_ns: int) -> list[float]:
        """Close grid points up to ``now_ns`` with the carried-forward price (timer path)."""
        if self._next_ns is None or now_ns - self._next_ns > self._max_gap_ns:
            return []
        return self._advance_to(now_ns)

    def _advance_to(self, ts_ns: int) -> list[float]:
        out: list[float] = []
        step = self._interval_ns
        nxt = self._next_ns
        assert nxt is not None
        last = self._last_price
        grid = self._grid_price
        while nxt <= ts_ns:
            out.append(math.log(last / grid))
            grid = last
            nxt += step
        self._next_ns = nxt
        self._grid_price = grid
        return out


class EwmaVolatility:
    """Exponentially weighted mean of squared grid returns (zero-mean, RiskMetrics style).

    ``v ← λ·v + (1 − λ)·r²`` with ``λ = 0.5^(dt / halflife_s)``, debiased by the weight sum so
    the first samples are not pulled towards 0. σ_logret per √s = sqrt(v / dt).

    Args:
        dt_s: grid step of the returns, seconds.
        halflife_s: half-life of the weights, seconds.
    """

    __slots__ = ("_lam", "_v", "_w", "count", "dt_s")

    def __init__(self, dt_s: float, halflife_s: float) -> None:
        if not (dt_s > 0 and halflife_s > 0):
            raise ValueError(f"dt_s/halflife_s: got {dt_s!r}/{halflife_s!r}, expected both > 0")
        self.dt_s = dt_s
        self._lam = 0.5 ** (dt_s / halflife_s)
        self._v = 0.0
        self._w = 0.0
        self.count = 0

    def add(self, r: float) -> None:
        """Add one grid log return (dimensionless)."""
        lam = self._lam
        self._v = lam * self._v + (1.0 - lam) * r * r
        self._w = lam * self._w + (1.0 - lam)
        self.count += 1

    def sigma_per_sqrt_s(self) -> float | None:
        """σ of log returns per √second; None before the first return."""
        if self._w == 0.0:
            return None
        return math.sqrt(self._v / self._w / self.dt_s)


class RealisedVolatility:
    """Root mean square of the grid returns in a rolling window of ``window_s`` seconds.

    σ_logret per √s = sqrt(Σ r² / (n · dt)) over the last n = window_s / dt returns.
    """

    __slots__ = ("_buf", "_sum", "count", "dt_s")

    def __init__(self, dt_s: float, window_s: float) -> None:
        if not (dt_s > 0 and window_s >= dt_s):
            raise ValueError(f"window_s: got {window_s!r}, expected >= dt_s ({dt_s!r}) > 0")
        self.dt_s = dt_s
        self._buf: deque[float] = deque(maxlen=max(1, round(window_s / dt_s)))
        self._sum = 0.0
        self.count = 0

    def add(self, r: float) -> None:
        """Add one grid log return (dimensionless)."""
        buf = self._buf
        r2 = r * r
        if len(buf) == buf.maxlen:
            self._sum -= buf[0]
        buf.append(r2)
        self._sum += r2
        self.count += 1
        if self.count % 4096 == 0:  # refresh the running sum against float drift
            self._sum = math.fsum(buf)

    @property
    def samples(self) -> int:
        return len(self._buf)

    def sigma_per_sqrt_s(self) -> float | None:
        """σ of log returns per √second over the window; None when empty."""
        n = len(self._buf)
        if n == 0:
            return None
        return math.sqrt(max(self._sum, 0.0) / (n * self.dt_s))


class ParkinsonVolatility:
    """Parkinson (1980) range estimator on fixed-length bars.

    Per bar of ``bar_s`` seconds with high H and low L: σ²_bar = (ln(H/L))² / (4·ln 2);
    σ_logret per √s = sqrt(mean(σ²_bar) / bar_s) over the last ``window_bars`` bars.
    Bars come from :meth:`update` (ticks; a bar closes at the first tick past its end, and its
    range includes the carried-in opening price) or directly from :meth:`add_bar`.
    Discrete ticks understate the true range, so this reads low on sparse data.

    Args:
        bar_s: bar length, seconds, > 0.
        window_bars: number of bars averaged, >= 1.
    """

    __slots__ = ("_bar_end_ns", "_bar_ns", "_buf", "_close", "_hi", "_lo", "_sum", "bar_s", "count")

    def __init__(self, bar_s: float, window_bars: int) -> None:
        if not (bar_s > 0 and window_bars >= 1):
            raise ValueError(f"bar_s/window_bars: got {bar_s!r}/{window_bars!r}, expected > 0 / >= 1")
        self.bar_s = bar_s
        self._bar_ns = round(bar_s * _NS_PER_S)
        self._buf: deque[float] = deque(maxlen=window_bars)
        self._sum = 0.0
        self._bar_end_ns: int | None = None
        self._hi = 0.0
        self._lo = 0.0
        self._close = 0.0
        self.count = 0

    def update(self, ts_ns: int, price: float) -> None:
        """Feed a tick (quote currency) at ``ts_ns``; closes bars as time passes.

        A new bar opens at the previous close (carried forward), so its range includes the
        jump to its first tick. Whole bars without any tick are skipped (not counted as 0).
        """
        if not (price > 0.0 and math.isfinite(price)):
            return
        end = self._bar_end_ns
        if end is None:
            self._bar_end_ns = ts_ns + self._bar_ns
            self._hi = self._lo = self._close = price
            return
        if ts_ns >= end:
            self.add_bar(self._hi, self._lo)
            close = self._close
            self._bar_end_ns = end + ((ts_ns - end) // self._bar_ns + 1) * self._bar_ns
            self._hi = max(close, price)
            self._lo = min(close, price)
        elif price > self._hi:
            self._hi = price
        elif price < self._lo:
            self._lo = price
        self._close = price

    def add_bar(self, high: float, low: float) -> None:
        """Add a complete bar's high and low, quote currency (high >= low > 0)."""
        if not (high >= low > 0.0):
            raise ValueError(f"bar: got high={high!r} low={low!r}, expected high >= low > 0")
        x = math.log(high / low)
        v = x * x / _FOUR_LN2
        buf = self._buf
        if len(buf) == buf.maxlen:
            self._sum -= buf[0]
        buf.append(v)
        self._sum += v
        self.count += 1
        if self.count % 4096 == 0:
            self._sum = math.fsum(buf)

    @property
    def samples(self) -> int:
        return len(self._buf)

    def sigma_per_sqrt_s(self) -> float | None:
        """σ of log returns per √second; None before the first complete bar."""
        n = len(self._buf)
        if n == 0:
            return None
        return math.sqrt(max(self._sum, 0.0) / (n * self.bar_s))
