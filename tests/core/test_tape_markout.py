"""Break-even depth from public sweeps: marking, the grid rule, widening."""

from __future__ import annotations

import pytest

from thalex_mm.core.tape_markout import TapeMarkout
from thalex_mm.core.types import Side

S = 1_000_000_000


def tape(min_fills: int = 3) -> TapeMarkout:
    t = TapeMarkout(horizon_s=5.0, window_s=600.0, recalibrate_s=30.0, min_fills=min_fills)
    t.set_tick_size(1.0)
    return t


def sweep(t: TapeMarkout, ts_s: float, excess_ticks: int, side: Side = Side.BUY) -> None:
    """A buy (sell) that trades ``excess_ticks`` through a touch half a tick from mid 100."""
    sign = 1 if side is Side.BUY else -1
    t.add_order(int(ts_s * S), side, 100.0 + sign * (0.5 + excess_ticks), 100.0, 100.0 + sign * 0.5)


def test_tape_markout_when_sweeps_keep_going_break_even_is_deeper_than_their_move():
    t = tape()
    for i in range(10):
        sweep(t, i, 3)  # each buy sweeps 3 ticks through the touch ...
    # ... and 5 s later the mid is 4 ticks higher: a quote must rest beyond 4.5 ticks from mid
    t.update(20 * S, 104.0)
    for i in range(10, 20):
        sweep(t, i, 8)
    got = t.update(60 * S, 104.0)
    # x = 0, 1, 2 ticks behind the touch: filled by all 20, markout (0.5 + x) − 4 < 0;
    # x = 3 ticks: filled by the 10 deep ones only, markout 3.5 − 4 < 0; x = 4: 4.5 − 4 >= 0
    assert t.behind_touch_ticks == 4
    assert got == pytest.approx(4.5)
    assert t.widen(2.0) == pytest.approx(2.5)
    assert t.widen(6.0) == 0.0


def test_tape_markout_when_sweeps_revert_break_even_is_at_the_touch():
    t = tape()
    for i in range(10):
        sweep(t, i, 2, Side.SELL)
    got = t.update(30 * S, 100.0)  # the mid came back: a quote at the touch earns half a tick
    assert t.behind_touch_ticks == 0 and got == pytest.approx(0.5)


def test_tape_markout_when_touch_prints_only_has_no_evidence_and_does_not_widen():
    t = tape()
    for i in range(20):
        t.add_order(i * S, Side.BUY, 100.5, 100.0, 100.5)  # stopped at the touch
    assert t.update(60 * S, 103.0) is None
    assert t.widen(1.0) == 0.0


def test_tape_markout_when_no_depth_breaks_even_uses_the_deepest_with_evidence():
    t = tape(min_fills=5)
    for i in range(6):
        sweep(t, i, 5)
    t.update(30 * S, 120.0)  # every quote shallower than 20 ticks lost; evidence ends at x = 4
    assert t.behind_touch_ticks == 4


def test_tape_markout_when_same_sweep_prints_several_levels_keeps_the_deepest():
    t = tape(min_fills=1)
    t.add_order(S, Side.BUY, 101.5, 100.0, 100.5)
    t.add_order(S, Side.BUY, 103.5, 100.0, 100.5)
    t.update(10 * S, 100.0)
    assert len(t._marked) == 1 and t._marked[0][1] == pytest.approx(3.0)
