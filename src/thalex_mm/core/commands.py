"""Commands: what the core wants done, in the imperative. The only output of the core.

The driver encodes each command with the protocol codec and sends it (live/paper), or hands
it to the matching engine (backtest). Units: prices in quote currency, amounts in contracts.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from thalex_mm.core.types import OrderType, Side, TimeInForce

__all__ = [
    "AmendOrder",
    "CancelAll",
    "CancelMassQuote",
    "CancelOrder",
    "CancelSession",
    "Command",
    "Halt",
    "InsertOrder",
    "InstrumentQuote",
    "MassQuote",
    "ResyncReason",
    "Resynchronise",
    "SetMmp",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Command:
    """Base of all commands."""


@dataclass(frozen=True, slots=True, kw_only=True)
class InsertOrder(Command):
    client_order_id: int
    instrument: str
    side: Side
    amount: float
    price: float | None
    label: str | None = None
    order_type: OrderType = OrderType.LIMIT
    time_in_force: TimeInForce = TimeInForce.GTC
    post_only: bool = False
    reject_post_only: bool = False
    reduce_only: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class AmendOrder(Command):
    """Amend to a new price and new *original* amount (volume-safe, §5.2)."""

    client_order_id: int | None
    price: float
    amount: float
    order_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelOrder(Command):
    client_order_id: int | None = None
    order_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelAll(Command):
    """``private/cancel_all``: every open order of the account (may miss in-flight ones)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelSession(Command):
    """``private/cancel_session``: every non-persistent order of this session, in-flight too."""


@dataclass(frozen=True, slots=True, kw_only=True)
class InstrumentQuote:
    """One instrument of a mass quote. A side of ``None`` is omitted (left alone);
    an empty tuple clears that side; each level is ``(price, amount)``."""

    instrument: str
    bids: tuple[tuple[float, float], ...] | None
    asks: tuple[tuple[float, float], ...] | None


@dataclass(frozen=True, slots=True, kw_only=True)
class MassQuote(Command):
    quotes: tuple[InstrumentQuote, ...]
    label: str | None = None
    post_only: bool = True
    reject_post_only: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelMassQuote(Command):
    product: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SetMmp(Command):
    """``private/set_mm_protection``; amounts in contracts, trade_amount <= quote_amount."""

    product: str
    trade_amount: float
    quote_amount: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Halt(Command):
    """Stop trading: the driver cancels everything and stops quoting. ``reason`` is a
    ``thalex_mm.core.risk`` reason value (string form, for the journal)."""

    reason: str
    detail: str = ""


class ResyncReason(Enum):
    """Why the core no longer trusts what it knows of the exchange (values: the operator's words)."""

    STALE_DATA = "stale market data"  # book or ticker silent for connection.stale_reconnect_s
    BOOK_CROSSED = "book crossed"  # crossed for stale_reconnect_s: a lost book delta
    SESSION_ERROR = "session error"  # an error that escalates (not logged in, session exhausted ...)
    LOST_FRAME = "undecodable frame"  # a frame that may have been a response or an order/fill
    EXCHANGE_RECONNECT = "exchange asked to reconnect"  # ``system`` event ``reconnect``


@dataclass(frozen=True, slots=True, kw_only=True)
class Resynchronise(Command):
    """Start over from fresh snapshots: the driver cancels the session's orders, reconnects
    (logging in again) and resubscribes; the core then reconciles. Never sent to the venue."""

    reason: ResyncReason
    detail: str = ""
