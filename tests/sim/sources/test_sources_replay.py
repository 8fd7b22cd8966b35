"""ReplaySource: scheduling by exchange time at a speed, driven by the caller's clock."""

from __future__ import annotations

import numpy as np
import pytest

from thalex_mm.data import EventKind, events_from_columns
from thalex_mm.sim.sources import ReplaySource

S = 1_000_000_000  # ns per s
T0 = 1_700_000_000 * S
WALL = 5 * S


def _events(offsets_s: list[float]) -> np.ndarray:
    ts = [T0 + round(o * S) for o in offsets_s]
    n = len(ts)
    return events_from_columns(
        [EventKind.TRADE] * n, [1] * n, ts, ts, np.arange(n) + 100.0, [1.0] * n
    )


def test_replay_when_real_time_hands_out_events_as_their_time_comes() -> None:
    src = ReplaySource(_events([0, 0.5, 1.0, 1.0, 3.0]), speed=1.0)
    assert src.next_due_ns() == 0  # not started: due at once
    assert len(src.due_until(WALL)) == 1  # anchors; the first event is due immediately
    assert src.next_due_ns() == WALL + S // 2
    assert src.delay_ns(WALL + S // 4) == S // 4
    assert len(src.due_until(WALL + S // 2 - 1)) == 0
    assert src.due_until(WALL + S)["price"].tolist() == [101.0, 102.0, 103.0]
    assert src.next_due_ns() == WALL + 3 * S
    assert len(src.due_until(WALL + 10 * S)) == 1
    assert src.exhausted and src.next_due_ns() is None and src.delay_ns(0) is None
    assert len(src.due_until(WALL + 20 * S)) == 0


def test_replay_when_faster_compresses_wall_time() -> None:
    src = ReplaySource(_events([0, 10, 20]), speed=10.0)
    src.start(WALL)
    assert src.next_due_ns() == WALL
    src.due_until(WALL)
    assert src.next_due_ns() == WALL + S  # 10 s of exchange time in 1 s
    assert len(src.due_until(WALL + 2 * S)) == 2


def test_replay_when_speed_none_everything_is_due_in_chunks() -> None:
    src = ReplaySource(_events([i * 100.0 for i in range(10)]), speed=None, max_chunk=4)
    sizes = []
    while not src.exhausted:
        assert src.next_due_ns() is not None and src.next_due_ns() <= WALL
        sizes.append(len(src.due_until(WALL)))
    assert sizes == [4, 4, 2]


def test_replay_iter_chunks_when_speed_two_delays_sum_to_half_the_span() -> None:
    offsets = [0, 0.0001, 0.4, 1.0, 1.0005, 7.0]
    src = ReplaySource(_events(offsets), speed=2.0)
    chunks = list(src.iter_chunks(min_delay_ns=1_000_000))
    assert [len(c) for _, c in chunks] == [2, 1, 2, 1]  # 0.1 ms and 0.5 ms gaps merge at 2x
    assert [d for d, _ in chunks] == [0, 200_000_000, 300_000_000, 3_000_000_000]
    assert sum(d for d, _ in chunks) == (7 * S) // 2
    assert src.position == 0  # iter_chunks does not consume


def test_replay_when_input_invalid_raises() -> None:
    with pytest.raises(ValueError, match="speed"):
        ReplaySource(_events([0]), speed=0.0)
    with pytest.raises(ValueError, match="sorted"):
        ReplaySource(_events([1, 0]))
    with pytest.raises(ValueError, match="dtype"):
        ReplaySource(np.zeros(3))
    empty = ReplaySource(_events([]))
    assert empty.exhausted and len(empty.due_until(WALL)) == 0


def test_sources_when_imported_modules_checked_use_no_clock_or_global_randomness() -> None:
    import ast
    from pathlib import Path

    import thalex_mm.sim.sources as pkg

    banned = {"time", "random", "asyncio", "threading", "datetime", "uuid", "socket", "logging"}
    for path in Path(pkg.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                names = {(node.module or "").split(".")[0]}
            else:
                continue
            assert not names & banned, f"{path.name} imports {names & banned}"
