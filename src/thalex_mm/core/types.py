"""Value types shared by the whole core: sides, order statuses, instrument metadata.

Units: prices in quote currency (USD for BTC-PERPETUAL), amounts in contracts
(BTC for BTC-PERPETUAL), timestamps in integer nanoseconds since the Unix epoch.
Enum values equal the Thalex wire strings so the codec can map them one to one
(see ``thalex_protocol.md`` §5.3); the codec remains the only place that spells field names.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

__all__ = [
    "ChangeReason",
    "DeleteReason",
    "Instrument",
    "OrderStatus",
    "OrderType",
    "QuoteLevel",
    "Side",
    "TimeInForce",
    "WantedQuotes",
    "round_to_tick",
]


class Side(StrEnum):
    """Order direction; for a public trade, the aggressor's direction."""

    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        """+1 for buy, -1 for sell (the sign of the position change)."""
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(StrEnum):
    LIMIT = "limit"
    MARKET = "market"


class TimeInForce(StrEnum):
    GTC = "good_till_cancelled"
    IOC = "immediate_or_cancel"


class OrderStatus(StrEnum):
    """Exchange order status (§5.3). The first two are live."""

    OPEN = "open"
    PARTIALLY_FILLED = "partially_filled"
    CANCELLED = "cancelled"
    CANCELLED_PARTIALLY_FILLED = "cancelled_partially_filled"
    FILLED = "filled"

    @property
    def is_live(self) -> bool:
        return self in (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED)


class ChangeReason(StrEnum):
    EXISTING = "existing"
    INSERT = "insert"
    AMEND = "amend"
    CANCEL = "cancel"
    FILL = "fill"


class DeleteReason(StrEnum):
    CLIENT_CANCEL = "client_cancel"
    CLIENT_BULK_CANCEL = "client_bulk_cancel"
    SESSION_END = "session_end"
    INSTRUMENT_DEACTIVATED = "instrument_deactivated"
    MM_PROTECTION = "mm_protection"
    FAILOVER = "failover"
    MARGIN_BREACH = "margin_breach"
    FILLED = "filled"
    IMMEDIATE_CANCEL = "immediate_cancel"
    ADMIN_CANCEL = "admin_cancel"
    REPLACED = "replaced"
    SELF_TRADE_PREVENTION = "self_trade_prevention"


def round_to_tick(value: float, tick: float, direction: str = "nearest") -> float:
    """Align ``value`` to a multiple of ``tick``.

    Args:
        value: a price (quote currency) or amount (contracts).
        tick: the step (``tick_size`` or ``volume_tick_size``), > 0.
        direction: ``"down"`` (bids, sizes), ``"up"`` (asks) or ``"nearest"``.

    Returns:
        The aligned value, itself rounded to 8 decimals like the exchange does
        (§1: the server rounds to 8 decimals before tick checks).
    """
    steps = round(value / tick, 8)  # absorb binary noise such as 64900.00000000001
    if direction == "down":
        n = math.floor(steps)
    elif direction == "up":
        n = math.ceil(steps)
    else:
        n = round(steps)
    return round(n * tick, 8)


@dataclass(frozen=True, slots=True, kw_only=True)
class Instrument:
    """Instrument metadata from ``public/instruments`` (§8); never hard-coded.

    Attributes:
        name: e.g. ``BTC-PERPETUAL``.
        product: MMP product group, e.g. ``FBTCUSD``.
        tick_size: price step, quote currency.
        volume_tick_size: amount step, contracts.
        min_order_amount: smallest insert/amend amount, contracts.
        underlying: e.g. ``BTCUSD``.
        type: ``perpetual``, ``future``, ``option`` or ``combination``.
        base_currency: e.g. ``USD``.
        create_time_ns: creation time, ns since epoch (0 when unknown).
        expiration_ts_ns: expiry, ns since epoch (0 for perpetuals).
    """

    name: str
    product: str
    tick_size: float
    volume_tick_size: float
    min_order_amount: float
    underlying: str
    type: str = "perpetual"
    base_currency: str = "USD"
    create_time_ns: int = 0
    expiration_ts_ns: int = 0


class QuoteLevel(NamedTuple):
    """One wanted quote: ``level`` 0 is the top of book on its side.

    A NamedTuple rather than a frozen dataclass (the house style for value types): it is
    built several times per quote step on the hot path, and costs ~0.35 µs to construct
    against ~0.8 µs for a frozen kw_only dataclass. It is immutable and hashable, and is built
    with the same keywords (``QuoteLevel(side=..., level=..., price=..., amount=...)``).
    Unlike a dataclass it also compares equal to a plain tuple of the same four values.

    Attributes:
        side: BUY for a bid, SELL for an ask.
        level: 0-based distance rank from the touch.
        price: quote currency, already aligned to tick (bids down, asks up).
        amount: contracts, aligned to volume tick and >= min_order_amount.
    """

    side: Side
    level: int
    price: float
    amount: float


@dataclass(slots=True, kw_only=True, unsafe_hash=True)
class WantedQuotes:
    """What the model (after the risk gate) wants resting on the book for one instrument.

    Bids best-first (descending price), asks best-first (ascending). An empty side means
    "nothing on that side" (one-sided quoting).
    """

    instrument: str
    bids: tuple[QuoteLevel, ...] = ()
    asks: tuple[QuoteLevel, ...] = ()

    def __init__(self, *, instrument: str, bids: tuple[QuoteLevel, ...] = (),
                 asks: tuple[QuoteLevel, ...] = ()) -> None:
        # A written __init__: mypyc compiles it (docs/build.md, "Per-event value objects").
        self.instrument = instrument
        self.bids = bids
        self.asks = asks
