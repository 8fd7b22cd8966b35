"""Instrument-relative defaults: order size, position limits and γ from the instrument itself.

Why: fixed defaults in contracts (0.01 BTC orders, 0.05/0.1 BTC limits, γ = 0.1 per USD) are
BTC numbers; on an instrument priced at 2 USD they would quote 0.02 USD of notional, and γ in
1/(USD · unit) would skew by a fraction of a tick. Every such setting is therefore *unset* by
default and resolved here, once, when the quoter first knows the instrument and a price:

* order size (every level) = ``order.size_notional`` (quote currency) / price, rounded down to
  the volume tick, at least the instrument's minimum amount, at most ``risk.max_order_size``
  when that is set;
* position soft / hard limit = ``risk.soft_limit_orders`` / ``risk.hard_limit_orders`` × the
  level-0 order size (contracts);
* ``risk.max_order_size`` = the hard limit (contracts);
* ``avellaneda.unit_size`` = the level-0 order size (so q counts orders and q at the soft limit
  is ``soft_limit_orders`` whatever the price);
* γ = ``avellaneda.gamma_per_tick`` / tick size: risk aversion per tick of P&L. The model's σ,
  k and spreads then all scale with the tick, so the GLFT skew at the soft limit,
  ``q_soft · σ · c₂``, is the same number of ticks on any instrument with the same
  microstructure in ticks (docs/model.md §9).

An explicit value in the config always wins. Pure: no clock, no I/O.
"""

from __future__ import annotations

import math

from thalex_mm.config.models import AvellanedaConfig, BotConfig
from thalex_mm.core.types import Instrument

__all__ = ["needs_price", "relative_gamma", "resolve_for_instrument"]


def needs_price(config: BotConfig) -> bool:
    """True when some setting is relative to the price (order sizes unset)."""
    return config.order.sizes is None


def relative_gamma(avellaneda: AvellanedaConfig, tick_size: float) -> float:
    """γ in 1/(quote currency · unit): the explicit ``gamma``, else ``gamma_per_tick / tick``."""
    if avellaneda.gamma is not None:
        return avellaneda.gamma
    if not tick_size > 0:
        raise ValueError(f"tick_size: got {tick_size!r}, expected > 0")
    return avellaneda.gamma_per_tick / tick_size


def _order_size(config: BotConfig, instrument: Instrument, price: float) -> float:
    vtick = instrument.volume_tick_size
    raw = config.order.size_notional / price
    size = math.floor(round(raw / vtick, 8)) * vtick if vtick > 0 else raw
    size = max(size, instrument.min_order_amount, vtick)
    cap = config.risk.max_order_size
    if cap is not None and size > cap:
        size = cap
    return round(size, 12)


def resolve_for_instrument(config: BotConfig, instrument: Instrument, price: float) -> BotConfig:
    """``config`` with every unset instrument-relative setting filled in (see the module doc).

    Args:
        config: the effective BOT_CONFIG (explicit values are kept).
        instrument: tick sizes and minimum amount.
        price: the current fair price, quote currency per contract, > 0 (used only when the
            order sizes are unset).

    Raises:
        ValueError: a non-positive price when one is needed (the core calls this only with a
            positive mid).
    """
    order, risk, av = config.order, config.risk, config.avellaneda
    if order.sizes is None:
        if not (math.isfinite(price) and price > 0):
            raise ValueError(f"price: got {price!r}, expected > 0 to size orders from order.size_notional")
        sizes: tuple[float, ...] = (_order_size(config, instrument, price),)
    else:
        sizes = tuple(order.sizes)
    base = sizes[0]
    soft = risk.position_soft_limit if risk.position_soft_limit is not None else base * risk.soft_limit_orders
    hard = risk.position_hard_limit if risk.position_hard_limit is not None else base * risk.hard_limit_orders
    max_size = risk.max_order_size if risk.max_order_size is not None else max(hard, max(sizes))
    # no re-validation: the explicit values were validated with the config, and the resolved
    # ones keep its rules by construction (soft < hard orders, sizes capped at the max size);
    # the core must not raise on a config it already accepted
    return config.model_copy(update={
        "order": order.model_copy(update={"sizes": sizes}),
        "risk": risk.model_copy(update={"position_soft_limit": round(soft, 12),
                                        "position_hard_limit": round(hard, 12),
                                        "max_order_size": round(max_size, 12)}),
        "avellaneda": av.model_copy(update={
            "unit_size": av.unit_size if av.unit_size is not None else base,
            "gamma": relative_gamma(av, instrument.tick_size)}),
    })
