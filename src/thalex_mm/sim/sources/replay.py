"""Replay a recorded event array at a chosen speed, without reading a clock or sleeping.

The driver owns time: it passes its clock to ``due_until(now_ns)`` and asks
``next_due_ns()`` when to wake up next. Scheduling maps exchange time to wall time::

    wall(i) = anchor_wall_ns + (exch_ts[i] - exch_ts[0]) / speed

where ``anchor_wall_ns`` is the ``now_ns`` of ``start`` (or of the first ``due_until`` call).
``speed=1.0`` is real time, ``N`` is N times faster, ``None`` is as fast as possible (every
event is due at once, handed out in chunks of at most ``max_chunk`` rows).

For offline drivers there is also ``iter_chunks``: the same schedule as
``(delay_ns, events)`` pairs, computed purely from the timestamps.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from thalex_mm.data.events import MARKET_EVENT_DTYPE
from thalex_mm.errors import InvalidState

__all__ = ["ReplaySource"]


class ReplaySource:
    """Hand out a sorted event array as its scheduled wall-clock times come.

    Args:
        events: a ``MARKET_EVENT_DTYPE`` array sorted by ``exch_ts``.
        speed: replay speed factor (> 0), or ``None`` for as fast as possible.
        max_chunk: the most rows one ``due_until`` call returns.

    Raises:
        ValueError: wrong dtype, unsorted events, or ``speed``/``max_chunk`` not > 0.
    """

    def __init__(
        self, events: np.ndarray, speed: float | None = 1.0, *, max_chunk: int = 65_536
    ) -> None:
        if events.dtype != MARKET_EVENT_DTYPE:
            raise ValueError(
                f"ReplaySource events: expected dtype MARKET_EVENT_DTYPE, got {events.dtype}"
            )
        if speed is not None and not (math.isfinite(speed) and speed > 0):
            raise ValueError(f"ReplaySource speed: got {speed!r}, expected a number > 0 or None")
        if max_chunk <= 0:
            raise ValueError(f"ReplaySource max_chunk: got {max_chunk!r}, expected > 0")
        ts = events["exch_ts"]
        if ts.size > 1 and np.any(np.diff(ts) < 0):
            raise ValueError("ReplaySource events: expected exch_ts sorted non-decreasing")
        self.events = events
        self.speed = speed
        self.max_chunk = max_chunk
        self._ts = np.ascontiguousarray(ts)
        self._t0 = int(ts[0]) if ts.size else 0
        self._pos = 0
        self._anchor_wall_ns: int | None = None

    @property
    def started(self) -> bool:
        """Whether the wall-clock anchor is set."""
        return self._anchor_wall_ns is not None

    @property
    def position(self) -> int:
        """Rows handed out so far."""
        return self._pos

    @property
    def exhausted(self) -> bool:
        """Every row has been handed out."""
        return self._pos >= len(self.events)

    def start(self, now_ns: int) -> None:
        """Anchor the first event's exchange time to wall time ``now_ns``.

        Raises:
            InvalidState: already started.
        """
        if self._anchor_wall_ns is not None:
            raise InvalidState("ReplaySource.start called twice")
        self._anchor_wall_ns = int(now_ns)

    def _scheduled_ns(self, exch_ts: int) -> int:
        assert self._anchor_wall_ns is not None
        if self.speed is None:
            return self._anchor_wall_ns
        return self._anchor_wall_ns + math.ceil((exch_ts - self._t0) / self.speed)

    def next_due_ns(self) -> int | None:
        """Wall time (ns) when the next row is due; ``None`` when exhausted.

        Before ``start`` the next row is due immediately (returns 0).
        """
        if self.exhausted:
            return None
        if self._anchor_wall_ns is None:
            return 0
        return self._scheduled_ns(int(self._ts[self._pos]))

    def delay_ns(self, now_ns: int) -> int | None:
        """How long the driver should wait from ``now_ns`` (≥ 0); ``None`` when exhausted."""
        due = self.next_due_ns()
        return None if due is None else max(0, due - now_ns)

    def due_until(self, now_ns: int) -> np.ndarray:
        """The rows whose scheduled wall time is ``<= now_ns`` (at most ``max_chunk``).

        The first call anchors the schedule at ``now_ns`` if ``start`` was not called.

        Args:
            now_ns: the driver's current wall time, ns.

        Returns:
            A view into the event array (possibly empty).
        """
        if self._anchor_wall_ns is None:
            self.start(now_ns)
        assert self._anchor_wall_ns is not None
        n = len(self.events)
        if self._pos >= n:
            return self.events[n:]
        if self.speed is None:
            end = n
        else:
            elapsed = now_ns - self._anchor_wall_ns
            if elapsed < 0:
                return self.events[self._pos : self._pos]
            limit = self._t0 + math.floor(elapsed * self.speed)
            end = int(np.searchsorted(self._ts, limit, side="right"))
        end = min(end, self._pos + self.max_chunk)
        chunk = self.events[self._pos : end]
        self._pos = max(self._pos, end)
        return chunk

    def iter_chunks(self, min_delay_ns: int = 1_000_000) -> Iterator[tuple[int, np.ndarray]]:
        """The whole schedule as ``(delay_ns, events)`` pairs, from the current position.

        Rows whose scheduled times fall in the same ``min_delay_ns`` wall-clock bucket form
        one chunk; ``delay_ns`` is the wall time to wait after handing out the previous chunk
        (0 for the first). With ``speed=None`` every delay is 0 and chunks have
        ``max_chunk`` rows. Does not touch the ``due_until`` position.

        Args:
            min_delay_ns: chunk granularity in wall time, ns (> 0).
        """
        if min_delay_ns <= 0:
            raise ValueError(f"iter_chunks min_delay_ns: got {min_delay_ns}, expected > 0")
        ev = self.events[self._pos :]
        if ev.size == 0:
            return
        if self.speed is None:
            for i in range(0, len(ev), self.max_chunk):
                yield 0, ev[i : i + self.max_chunk]
            return
        sched = np.ceil((ev["exch_ts"] - self._t0) / self.speed).astype(np.int64)
        bucket = sched // min_delay_ns
        starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
        ends = np.r_[starts[1:], len(ev)]
        prev = int(sched[starts[0]])
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
            now = int(sched[s])
            yield now - prev, ev[s:e]
            prev = now
