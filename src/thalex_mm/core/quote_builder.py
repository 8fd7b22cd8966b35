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
from dataclasses import dataclass

from thalex_mm.config.models import AvellanedaConfig, HorizonMode, OrderConfig, QuotingConfig
from thalex_mm.core.model import (
    as_quote,
    glft_quote,
    parse_session_end_utc,
    seconds_to_session_end,
)
from thalex_mm.core.types import Instrument, QuoteLevel, Side, WantedQuotes, round_to_tick

__all__ = ["QuoteBuilder", "QuoteFigures"]


@dataclass(frozen=True, slots=True)
class QuoteFigures:
    """Intermediate figures of one quote computation (dashboard / journal).

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
        self._tick = instrument.tick_size
        self._vtick = instrument.volume_tick_size
        self._min_amount = instrument.min_order_amount
        self._session_end_s = parse_session_end_utc(avellaneda.session_end_utc)
        self._sizes = tuple(order.size_for_level(i) for i in range(order.levels))
        self._min_half = 0.5 * quoting.min_spread_ticks * self._tick
        self._max_half = 0.5 * quoting.max_spread_ticks * self._tick

    def tau_s(self, ts_ns: int) -> float:
        """T − t in seconds for the configured horizon (inf for the infinite horizon)."""
        mode = self.av.horizon
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

        Returns:
            ``(WantedQuotes, QuoteFigures)``.
        """
        av = self.av
        tick = self._tick
        q = position / av.unit_size
        gamma = av.gamma
        if av.horizon is HorizonMode.INFINITE:
            tau = math.inf
            mq = glft_quote(
                fair_value, q, gamma, sigma, k, A,
                half_spread_multiplier=av.half_spread_multiplier,
                skew_multiplier=av.skew_multiplier,
            )
            model = "glft"
        else:
            tau = self.tau_s(ts_ns)
            mq = as_quote(fair_value, q, gamma, sigma, tau, k)
            model = "as"
        center = mq.center
        half = mq.half_spread
        fee = av.maker_fee_rate
        if fee > 0.0 and half < fee * fair_value:
            half = fee * fair_value
        if half < self._min_half:
            half = self._min_half
        elif half > self._max_half:
            half = self._max_half
        figures = QuoteFigures(model, fair_value, q, center, half, mq.skew, sigma, A, k, tau)

        if position_limit is not None and self.quoting.one_sided_at_limit and abs(position) >= position_limit:
            if position > 0:
                allow_bid = False
            elif position < 0:
                allow_ask = False
        spacing = (
            self.order.level_spacing_fraction * half
            if self.order.level_spacing_fraction is not None
            else self.order.level_spacing_ticks * tick
        )
        eta = av.eta
        shrink = math.exp(-eta * abs(q)) if eta > 0.0 and q != 0.0 else 1.0
        bid_mult = shrink if q > 0 else 1.0
        ask_mult = shrink if q < 0 else 1.0
        cross_ok = self.quoting.allow_cross
        bids: tuple[QuoteLevel, ...] = ()
        asks: tuple[QuoteLevel, ...] = ()
        if allow_bid:
            cap = math.inf
            if not cross_ok and best_ask is not None:
                cap = _floor(best_ask - tick, tick)
            bids = self._side(Side.BUY, center - half, -spacing, cap, bid_mult)
        if allow_ask:
            floor_ = -math.inf
            if not cross_ok and best_bid is not None:
                floor_ = _ceil(best_bid + tick, tick)
            asks = self._side(Side.SELL, center + half, spacing, floor_, ask_mult)
        return WantedQuotes(instrument=self.instrument.name, bids=bids, asks=asks), figures

    def _side(self, side: Side, top: float, step: float, bound: float, size_mult: float) -> tuple[QuoteLevel, ...]:
        """Levels of one side: ``step`` < 0 for bids (cap = ``bound``), > 0 for asks (floor)."""
        tick = self._tick
        vtick = self._vtick
        min_amount = self._min_amount
        is_bid = side is Side.BUY
        out: list[QuoteLevel] = []
        prev = math.nan
        for i, base in enumerate(self._sizes):
            raw = top + i * step
            if is_bid:
                price = _floor(raw, tick)
                if price > bound:
                    price = bound
                if out and price > prev - tick:
                    price = _floor(prev - tick, tick)
                if price <= 0.0:
                    break
            else:
                price = _ceil(raw, tick)
                if price < bound:
                    price = bound
                if out and price < prev + tick:
                    price = _ceil(prev + tick, tick)
            amount = _floor(base * size_mult, vtick)
            if amount < min_amount or amount <= 0.0:
                continue
            out.append(QuoteLevel(side=side, level=len(out), price=price, amount=amount))
            prev = price
        return tuple(out)



def _floor(value: float, tick: float) -> float:
    """Round down to a multiple of ``tick`` (bids, sizes)."""
    return round_to_tick(value, tick, "down")


def _ceil(value: float, tick: float) -> float:
    """Round up to a multiple of ``tick`` (asks)."""
    return round_to_tick(value, tick, "up")
