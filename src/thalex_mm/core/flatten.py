"""The kill switch's flatten as a durable intent: retried until done or cancelled, and reported.

With ``risk.kill_switch_action = cancel_and_flatten`` the kill switch asks for the position to
be closed with a reduce-only IOC order. That order may not go out at once (the connection is
down, no mark price yet), may be refused (collar, liquidity) or may fill only in part. The
intent stays until the position is flat (below the instrument's minimum order amount) or the
operator cancels it (``RiskManager.reset`` via ``MarketMakerCore.reset_risk``): the core asks
``due`` on every step and sends a fresh flatten when none is in flight and ``retry_s`` has
passed since the last attempt (immediately after a reconnect). Every change of the intent is a
``FlattenReport`` for the journal and the console.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FlattenIntent", "FlattenReport"]

_NS = 1_000_000_000


@dataclass(frozen=True, slots=True, kw_only=True)
class FlattenReport:
    """The flatten intent changed. ``outcome``: ``pending`` (asked, waiting to be sent),
    ``sent``, ``done`` (flat), ``cancelled`` (by the operator). Position in contracts."""

    ts_ns: int
    outcome: str
    position: float
    attempts: int
    detail: str = ""

    def line(self) -> str:
        return f"kill-switch flatten {self.outcome}: position {self.position:+g}, {self.attempts} attempt(s) {self.detail}".rstrip()


class FlattenIntent:
    """State of one kill-switch flatten (pure; the core supplies time and facts).

    Args:
        retry_s: least time between two attempts on one connection, seconds.
    """

    def __init__(self, *, retry_s: float = 1.0) -> None:
        self._retry_ns = int(retry_s * _NS)
        self.active = False
        self.attempts = 0
        self._last_ns: int | None = None
        self._in_flight: int | None = None  # client order id of the last attempt

    def request(self, now_ns: int, position: float) -> FlattenReport:
        """The kill switch asked for a flatten."""
        self.active = True
        self._last_ns = None
        return FlattenReport(ts_ns=now_ns, outcome="pending", position=position, attempts=self.attempts)

    def on_reconnected(self) -> None:
        """A new connection: the next step may try at once (what was in flight is gone)."""
        self._last_ns = None
        self._in_flight = None

    def due(self, now_ns: int, in_flight: bool) -> bool:
        """Whether to send an attempt now (``in_flight``: the last attempt may still trade)."""
        if not self.active or in_flight:
            return False
        return self._last_ns is None or now_ns - self._last_ns >= self._retry_ns

    @property
    def in_flight_id(self) -> int | None:
        return self._in_flight

    def sent(self, now_ns: int, client_order_id: int, position: float) -> FlattenReport:
        self.attempts += 1
        self._last_ns = now_ns
        self._in_flight = client_order_id
        return FlattenReport(ts_ns=now_ns, outcome="sent", position=position, attempts=self.attempts)

    def check_flat(self, now_ns: int, position: float, min_amount: float) -> FlattenReport | None:
        """Done when |position| is below what can be traded."""
        if not self.active or abs(position) >= min_amount - 1e-12:
            return None
        self.active = False
        return FlattenReport(ts_ns=now_ns, outcome="done", position=position, attempts=self.attempts)

    def cancel(self, now_ns: int, position: float) -> FlattenReport | None:
        """The operator lifted the halt: stop flattening."""
        if not self.active:
            return None
        self.active = False
        return FlattenReport(ts_ns=now_ns, outcome="cancelled", position=position, attempts=self.attempts,
                             detail="by the operator")
