"""Trend fade: lean the quote centre against the recent trend of the price.

Measured on the shared sessions (docs/model.md §8): with the centre moved *with* the trend
slope of §5 (60 s EMA of 1 s log returns) by 10 s of it, PnL per notional fell by ~0.6–0.8 bps
in every world; moved *against* it, every session gained: the price reverts at the quoting
timescale (bid–ask bounce of the microprice, short-term reversal after sweeps). Pure.
"""

from __future__ import annotations

from thalex_mm.core.signals import TrendReading


def trend_fade_shift(trend: TrendReading | None, price: float, fade_s: float) -> float:
    """Trend fade: −(the move of the price over ``fade_s`` seconds at the trend slope, EW mean
    log return per second), quote currency; 0 during the trend's warm-up. Prices on the shared
    sessions revert at the quoting timescale, so the centre leans against the recent trend
    (``fade_s`` < 0 follows it instead)."""
    if trend is None:
        return 0.0
    return -trend.slope_logret_per_s * price * fade_s
