"""Events: what happened, in past tense. The only input of the core.

Every event carries ``exchange_ts_ns`` (exchange timestamp from the payload, ns since epoch;
0 when the payload has none) and ``local_ts_ns`` (when our driver received it, ns since epoch;
the simulated clock in a backtest). The core never reads a clock: time arrives here.

Units: prices in quote currency, amounts in contracts, timestamps in ns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from thalex_mm.core.error_kinds import ErrorKind
from thalex_mm.core.types import (
    ChangeReason,
    DeleteReason,
    Instrument,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)

__all__ = [
    "MARKET_DATA_EVENTS",
    "AccountSummaryUpdated",
    "AccountTrade",
    "AccountTradesReceived",
    "BookDeltaReceived",
    "BookSnapshotReceived",
    "Connected",
    "DecodeFailed",
    "Disconnected",
    "ErrorReceived",
    "Event",
    "IndexUpdated",
    "InstrumentsUpdated",
    "KillSwitchPressed",
    "LightTickerUpdated",
    "MmProtectionUpdated",
    "MmpStatus",
    "OrderFill",
    "OrderReport",
    "OrdersUpdated",
    "PortfolioEntry",
    "PortfolioUpdated",
    "PublicTrade",
    "PublicTradesReceived",
    "ReconnectRequested",
    "ReplyReceived",
    "ResponseReceived",
    "ShutdownRequested",
    "TickerUpdated",
    "TimerFired",
]

PriceLevel = tuple[float, float]
"""``(price, amount)``; in a delta, amount 0 removes the level."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Base of all events."""

    exchange_ts_ns: int = 0
    local_ts_ns: int = 0


# ---------------------------------------------------------------- market data


@dataclass(frozen=True, slots=True, kw_only=True)
class PublicTrade:
    """One public trade. ``aggressor`` is the taker's side."""

    instrument: str
    price: float
    amount: float
    aggressor: Side
    ts_ns: int


