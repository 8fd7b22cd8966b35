"""Hold a side after the venue refuses our order on it, instead of re-sending it blindly.

A refused insert or amend (price, amount, tick, margin, collar, reduce-only ... the ``Drop``
codes of ``budget.classify_error``) would be planned again, identically, at the next quote
step: the model still wants it. So the side that was refused is held for a backoff that
doubles with each refusal in a row (``initial_s`` up to ``cap_s``) and resets after a quiet
period; while held, the side is not quoted (its orders are pulled, which also frees margin).

Pure: time arrives as ``now_ns`` arguments.
"""

from __future__ import annotations

from thalex_mm.core.types import Side

__all__ = ["SideHold"]

_NS_PER_S = 1_000_000_000


class SideHold:
    """Per-side backoff after refusals.

    Args:
        initial_s: first hold, s.
        cap_s: longest hold, s.
        quiet_reset_s: a refusal this long after the previous one starts again at ``initial_s``.
    """

    __slots__ = ("_cap_s", "_initial_s", "_last_ns", "_length_s", "_quiet_ns", "_until_ns")

    def __init__(self, initial_s: float, cap_s: float, quiet_reset_s: float) -> None:
        self._initial_s = initial_s
        self._cap_s = max(cap_s, initial_s)
        self._quiet_ns = int(quiet_reset_s * _NS_PER_S)
        self._until_ns: dict[Side, int] = {Side.BUY: 0, Side.SELL: 0}
        self._last_ns: dict[Side, int | None] = {Side.BUY: None, Side.SELL: None}
        self._length_s: dict[Side, float] = {Side.BUY: 0.0, Side.SELL: 0.0}

    def on_refused(self, side: Side, now_ns: int) -> float:
        """The venue refused an order on ``side`` at ``now_ns``; returns the hold length, s."""
        last = self._last_ns[side]
        if last is None or now_ns - last >= self._quiet_ns:
            length = self._initial_s
        else:
            length = min(self._length_s[side] * 2.0, self._cap_s)
        self._last_ns[side] = now_ns
        self._length_s[side] = length
        self._until_ns[side] = max(self._until_ns[side], now_ns + int(length * _NS_PER_S))
        return length

    def held(self, side: Side, now_ns: int) -> bool:
        return now_ns < self._until_ns[side]

    def next_deadline_ns(self, now_ns: int) -> int | None:
        """When the next hold ends (ns), or None if no side is held."""
        ends = [t for t in self._until_ns.values() if t > now_ns]
        return min(ends) if ends else None
