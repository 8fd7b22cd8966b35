"""Per-connection message budgets of the simulated exchange (thalex_protocol.md §7).

Matching-engine messages: 10/s, or 50/s after ``set_cancel_on_disconnect``; cancels: 1000/s.
The limit is burst and sustained (a one-second sliding window); once breached, every later
message is refused with code 4 for ``lockout_s`` (the real lockout length is unpublished; we
choose 1 s and make it configurable).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

__all__ = ["ConnectionRateLimiter", "RateLimits"]

_NS = 1_000_000_000


@dataclass(frozen=True, slots=True, kw_only=True)
class RateLimits:
    me_per_s: int = 10
    me_cod_per_s: int = 50
    cancels_per_s: int = 1000
    lockout_s: float = 1.0


class _Window:
    __slots__ = ("limit", "stamps")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.stamps: deque[int] = deque()

    def admit(self, now_ns: int) -> bool:
        stamps = self.stamps
        horizon = now_ns - _NS
        while stamps and stamps[0] <= horizon:
            stamps.popleft()
        if len(stamps) >= self.limit:
            return False
        stamps.append(now_ns)
        return True


class ConnectionRateLimiter:
    """Sliding one-second windows per message class, with a lockout after a breach."""

    def __init__(self, limits: RateLimits) -> None:
        self.limits = limits
        self._me = _Window(limits.me_per_s)
        self._cancel = _Window(limits.cancels_per_s)
        self._locked_until_ns = 0
        self.breaches = 0

    def enable_cod_rate(self) -> None:
        self._me.limit = self.limits.me_cod_per_s

    def admit(self, kind: str, now_ns: int) -> bool:
        """``kind`` is ``"me"`` (matching engine) or ``"cancel"``. False = throttled (code 4)."""
        if now_ns < self._locked_until_ns:
            return False
        window = self._cancel if kind == "cancel" else self._me
        if window.admit(now_ns):
            return True
        self.breaches += 1
        self._locked_until_ns = now_ns + int(self.limits.lockout_s * _NS)
        return False
