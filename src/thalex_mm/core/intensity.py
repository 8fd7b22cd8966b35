"""Order-arrival intensity λ(δ) = A·e^(−kδ) estimated from public trades, in ticks.

Definition used everywhere in this project (docs/model.md §4): **λ(δ) is the rate, per side
and per second, of market orders whose reach is at least δ from the mid**; a limit order
resting at depth δ is hit at rate λ(δ). Equivalently each market order has a *reach* R with
P(R >= δ) = e^(−kδ), and orders arrive per side at rate A.

Why a new estimator (issue 13): on a one-tick-wide market most trades print at the touch and
deeper prints are rare, so a least-squares line through log counts per depth bucket fits
badly (R² 0.7) and was rejected at every recalibration. The estimator below uses what the
tape really says about R, in ticks:

1. **Discreteness.** An order whose deepest print is at depth d (from the mid just before it,
   in ticks) had reach R in [d, d + 1): it took everything up to d and not the next price
   level (books of liquid instruments have a level at every tick near the touch).
2. **Censoring at the touch.** An order with reach below the touch (depth h) never prints:
   the tape shows only orders with R >= v, with v = h. Markets that do print inside the touch
   (the synthetic AS world prints every order at its limit) are recognised by the share of
   such prints; for them v is 0 (no truncation).
3. **Censoring in the tail.** Depths more than ``intensity_max_depth_ticks`` beyond v are
   counted as "at least that far" (right-censored): the deep tail of large sweeps does not
   decide the quotes near the touch.
4. **Maximum likelihood.** By memorylessness of the exponential, R − v given R >= v is
   Exp(k) again, so each order contributes −k·(L − v) + ln(1 − e^(−k·(U − L))) (U = ∞ for the
   right-censored). The sum is concave in k; its maximiser is found by bisection on the score.
5. **Prior learned from the market, and shrinkage.** n₀ = ``intensity_min_trades`` pseudo-orders
   whose reach beyond the touch is one spread (ē₀ = max(1, spread in ticks), the median spread
   of the window's orders; one tick before any trade) are added to the likelihood. So k is
   always defined (no silent freeze at a config default), and the data dominate once the
   window holds more than n₀ orders. ``confidence`` = n / (n + n₀) is the data's weight.
6. **A.** Visible orders arrive per side at A·e^(−k·v), so A = n / (2·W) · e^(k·ṽ) with ṽ the
   median truncation depth; a Gamma prior of 1 pseudo-order at the configured A keeps A
   defined with no trade and lets it fall as a quiet window lengthens.

Units: ``k_per_tick`` per tick; ``k`` (what the model uses) per quote-currency unit =
``k_per_tick / tick_size``; A per second per side at depth 0 from the mid.

Pure: time comes as ``ts_ns`` / ``now_ns`` arguments (ns since epoch).
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from thalex_mm.config.models import AvellanedaConfig
from thalex_mm.core.types import Side

__all__ = [
    "IntensityEstimate",
    "IntensityEstimator",
    "IntensitySource",
    "OrderReach",
    "fit_k_per_tick",
]

_NS_PER_S = 1_000_000_000
_K_MIN = 1e-4  # per tick: bisection bracket
_K_MAX = 50.0
_INSIDE_SHARE = 0.1  # more than this share of prints inside the touch: no touch truncation


class IntensitySource(StrEnum):
    """Where the current A and k come from."""

    FIT = "fit"  # the window's orders outweigh the prior (confidence >= 0.5)
    PRIOR = "prior"  # few orders: shrunk mostly towards the market-learned prior
    DEFAULT_INITIAL = "default_initial"  # no calibration yet, or the tick size is unknown
    DISABLED = "disabled"  # estimate_intensity is false: always the configured A and k


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderReach:
    """What one market order says about its reach, in ticks from the mid before it.

    Attributes:
        lower_ticks: L, the reach is at least this (the deepest print's depth).
        upper_ticks: U, the reach is below this (inf: right-censored).
        truncation_ticks: v, orders reaching less than this never print (the touch).
    """

    lower_ticks: float
    upper_ticks: float
    truncation_ticks: float


@dataclass(frozen=True, slots=True, kw_only=True)
class IntensityEstimate:
    """A and k in use, with the fit's confidence.

    Attributes:
        A: the fill intensity at depth 0 the model uses, 1/s per side: ``A_market`` for a
            market without a queue, ``A_market·e^(−k_per_tick)`` when quotes wait in a queue
            at their price (a quote at depth δ then fills on orders reaching δ + 1 tick).
        A_market: arrivals per second per side at depth 0 from the mid (the λ of the tape).
        k: decay per quote-currency unit of depth (1/quote currency); = k_per_tick / tick.
        k_per_tick: decay per tick of depth (1/tick); nan when the tick size is unknown.
        confidence: the data's weight against the prior, n / (n + n₀), 0..1 (0: no data).
        k_rel_se: relative standard error of k from the curvature of the log-likelihood
            (nan when not fitted).
        samples: market orders in the window at the last calibration.
        source: FIT / PRIOR, or why the configured values are used.
        fitted_A: A from the data alone (no prior), 1/s; nan when there was nothing to fit.
        fitted_k: k from the data alone (no prior), 1/quote currency; nan likewise.
        prior_k_per_tick: the prior's k, 1/tick (nan before the tick is known).
        tick_size: the tick used, quote currency (nan when unknown).
        calibrated_ts_ns: time of the calibration, ns (0 = never).
    """

    A: float
    k: float
    samples: int
    source: IntensitySource
    A_market: float = math.nan
    k_per_tick: float = math.nan
    confidence: float = 0.0
    k_rel_se: float = math.nan
    fitted_A: float = math.nan
    fitted_k: float = math.nan
    prior_k_per_tick: float = math.nan
    tick_size: float = math.nan
    calibrated_ts_ns: int = 0


def _score(k: float, groups: list[tuple[float, float, float]]) -> float:
    """d/dk of the log-likelihood, Σ n·(−a + w/(e^(k·w) − 1)) (w = inf: −a only)."""
    s = 0.0
    for a, w, n in groups:
        s -= n * a
        if math.isfinite(w):
            x = k * w
            s += n * (w / math.expm1(x) if x < 700.0 else 0.0)
    return s


def _curvature(k: float, groups: list[tuple[float, float, float]]) -> float:
    """−d²/dk² of the log-likelihood (observed information), >= 0."""
    info = 0.0
    for _, w, n in groups:
        if math.isfinite(w):
            x = k * w
            if x < 700.0:
                em = math.expm1(x)
                info += n * w * w * (em + 1.0) / (em * em)
    return info


def fit_k_per_tick(
    reaches: Iterable[OrderReach],
    *,
    prior_excess_ticks: float | None = None,
    prior_orders: float = 0.0,
) -> tuple[float, float] | None:
    """Maximum-likelihood k (per tick) of interval-censored, truncated exponential reaches.

    Each order contributes −k·(L − v) + ln(1 − e^(−k·(U − L))); the prior adds
    ``prior_orders`` pseudo-orders with L − v = ``prior_excess_ticks`` and U − L = 1 tick
    (its own maximiser is k₀ = ln(1 + 1/ē₀)).

    Args:
        reaches: the orders (see :class:`OrderReach`), ticks.
        prior_excess_ticks: ē₀, ticks (> 0), or None for no prior.
        prior_orders: n₀, pseudo-orders (>= 0).

    Returns:
        ``(k per tick, observed information at k)`` or None when the likelihood has no
        interior maximum (no order and no prior, or only touch prints without a prior).
    """
    counter: Counter[tuple[float, float]] = Counter()
    for r in reaches:
        a = max(r.lower_ticks - r.truncation_ticks, 0.0)
        w = r.upper_ticks - r.lower_ticks
        if not w > 1e-6:
            continue
        counter[(round(float(a), 6), round(float(w), 6) if math.isfinite(w) else math.inf)] += 1
    # n is a float: the prior adds n0 pseudo-orders, which need not be whole
    groups: list[tuple[float, float, float]] = [(a, w, n) for (a, w), n in counter.items()]
    if prior_excess_ticks is not None and prior_orders > 0.0:
        groups.append((prior_excess_ticks, 1.0, prior_orders))
    if not groups:
        return None
    lo, hi = _K_MIN, _K_MAX
    if _score(lo, groups) <= 0.0 or _score(hi, groups) >= 0.0:
        return None  # maximum at the bracket's edge: not identified
    for _ in range(60):  # bisection on log k (score decreases in k)
        mid = math.sqrt(lo * hi)
        if _score(mid, groups) > 0.0:
            lo = mid
        else:
            hi = mid
    k = math.sqrt(lo * hi)
    return k, _curvature(k, groups)


class IntensityEstimator:
    """Rolling A/k estimator in ticks with a market-learned prior and scheduled recalibration.

    Args:
        config: the ``avellaneda`` section (A, k for DISABLED; estimate_intensity,
            intensity_window_s, intensity_min_trades (n₀, the prior's strength),
            intensity_max_depth_ticks, recalibrate_interval_s).
        tick_size: price tick, quote currency (None: set later with :meth:`set_tick_size`).
        max_orders: buffer capacity (oldest dropped). Default 200,000.
    """

    def __init__(
        self,
        config: AvellanedaConfig,
        *,
        tick_size: float | None = None,
        max_orders: int = 200_000,
    ) -> None:
        self.enabled = config.estimate_intensity
        self.default_A = config.A
        self.default_k = config.k
        self.window_ns = int(config.intensity_window_s * _NS_PER_S)
        self.prior_orders = float(config.intensity_min_trades)
        self.max_depth_ticks = float(config.intensity_max_depth_ticks)
        self.interval_ns = int(config.recalibrate_interval_s * _NS_PER_S)
        self.tick_size: float | None = None
        # (ts_ns, side, depth, touch depth or nan, depth of the first tick beyond the mid);
        # depths in quote currency from the mid before the order (ticks applied at fit time)
        self._orders: deque[tuple[int, Side, float, float, float]] = deque(maxlen=max_orders)
        self._start_ns: int | None = None
        self._last_calibration_ns: int | None = None
        self._last_use_ns: int | None = None
        self._used_ns = 0
        self._fitted_ns = 0
        self._last_use_fitted = False
        self.current = IntensityEstimate(
            A=config.A, k=config.k, samples=0,
            source=IntensitySource.DISABLED if not self.enabled else IntensitySource.DEFAULT_INITIAL,
        )
        if tick_size is not None:
            self.set_tick_size(tick_size)

    def set_tick_size(self, tick_size: float) -> None:
        """Price tick of the instrument, quote currency (> 0)."""
        if not tick_size > 0.0:
            raise ValueError(f"tick_size: got {tick_size!r}, expected > 0")
        self.tick_size = float(tick_size)

    def start(self, ts_ns: int) -> None:
        """Mark the start of observation (window length before any trade), ns since epoch."""
        if self._start_ns is None:
            self._start_ns = ts_ns

    def add_trade(
        self,
        ts_ns: int,
        price: float,
        aggressor: Side,
        mid_before: float | None,
        touch_before: float | None = None,
    ) -> None:
        """Record one public trade.

        Args:
            ts_ns: trade time, ns since epoch.
            price: trade price, quote currency.
            aggressor: the taker's side.
            mid_before: mid just before the trade, quote currency; None skips the trade.
            touch_before: the best price on the side the order hit (best ask for a buy, best
                bid for a sell) just before the trade, quote currency; None = unknown (then
                the touch is taken as the first tick beyond the mid).
        """
        if mid_before is None or not (price > 0.0 and mid_before > 0.0):
            return
        sign = 1.0 if aggressor is Side.BUY else -1.0
        depth = sign * (price - mid_before)
        touch = sign * (touch_before - mid_before) if touch_before and touch_before > 0.0 else math.nan
        self.start(ts_ns)
        orders = self._orders
        if orders:
            last = orders[-1]
            if last[0] == ts_ns and last[1] is aggressor:  # same sweep: keep the deepest print
                if depth > last[2]:
                    orders[-1] = (ts_ns, aggressor, depth, last[3], last[4])
                return
        orders.append((ts_ns, aggressor, depth, touch, mid_before))

    def add_records(self, records: Iterable) -> None:
        """Record trades from objects with ``ts_ns, price, aggressor, mid_before`` attributes
        (e.g. :class:`thalex_mm.core.market_state.TradeRecord`)."""
        for r in records:
            self.add_trade(r.ts_ns, r.price, r.aggressor, r.mid_before)

    def note_quote(self, now_ns: int) -> None:
        """The quoter used ``current`` at ``now_ns``: the time since the previous call counts
        as fitted when the estimate then in use was (see :attr:`fitted_fraction`)."""
        last = self._last_use_ns
        if last is not None and now_ns > last:
            dt = now_ns - last
            self._used_ns += dt
            if self._last_use_fitted:
                self._fitted_ns += dt
        if last is None or now_ns >= last:
            self._last_use_ns = now_ns
        self._last_use_fitted = self.current.source is IntensitySource.FIT

    @property
    def fitted_fraction(self) -> float | None:
        """Fraction of the quoting time (between :meth:`note_quote` calls) on fitted values,
        0..1; None before two calls."""
        return self._fitted_ns / self._used_ns if self._used_ns > 0 else None

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

    def reaches(self) -> tuple[list[OrderReach], float, bool]:
        """The window's fill-relevant orders as :class:`OrderReach` (ticks).

        Returns:
            ``(reaches, median spread in ticks, queue)``. ``queue`` is True for a market whose
            prints stop at the touch (a quote there waits in a queue): then only orders that
            traded *through* the touch count, each truncated at one tick beyond the touch
            (see the module docstring). False for a market that prints inside the touch (more
            than 10 % of the orders): every order counts, untruncated.
        """
        tick = self.tick_size
        assert tick is not None
        rows = []
        touches = []
        inside = 0
        for _, side, depth, touch, mid in self._orders:
            d = depth / tick
            # the first tick strictly beyond the mid on the hit side: the shallowest print
            m = mid / tick
            first = (math.floor(m + 1e-9) + 1 - m) if side is Side.BUY else (m - (math.ceil(m - 1e-9) - 1))
            h = touch / tick if math.isfinite(touch) else first
            if h < first - 1e-9:
                h = first  # a locked/crossed touch: the first tick beyond the mid
            if d < h - 1e-6:
                inside += 1
            rows.append((d, h))
            touches.append(h)
        n = len(rows)
        queue = n == 0 or inside <= _INSIDE_SHARE * n
        out = []
        cap = self.max_depth_ticks
        for d, h in rows:
            if queue:
                v = h + 1.0  # traded through the touch: reached at least the next level
                if d < v - 1e-6:
                    continue  # stopped at the touch: fills no quote waiting there
            else:
                v = 0.0
                if d + 1.0 <= 0.0:
                    continue  # printed a tick or more through the mid: a stale mid
            lower = max(d, v)
            upper = lower + 1.0
            if lower - v >= cap:
                lower, upper = v + cap, math.inf
            out.append(OrderReach(lower_ticks=lower, upper_ticks=upper, truncation_ticks=v))
        touches.sort()
        spread_ticks = 2.0 * touches[len(touches) // 2] if touches else 1.0
        return out, spread_ticks, queue

    def recalibrate(self, now_ns: int) -> IntensityEstimate:
        """Drop orders older than the window, fit, and set ``current``."""
        self._last_calibration_ns = now_ns
        cutoff = now_ns - self.window_ns
        orders = self._orders
        while orders and orders[0][0] < cutoff:
            orders.popleft()
        n = len(orders)
        if not self.enabled:
            est = IntensityEstimate(A=self.default_A, k=self.default_k, samples=n,
                                    source=IntensitySource.DISABLED, calibrated_ts_ns=now_ns)
        elif self.tick_size is None:
            est = IntensityEstimate(A=self.default_A, k=self.default_k, samples=n,
                                    source=IntensitySource.DEFAULT_INITIAL, calibrated_ts_ns=now_ns)
        else:
            est = self._fit(now_ns, cutoff)
        self.current = est
        return est

    def _fit(self, now_ns: int, cutoff: int) -> IntensityEstimate:
        tick = self.tick_size
        assert tick is not None
        start = self._start_ns if self._start_ns is not None else now_ns
        window_s = max((now_ns - max(start, cutoff)) / _NS_PER_S, 0.0)
        reaches, spread_ticks, queue = self.reaches()
        n = len(reaches)
        # a book one spread wide is swept about one spread deep; in a market that prints at
        # the order's limit (no queue) the spread says nothing about the reach: one tick
        prior_excess = max(1.0, spread_ticks) if queue else 1.0
        prior_k = math.log1p(1.0 / prior_excess)
        n0 = self.prior_orders
        post = fit_k_per_tick(reaches, prior_excess_ticks=prior_excess, prior_orders=n0)
        k_tick, info = post if post is not None else (prior_k, 0.0)
        data_only = fit_k_per_tick(reaches) if n else None
        vs = sorted(r.truncation_ticks for r in reaches)
        v_med = vs[len(vs) // 2] if vs else (0.5 * spread_ticks + 1.0 if queue else 0.0)
        # A: Gamma prior of one pseudo-order at the configured A
        exposure_s = 2.0 * window_s * math.exp(-k_tick * v_med)
        a0 = 1.0
        A = (n + a0) / (exposure_s + a0 / self.default_A)
        fitted_A = math.nan
        fitted_k = math.nan
        if data_only is not None and window_s > 0.0:
            kd = data_only[0]
            fitted_k = kd / tick
            fitted_A = n / (2.0 * window_s) * math.exp(kd * v_med)
        confidence = n / (n + n0) if (n + n0) > 0 else 0.0
        return IntensityEstimate(
            A=A * math.exp(-k_tick) if queue else A,
            A_market=A,
            k=k_tick / tick,
            k_per_tick=k_tick,
            confidence=confidence,
            k_rel_se=(1.0 / (k_tick * math.sqrt(info))) if info > 0.0 else math.nan,
            samples=n,
            source=IntensitySource.FIT if confidence >= 0.5 else IntensitySource.PRIOR,
            fitted_A=fitted_A,
            fitted_k=fitted_k,
            prior_k_per_tick=prior_k,
            tick_size=tick,
            calibrated_ts_ns=now_ns,
        )
