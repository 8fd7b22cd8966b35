"""Queue-position models: how far our resting order moves up when others cancel.

When the external (other participants') size at the price of one of our resting orders
*decreases without a trade*, somebody cancelled. We do not know whether the cancelled size was
ahead of us or behind us; a queue model decides how much of the decrease is taken from
``queue_ahead`` (the external size still ahead of our order).

Models follow hftbacktest (``RiskAverseQueueModel``, ``ProbQueueModel`` with
``PowerProbQueueFunc`` / ``LogProbQueueFunc``). All are deterministic functions of the numbers.
"""

from __future__ import annotations

import math
from typing import Protocol

__all__ = ["LogProbQueue", "PowerProbQueue", "QueueModel", "RiskAverseQueue"]


class QueueModel(Protocol):
    """Updates one order's ``queue_ahead`` after a cancel-driven decrease at its level."""

    def on_decrease(self, queue_ahead: float, old_external: float, new_external: float) -> float:
        """Return the new queue_ahead.

        Args:
            queue_ahead: external contracts ahead of our order before the change.
            old_external: external contracts at the level before (>= queue_ahead).
            new_external: external contracts after (< old_external).

        Returns:
            The new external size ahead of us, in ``[0, new_external]``.
        """
        ...


class RiskAverseQueue:
    """Cancels come from behind us: we only advance when the level shrinks below our position.

    ``queue_ahead = min(queue_ahead, new_external)``. The most conservative choice.
    """

    __slots__ = ()

    def on_decrease(self, queue_ahead: float, old_external: float, new_external: float) -> float:
        return queue_ahead if queue_ahead <= new_external else new_external


class _ProbQueue:
    """hftbacktest's ``ProbQueueModel``: a decrease is split between ahead and behind.

    The share taken from behind is ``f(behind) / (f(behind) + f(ahead))``; what the share from
    behind cannot absorb (more than ``behind`` is there) is taken from ahead as well.
    """

    __slots__ = ()

    def f(self, x: float) -> float:  # pragma: no cover - overridden
        raise NotImplementedError

    def on_decrease(self, queue_ahead: float, old_external: float, new_external: float) -> float:
        decrease = old_external - new_external
        if decrease <= 0.0:
            return queue_ahead
        ahead = queue_ahead
        behind = old_external - queue_ahead
        if behind < 0.0:
            behind = 0.0
        fa = self.f(ahead)
        fb = self.f(behind)
        total = fa + fb
        prob_behind = fb / total if total > 0.0 else 1.0
        est = ahead - (1.0 - prob_behind) * decrease
        overflow = behind - prob_behind * decrease
        if overflow < 0.0:
            est += overflow
        if est < 0.0:
            est = 0.0
        return round(min(est, new_external), 10)


class PowerProbQueue(_ProbQueue):
    """``f(x) = x ** n``; n = 1 splits proportionally, larger n favours the bigger side.

    Args:
        n: the exponent, > 0 (hftbacktest's examples use 2 or 3).
    """

    __slots__ = ("n",)

    def __init__(self, n: float = 2.0) -> None:
        if not n > 0:
            raise ValueError(f"PowerProbQueue n: got {n!r}, expected a number > 0")
        self.n = float(n)

    def f(self, x: float) -> float:
        return x**self.n


class LogProbQueue(_ProbQueue):
    """``f(x) = ln(1 + x)``: a flatter split than the power family."""

    __slots__ = ()

    def f(self, x: float) -> float:
        return math.log1p(x)
