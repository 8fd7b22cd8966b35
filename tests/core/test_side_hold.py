"""SideHold: per-side backoff after refusals, doubling to a cap, reset after a quiet period."""

from __future__ import annotations

from thalex_mm.core.side_hold import SideHold
from thalex_mm.core.types import Side

S = 1_000_000_000


def test_side_hold_when_refused_in_a_row_doubles_to_cap_and_resets_after_quiet():
    hold = SideHold(0.5, 2.0, 10.0)
    lengths = [hold.on_refused(Side.BUY, i * S) for i in range(4)]
    assert lengths == [0.5, 1.0, 2.0, 2.0]
    assert hold.held(Side.BUY, 3 * S + S) and not hold.held(Side.BUY, 3 * S + 2 * S)
    assert not hold.held(Side.SELL, 3 * S)  # the other side is untouched
    assert hold.next_deadline_ns(3 * S) == 5 * S
    assert hold.on_refused(Side.BUY, 3 * S + 10 * S) == 0.5  # quiet for 10 s: starts again
    assert hold.next_deadline_ns(100 * S) is None
