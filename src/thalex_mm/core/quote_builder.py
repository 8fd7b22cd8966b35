"""QuoteBuilder: model → multi-level, shaped, bounded, tick-aligned ``WantedQuotes``.

One call of :meth:`QuoteBuilder.build` is the per-quote hot path (plain floats, no numpy).
Steps (docs/model.md §6):

1. q = position / unit_size (units).
2. Model: AS (finite or rolling horizon: T − t from ``ts_ns``) or GLFT (infinite horizon, with
   the configured half-spread and skew multipliers).
3. Maker fee: when ``maker_fee_rate`` > 0, half_spread >= maker_fee_rate · fair value (a fill
   at our price never loses the fee against fair value). Rebates never narrow the spread.
4. Total spread clamped to [min_spread_ticks, max_spread_ticks] · tick_size.
5. Levels: level i sits i · spacing further out; spacing = level_spacing_fraction · half_spread
   when set, else level_spacing_ticks · tick_size.
6. Rounding in the safe direction: bids down, asks up (``round_to_tick``); unless
   ``allow_cross``, a bid never above best ask − 1 tick and an ask never below best bid + 1 tick;
   deeper levels at least one tick behind the previous one; prices <= 0 dropped.
7. Sizes: OrderConfig.sizes per level; the side that adds to |inventory| shrinks by
   exp(−η·|q|); rounded down to volume_tick_size; below min_order_amount dropped.
8. One-sided: the caller (RiskManager) may forbid a side; with ``one_sided_at_limit`` and a
   ``position_limit`` reached, the side that would grow |position| is not quoted.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from thalex_mm.config.models import AvellanedaConfig, HorizonMode, OrderConfig, QuotingConfig
from thalex_mm.core.instrument_scale import relative_gamma
from thalex_mm.core.model import (
    glft_coefficients,
    parse_session_end_utc,
    seconds_to_session_end,
)
from thalex_mm.core.types import Instrument, QuoteLevel, Side, WantedQuotes

__all__ = ["QuoteBuilder", "QuoteFigures"]

_BUY = Side.BUY
_SELL = Side.SELL
_floor = math.floor
_ceil = math.ceil
_new_level = tuple.__new__  # QuoteLevel is a NamedTuple: build it without the keyword wrapper


class QuoteFigures(NamedTuple):
    """Intermediate figures of one quote computation (dashboard / journal).

    A NamedTuple rather than a frozen dataclass: it is built on every quote and a frozen
    dataclass costs about 1 µs to construct here, a tuple about 0.2 µs. It is immutable too.

    Attributes:
        model: ``"as"`` or ``"glft"``.
        fair_value: s, quote currency.
        q: inventory, units (position / unit_size).
        reservation_price: centre of the quotes, quote currency.
        half_spread: after fee and min/max clamps, quote currency.
        skew: centre shift per unit of inventory, quote currency per unit.
        sigma: σ, quote currency per √second.
        A: arrivals per second per side.
        k: 1 / quote currency.
        tau_s: T − t, seconds (inf for GLFT).
    """

    model: str
    fair_value: float
    q: float
    reservation_price: float
    half_spread: float
    skew: float
    sigma: float
    A: float
    k: float
    tau_s: float


class QuoteBuilder:
    """Builds the wanted quotes of one instrument.

    The model formulas are those of :mod:`thalex_mm.core.model` (``as_quote``, ``glft_quote``);
    here they are evaluated with coefficients cached per (k, A), since k and A only change on
    recalibration. Tests pin the builder's output to those functions.

    Args:
        instrument: tick sizes and minimum amount (from ``public/instruments``).
        avellaneda: model parameters (γ, horizon, multipliers, η, unit size, fees).
        quoting: spread bounds, cross rule, one-sided rule.
        order: sizes, levels, spacing.
    """

    def __init__(
        self,
        instrument: Instrument,
        avellaneda: AvellanedaConfig,
        quoting: QuotingConfig,
        order: OrderConfig,
    ) -> None:
        if not (instrument.tick_size > 0 and instrument.volume_tick_size > 0):
            raise ValueError(
                f"instrument {instrument.name}: tick_size={instrument.tick_size!r} "
                f"volume_tick_size={instrument.volume_tick_size!r}, expected both > 0"
            )
        self.instrument = instrument
        self.av = avellaneda
        self.quoting = quoting
        self.order = order
        self._name = instrument.name
        self._tick = instrument.tick_size
        self._vtick = instrument.volume_tick_size
        self._min_amount = instrument.min_order_amount
        self._session_end_s = parse_session_end_utc(avellaneda.session_end_utc)
        self._sizes = tuple(order.size_for_level(i) for i in range(order.levels))
        self._min_half = 0.5 * quoting.min_spread_ticks * self._tick
        self._max_half = 0.5 * quoting.max_spread_ticks * self._tick
        self._mode = avellaneda.horizon
        # unset γ is per tick of this instrument; unset unit is the level-0 order size
        self._gamma = relative_gamma(avellaneda, self._tick)
        self._unit = avellaneda.unit_size if avellaneda.unit_size is not None else self._sizes[0]
        # GLFT lot size Δ in inventory units: one quote of the first level's size moves q by Δ
        self._lot = self._sizes[0] / self._unit if self._sizes else 1.0
        self._fee = avellaneda.maker_fee_rate
        self._eta = avellaneda.eta
        self._hm = avellaneda.half_spread_multiplier
        self._sm = avellaneda.skew_multiplier
        self._cross_ok = quoting.allow_cross
        self._one_sided = quoting.one_sided_at_limit
        self._frac = order.level_spacing_fraction
        self._spacing_ticks = order.level_spacing_ticks * self._tick
        self._spacing_int = order.level_spacing_ticks
        # integral ticks (e.g. 1 USD): n·tick is exact, no rounding needed
        self._tick_is_int = float(self._tick).is_integer()
        self._coef_key: tuple[float, float] | None = None
        self._c1 = self._c2 = 0.0
        self._as_key: float | None = None
        self._as_arrival = 0.0
        self._step_ticks = self._spacing_int if self._frac is None else None
        self._level_range = range(len(self._sizes))
        self._full_amounts = tuple(self._amount(sz) for sz in self._sizes)
        # amounts per inventory shrink factor (bounded; cleared when full)
        self._amounts_memo: dict[float, tuple[float, ...]] = {}
        self._last_wanted = WantedQuotes(instrument=self._name)
        self._last_figures: QuoteFigures | None = None
        self._last_key: tuple | None = None  # inputs of the last build

    @property
    def gamma(self) -> float:
        """γ in use, 1/(quote currency · unit) (resolved from gamma_per_tick when unset)."""
        return self._gamma

    def tau_s(self, ts_ns: int) -> float:
        """T − t in seconds for the configured horizon (inf for the infinite horizon)."""
        mode = self._mode
        if mode is HorizonMode.FINITE:
            return seconds_to_session_end(ts_ns, self._session_end_s)
        if mode is HorizonMode.ROLLING:
            return self.av.horizon_s
        return math.inf

    def build(
        self,
        *,
        ts_ns: int,
        fair_value: float,
        sigma: float,
        A: float,
        k: float,
        position: float,
        best_bid: float | None = None,
        best_ask: float | None = None,
        allow_bid: bool = True,
        allow_ask: bool = True,
        position_limit: float | None = None,
        widen_bid: float = 0.0,
        widen_ask: float = 0.0,
    ) -> tuple[WantedQuotes, QuoteFigures]:
        """Compute the wanted quotes.

        Args:
            ts_ns: now, ns since epoch (for the finite horizon).
            fair_value: s, quote currency.
            sigma: σ, quote currency per √second.
            A: arrivals per second per side at depth 0.
            k: arrival decay, 1 / quote currency.
            position: current position, contracts (short < 0).
            best_bid: market best bid, quote currency (None = unknown: no clamp on asks).
            best_ask: market best ask, quote currency (None = unknown: no clamp on bids).
            allow_bid: False forbids bids (RiskManager decision).
            allow_ask: False forbids asks.
            position_limit: |position| (contracts) at which, with ``one_sided_at_limit``, the
                side that grows |position| is dropped; None = no such rule here.
            widen_bid: extra distance of the bid beyond the clamped half-spread, quote
                currency, >= 0 (the adverse-selection guard).
            widen_ask: the same for the ask.

        Returns:
            ``(WantedQuotes, QuoteFigures)``.

        Raises:
            ValueError: k or A not > 0 (GLFT), or k not > 0 (AS).
        """
        # the same inputs give the same quotes (the finite horizon also depends on ts_ns)
        key = (fair_value, sigma, A, k, position, best_bid, best_ask, allow_bid, allow_ask,
               position_limit, ts_ns if self._mode is HorizonMode.FINITE else 0, widen_bid, widen_ask)
        last_figures = self._last_figures  # set together with _last_key
        if key == self._last_key and last_figures is not None:
            return self._last_wanted, last_figures
        tick = self._tick
        q = position / self._unit
        gamma = self._gamma
        if self._mode is HorizonMode.INFINITE:
            if self._coef_key != (k, A):
                self._c1, self._c2 = glft_coefficients(gamma, k, A, self._lot)
                self._coef_key = (k, A)
            sc2 = sigma * self._c2
            half = self._hm * (self._c1 + 0.5 * self._lot * sc2)
            skew = self._sm * sc2
            tau = math.inf
            model = "glft"
        else:
            if self._as_key != k:
                if not k > 0.0:
                    raise ValueError(f"k: got {k!r}, expected > 0")
                self._as_arrival = math.log1p(gamma / k) / gamma
                self._as_key = k
            tau = self.tau_s(ts_ns)
            skew = gamma * sigma * sigma * tau
            half = 0.5 * skew + self._as_arrival
            model = "as"
        center = fair_value - q * skew
        fee = self._fee
        if fee > 0.0 and half < fee * fair_value:
            half = fee * fair_value
        if half < self._min_half:
            half = self._min_half
        elif half > self._max_half:
            half = self._max_half
        figures = QuoteFigures(model, fair_value, q, center, half, skew, sigma, A, k, tau)

        bid_room = ask_room = None
        if position_limit is not None and self._one_sided:
            if abs(position) >= position_limit:
                if position > 0:
                    allow_bid = False
                elif position < 0:
                    allow_ask = False
            # the side that grows |position| never quotes more than the room left to the limit
            # (a partial fill must not let a full-size order carry |position| past it)
            bid_room = position_limit - position if position >= 0 else None
            ask_room = position_limit + position if position <= 0 else None
        frac = self._frac
        spacing = frac * half if frac is not None else self._spacing_ticks
        eta = self._eta
        shrink = math.exp(-eta * abs(q)) if eta > 0.0 and q != 0.0 else 1.0
        cross_ok = self._cross_ok
        bids: tuple[QuoteLevel, ...] = ()
        asks: tuple[QuoteLevel, ...] = ()
        if allow_bid:
            # highest allowed bid, in ticks: one tick below the best ask (rounded down)
            n_cap = None
            if not cross_ok and best_ask is not None:
                n_cap = math.floor(round(best_ask / tick, 8)) - 1
            bids = self._bids(center - half - widen_bid, spacing, n_cap, shrink if q > 0 else 1.0, bid_room)
        if allow_ask:
            # lowest allowed ask, in ticks: one tick above the best bid (rounded up)
            n_floor = None
            if not cross_ok and best_bid is not None:
                n_floor = math.ceil(round(best_bid / tick, 8)) + 1
            asks = self._asks(center + half + widen_ask, spacing, n_floor, shrink if q < 0 else 1.0, ask_room)
        last = self._last_wanted
        if bids != last.bids or asks != last.asks:
            # a new object only when the quotes changed (they are immutable; callers may
            # then short-cut on identity)
            last = self._last_wanted = WantedQuotes(instrument=self._name, bids=bids, asks=asks)
        self._last_figures = figures
        self._last_key = key
        return last, figures

    def _scaled_amounts(self, size_mult: float) -> tuple[float, ...]:
        """Per-level amounts for an inventory shrink factor (memoised: positions repeat)."""
        memo = self._amounts_memo
        amounts = memo.get(size_mult)
        if amounts is None:
            if len(memo) >= 4096:
                memo.clear()
            amounts = memo[size_mult] = tuple(self._amount(sz * size_mult) for sz in self._sizes)
        return amounts

    def _bids(self, top: float, spacing: float, n_cap: int | None, size_mult: float,
              room: float | None = None) -> tuple[QuoteLevel, ...]:
        """Bid levels best-first: rounded down, <= n_cap ticks, each >= 1 tick below the previous.

        Works in integer ticks n; the price n·tick (rounded to 8 decimals for fractional ticks)
        is exactly what ``round_to_tick(x, tick, "down")`` returns, at one rounding per side.
        """
        tick = self._tick
        exact = self._tick_is_int
        rnd = round
        step_ticks = self._step_ticks
        amounts = self._full_amounts if size_mult == 1.0 else self._scaled_amounts(size_mult)
        min_amount = self._min_amount
        out: list[QuoteLevel] = []
        n_prev = 0
        for i in self._level_range:
            if i == 0 or step_ticks is None:
                n = _floor(rnd((top - i * spacing) / tick, 8))
            else:
                n = n_prev - step_ticks
            if n_cap is not None and n > n_cap:
                n = n_cap
            if out and n >= n_prev:
                n = n_prev - 1
            if n <= 0:
                break
            amount = amounts[i]
            if room is not None:
                if amount > room:
                    amount = self._amount(room) if room > 0.0 else 0.0
                room -= amount
            if amount < min_amount or amount <= 0.0:
                if i == 0:
                    n_prev = n
                continue
            out.append(_new_level(QuoteLevel, (
                _BUY, len(out), n * tick if exact else rnd(n * tick, 8), amount)))
            n_prev = n
        return tuple(out)

    def _asks(self, top: float, spacing: float, n_floor: int | None, size_mult: float,
              room: float | None = None) -> tuple[QuoteLevel, ...]:
        """Ask levels best-first: rounded up, >= n_floor ticks, each >= 1 tick above the previous."""
        tick = self._tick
        exact = self._tick_is_int
        rnd = round
        step_ticks = self._step_ticks
        amounts = self._full_amounts if size_mult == 1.0 else self._scaled_amounts(size_mult)
        min_amount = self._min_amount
        out: list[QuoteLevel] = []
        n_prev = 0
        for i in self._level_range:
            if i == 0 or step_ticks is None:
                n = _ceil(rnd((top + i * spacing) / tick, 8))
            else:
                n = n_prev + step_ticks
            if n_floor is not None and n < n_floor:
                n = n_floor
            if out and n <= n_prev:
                n = n_prev + 1
            amount = amounts[i]
            if room is not None:
                if amount > room:
                    amount = self._amount(room) if room > 0.0 else 0.0
                room -= amount
            if amount < min_amount or amount <= 0.0:
                if i == 0:
                    n_prev = n
                continue
            out.append(_new_level(QuoteLevel, (
                _SELL, len(out), n * tick if exact else rnd(n * tick, 8), amount)))
            n_prev = n
        return tuple(out)

    def _amount(self, size: float) -> float:
        """Size rounded down to volume_tick_size, contracts."""
        vtick = self._vtick
        return round(math.floor(round(size / vtick, 8)) * vtick, 8)

