"""Break-even quote depth learned from the public tape: where would a resting quote have
stopped losing to the sweeps that filled it?

Why (issue 13): on a tick-constrained book a resting quote fills only when an order trades
*through* its price, and on the shared sessions such sweeps keep moving the mid: the GLFT
half-spread (which assumes fills do not move the price) sits where every fill marks out
negatively. The tape itself says how deep a quote must rest to break even, without waiting for
our own fills:

1. Each public order that traded through the touch (deepest print at depth d from the mid m₀
   just before it, touch at h, ticks) is marked ``horizon_s`` later against the mid then:
   move = side·(mid − m₀)/tick.
2. A quote resting x ticks behind the touch would have been filled by the orders with
   d − h > x, at depth h + x from m₀; its markout is (h + x) − move ticks (> 0 = profit).
3. Every ``recalibrate_s`` the smallest x of a grid (0, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48,
   64 ticks) whose mean markout over the window is >= 0, with at least ``min_fills`` such
   fills, is the **break-even depth**; when none breaks even with that evidence, the deepest x
   that still has the evidence (the tape shows every shallower depth losing).

The quote is then kept at least (h̃ + x) ticks from the fair value (h̃ the median touch
depth). Everything is in ticks of the instrument: nothing to tune per market.

Pure: time arrives as ns arguments.
"""

from __future__ import annotations

import math
from collections import deque

from thalex_mm.core.types import Side

__all__ = ["TapeMarkout"]

_NS = 1_000_000_000
_GRID_TICKS = (0, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64)


class TapeMarkout:
    """Rolling break-even depth from public sweeps (see the module docstring).

    Args:
        horizon_s: markout horizon, seconds (> 0).
        window_s: orders older than this are forgotten, seconds (> 0).
        recalibrate_s: how often the break-even depth is recomputed, seconds (> 0).
        min_fills: fills a grid depth needs before its mean counts (>= 1).
    """

    def __init__(self, *, horizon_s: float, window_s: float, recalibrate_s: float, min_fills: int = 10) -> None:
        self.horizon_ns = int(horizon_s * _NS)
        self.window_ns = int(window_s * _NS)
        self.recalibrate_ns = int(recalibrate_s * _NS)
        self.min_fills = min_fills
        self.tick: float | None = None
        # (ts, side, mid before, depth d, touch depth h); depths in quote currency
        self._pending: deque[tuple[int, Side, float, float, float]] = deque(maxlen=100_000)
        # (ts, excess d − h in ticks, touch depth h in ticks, move in ticks)
        self._marked: deque[tuple[int, float, float, float]] = deque(maxlen=100_000)
        self._last_calc_ns: int | None = None
        self.depth_ticks: float | None = None  # break-even distance from the fair value, ticks
        self.behind_touch_ticks: int | None = None

    def set_tick_size(self, tick: float) -> None:
        """Price tick, quote currency (> 0)."""
        if not tick > 0.0:
            raise ValueError(f"tick: got {tick!r}, expected > 0")
        self.tick = float(tick)

    def add_order(self, ts_ns: int, side: Side, price: float, mid_before: float | None,
                  touch_before: float | None) -> None:
        """A public order (its deepest print) at ``ts_ns``; prices in quote currency."""
        if mid_before is None or touch_before is None or not (price > 0.0 and mid_before > 0.0):
            return
        sign = 1.0 if side is Side.BUY else -1.0
        d = sign * (price - mid_before)
        h = sign * (touch_before - mid_before)
        pend = self._pending
        if pend and pend[-1][0] == ts_ns and pend[-1][1] is side:  # same sweep: deepest print
            if d > pend[-1][3]:
                pend[-1] = (ts_ns, side, mid_before, d, pend[-1][4])
            return
        pend.append((ts_ns, side, mid_before, d, h))

    def _mark(self, now_ns: int, mid: float) -> None:
        tick = self.tick
        assert tick is not None
        pend = self._pending
        while pend and pend[0][0] + self.horizon_ns <= now_ns:
            ts, side, m0, d, h = pend.popleft()
            sign = 1.0 if side is Side.BUY else -1.0
            excess = (d - h) / tick
            if excess >= 1.0 - 1e-6:  # traded through the touch: would fill a resting quote
                self._marked.append((ts, excess, h / tick, sign * (mid - m0) / tick))

    def update(self, now_ns: int, mid: float | None) -> float | None:
        """Mark due orders against ``mid`` (quote currency) and, when due, recompute.

        Returns:
            The break-even distance from the fair value, ticks (None: no evidence yet).
        """
        if self.tick is None or mid is None:
            return self.depth_ticks
        self._mark(now_ns, mid)
        last = self._last_calc_ns
        if last is None or now_ns - last >= self.recalibrate_ns:
            self._last_calc_ns = now_ns
            self._recompute(now_ns)
        return self.depth_ticks

    def _recompute(self, now_ns: int) -> None:
        marked = self._marked
        cutoff = now_ns - self.window_ns
        while marked and marked[0][0] < cutoff:
            marked.popleft()
        if not marked:
            self.depth_ticks = self.behind_touch_ticks = None
            return
        touches = sorted(r[2] for r in marked)
        h_med = touches[len(touches) // 2]
        chosen = None
        deepest = None
        for x in _GRID_TICKS:
            n = 0
            total = 0.0
            for _, excess, h, move in marked:
                if excess > x + 1e-9:
                    n += 1
                    total += (h + x) - move
            if n < self.min_fills:
                break
            deepest = x
            if total >= 0.0:
                chosen = x
                break
        best = chosen if chosen is not None else deepest
        self.behind_touch_ticks = best
        self.depth_ticks = None if best is None else h_med + best

    def widen(self, half_spread: float) -> float:
        """Extra distance (quote currency, >= 0) that brings ``half_spread`` to the break-even
        depth; 0 without evidence."""
        if self.depth_ticks is None or self.tick is None:
            return 0.0
        return max(0.0, self.depth_ticks * self.tick - half_spread) if math.isfinite(half_spread) else 0.0
