"""Market-maker protection groups (thalex_protocol.md §6).

A group is keyed by ``(session, product)``. ``trade_amount`` contracts of mass-quote executions
may happen before the group trips; then every quote of the group is pulled
(``delete_reason=mm_protection``) and later quotes are rejected until the group is refilled
(``set_mmp`` again, ``cancel_session``, ``cancel_mass_quote``). ``quote_amount`` is the largest
single quote allowed. Only mass quotes are protected; regular orders are not. Overshoot is
possible: the group is evaluated after each matching request.
"""

from __future__ import annotations

__all__ = ["MmpGroup", "MmpReason"]

from enum import StrEnum


class MmpReason(StrEnum):
    """``reason`` of a ``session.mm_protection`` item."""

    REFILL = "refill"
    EXECUTIONS = "executions"
    CLIENT_CANCEL = "client_cancel"
    SESSION_END = "session_end"
    FAILOVER = "failover"


class MmpGroup:
    """One protection group (mutable, engine-internal). Amounts in contracts."""

    __slots__ = ("quote_amount", "remaining", "trade_amount", "tripped")

    def __init__(self, trade_amount: float, quote_amount: float) -> None:
        self.trade_amount = trade_amount
        self.quote_amount = quote_amount
        self.remaining = trade_amount
        self.tripped = False

    def refill(self) -> None:
        self.remaining = self.trade_amount
        self.tripped = False

    def execute(self, amount: float) -> bool:
        """Count ``amount`` contracts executed; True when the group is now exhausted."""
        self.remaining = round(self.remaining - amount, 10)
        return self.remaining <= 0.0