@dataclass(frozen=True, slots=True, kw_only=True)
class BookSnapshotReceived(Event):
    """A full book (the first ``book`` message of a subscription, or a replay snapshot)."""

    instrument: str
    bids: tuple[PriceLevel, ...]
    asks: tuple[PriceLevel, ...]
    trades: tuple[PublicTrade, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class BookDeltaReceived(Event):
    """Changed levels (new absolute amount; 0 = removed) and trades since the last message."""

    instrument: str
    bids: tuple[PriceLevel, ...]
    asks: tuple[PriceLevel, ...]
    trades: tuple[PublicTrade, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class TickerUpdated(Event):
    """A full ticker (§4.3). Optional fields are ``None`` when the exchange omits them."""

    instrument: str
    mark_price: float
    index_price: float
    best_bid_price: float | None = None
    best_bid_amount: float | None = None
    best_ask_price: float | None = None
    best_ask_amount: float | None = None
    last_price: float | None = None
    funding_rate: float | None = None
    funding_mark: float | None = None
    collar_low: float | None = None
    collar_high: float | None = None
    open_interest: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LightTickerUpdated(Event):
    """The lightweight ticker (``lwt``): mark always, best bid/ask and last when present."""

    instrument: str
    mark_price: float
    best_bid_price: float | None = None
    best_bid_amount: float | None = None
    best_ask_price: float | None = None
    best_ask_amount: float | None = None
    last_price: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexUpdated(Event):
    """``price_index.<underlying>``: the index price in quote currency."""

    index_name: str
    price: float


@dataclass(frozen=True, slots=True, kw_only=True)
class PublicTradesReceived(Event):
    """``recent_trades.*``: public trades (the first message is a snapshot)."""

    trades: tuple[PublicTrade, ...]
    snapshot: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class InstrumentsUpdated(Event):
    """``instruments`` feed or a ``public/instruments`` answer."""

    added: tuple[Instrument, ...]
    removed: tuple[Instrument, ...] = ()
    snapshot: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ReconnectRequested(Event):
    """``system`` event ``reconnect``: the server will close the socket in >= 10 s."""

    event: str = "reconnect"


MARKET_DATA_EVENTS = (
    BookSnapshotReceived,
    BookDeltaReceived,
    TickerUpdated,
    LightTickerUpdated,
    IndexUpdated,
    PublicTradesReceived,
)
"""The events decoded from public market-data frames (for ``isinstance``)."""


# ---------------------------------------------------------------- account


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderFill:
    """A new fill of one of our orders (``fills[]`` of an OrderStatus)."""

    trade_id: str
    price: float
    amount: float
    maker_taker: str
    ts_ns: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderReport:
    """One OrderStatus (§5.3), from a response or an orders feed."""

    order_id: str
    client_order_id: int | None
    instrument: str
    side: Side
    order_type: OrderType
    time_in_force: TimeInForce
    price: float | None
    amount: float
    filled_amount: float
    remaining_amount: float
    status: OrderStatus
    change_reason: ChangeReason
    delete_reason: DeleteReason | None = None
    label: str | None = None
    persistent: bool = False
    reduce_only: bool = False
    fills: tuple[OrderFill, ...] = ()
    create_ts_ns: int = 0
    close_ts_ns: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OrdersUpdated(Event):
    """``session.orders`` / ``account.orders``: changed orders (a snapshot on subscribe)."""

    orders: tuple[OrderReport, ...]
    snapshot: bool = False
    scope: str = "session"


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountTrade:
    """A Trade from ``account.trade_history`` (slower than fills, has fees)."""

    trade_id: str
    order_id: str
    instrument: str
    side: Side
    price: float
    amount: float
    fee: float
    ts_ns: int
    client_order_id: int | None = None
    label: str | None = None
    maker_taker: str | None = None
    fee_rate: float | None = None
    position_after: float | None = None
    trade_type: str = "normal"
    perpetual_funding_pnl: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountTradesReceived(Event):
    trades: tuple[AccountTrade, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class PortfolioEntry:
    """One portfolio line; position < 0 is short. PnL in quote currency."""

    instrument: str
    position: float
    mark_price: float | None = None
    average_price: float | None = None
    unrealised_pnl: float | None = None
    realised_pnl: float | None = None
    entry_value: float | None = None
    unrealised_perpetual_funding: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PortfolioUpdated(Event):
    """``account.portfolio``: full on subscribe (``snapshot``), then changed lines only."""

    entries: tuple[PortfolioEntry, ...]
    snapshot: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountSummaryUpdated(Event):
    """``account.summary`` (quote currency)."""

    unrealised_pnl: float
    cash_collateral: float
    margin: float
    required_margin: float
    remaining_margin: float
    session_realised_pnl: float


@dataclass(frozen=True, slots=True, kw_only=True)
class MmpStatus:
    product: str
    remaining_amount: float
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MmProtectionUpdated(Event):
    """``session.mm_protection``: protection group status (reason refill/executions/...)."""

    items: tuple[MmpStatus, ...]


# ---------------------------------------------------------------- responses


@dataclass(frozen=True, slots=True, kw_only=True)
class ResponseReceived(Event):
    """A successful answer to one of our order requests (§5).

    ``report`` is the order's status when the answer carries one (insert, amend, cancel), None
    when it does not (mass quote, cancel all, MMP ...). The codec (live, paper) or the matching
    engine adapter (backtest) builds it: the core never sees wire JSON.
    """

    request_id: int | None
    report: OrderReport | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplyReceived(Event):
    """A successful answer, still decoded JSON: the result of a control call (the driver's
    ``WsSession.call`` returns it) or, through ``protocol.decoder.response_event``, of an order
    request. Never given to the core. Defined here, not in the codec, because events are
    compiled (docs/build.md) and a compiled class takes no interpreted subclass."""

    request_id: int | None
    # decoded JSON of any shape (Any: a class-body annotation ``object`` fails in mypyc 2.4)
    result: Any


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorReceived(Event):
    """An error response ``{"id", "error": {"code", "message"}}``.

    ``kind`` is what the core acts on (the codec mapped the wire ``code`` onto it); ``code``
    is the wire number, kept for the journal and the operator.
    """

    request_id: int | None
    kind: ErrorKind
    code: int
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DecodeFailed(Event):
    """A frame we could not use. ``excerpt`` is a truncated copy of the text.

    ``may_hide_private_state``: the frame may have been a response or an order, fill or
    portfolio notification (not public market data, which the next update refreshes); the
    core then resynchronises.
    """

    excerpt: str
    reason: str
    may_hide_private_state: bool = True


# ---------------------------------------------------------------- driver


@dataclass(frozen=True, slots=True, kw_only=True)
class TimerFired(Event):
    """The driver's clock reached a deadline the core asked for (``next_deadline_ns``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Connected(Event):
    """Logged in, subscribed, instruments read and orders/portfolio snapshotted: the core may
    reconcile and then quote.

    Attributes:
        cancel_on_disconnect: ``set_cancel_on_disconnect`` succeeded (message rate 50/s, §7).
        mass_quote_ready: market-maker protection is armed for mass quoting.
    """

    cancel_on_disconnect: bool = False
    mass_quote_ready: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Disconnected(Event):
    """The connection is gone; every non-persistent order must be presumed cancelled."""

    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ShutdownRequested(Event):
    """The operator asked to stop (SIGINT/SIGTERM, duration reached): cancel everything."""

    reason: str = "shutdown"


@dataclass(frozen=True, slots=True, kw_only=True)
class KillSwitchPressed(Event):
    """The operator pressed the kill switch (dashboard or CLI): halt and cancel (maybe flatten)."""

    source: str = "operator"
