"""Inventory half-life control: work a position off within the horizon adverse moves last.

The markouts of the shared sessions are positive at 1 s and build their loss over ~10 s, much
of it from a one-order position held through a fast move. The GLFT skew depends on the size of
the position, not on how long it has been held, so a small position can rest for tens of
seconds. Here the quote centre moves toward the reducing side in proportion to the *age* of the
position (time since it last left zero or changed sign):

    shift = −sign(q) · ``inventory_age_skew`` · min(age / ``inventory_age_horizon_s``, 1) · h

h the model half-spread (quote currency). After ``inventory_age_horizon_s`` seconds the
reducing quote sits ``inventory_age_skew`` half-spreads closer to the fair value (the post-only
clamp of the quote builder still keeps it a tick behind the opposite best) and the adding side
the same further away. A flat position has no shift. Pure: the caller passes the time.
"""

from __future__ import annotations

_NS = 1_000_000_000


class InventoryAge:
    """Age of the current signed position and the centre shift it asks for.

    Args:
        horizon_s: age at which the shift reaches its full size, seconds, > 0.
        skew_halfspreads: the full shift, in model half-spreads, >= 0.
    """

    def __init__(self, horizon_s: float, skew_halfspreads: float) -> None:
        self.horizon_s = horizon_s
        self.skew_halfspreads = skew_halfspreads
        self._sign = 0
        self._since_ns = 0

    def update(self, now_ns: int, position: float) -> None:
        """Note the position (contracts) at ``now_ns``; the age restarts when its sign changes."""
        sign = (position > 0.0) - (position < 0.0)
        if sign != self._sign:
            self._sign = sign
            self._since_ns = now_ns

    def age_s(self, now_ns: int) -> float:
        """Seconds the current non-zero position has kept its sign (0 when flat)."""
        if self._sign == 0:
            return 0.0
        return max(0.0, (now_ns - self._since_ns) / _NS)

    def center_shift(self, now_ns: int, half_spread: float) -> float:
        """Shift of the quote centre, quote currency (> 0 moves both quotes up)."""
        if self._sign == 0:
            return 0.0
        frac = min(self.age_s(now_ns) / self.horizon_s, 1.0)
        return -self._sign * self.skew_halfspreads * frac * half_spread

