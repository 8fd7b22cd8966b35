"""What an engine operation returns: the direct response plus the notifications it caused.

Every public engine method returns one :class:`EngineOutput`. The protocol server turns
``response``/``error`` into the JSON-RPC reply and fans the notification tuples out to the
subscribed channels (thalex_protocol.md §5.4): ``order_updates`` → ``session.orders`` /
``account.orders``, ``account_trades`` → ``account.trade_history``, ``portfolio_changes`` →
``account.portfolio``, ``mmp_updates`` → ``session.mm_protection``, ``public_trades`` and
``book_changes`` → ``book``/``recent_trades``.

All records, the envelope included, are ``NamedTuple``s: immutable, typed and cheap to build
(an engine operation builds one envelope); empty fields share one empty tuple.

Units: prices in quote currency, amounts in contracts.
"""

from __future__ import annotations

from typing import NamedTuple

from thalex_mm.core.events import AccountTrade, MmpStatus, OrderReport, PortfolioEntry, PublicTrade
from thalex_mm.core.types import Side
from thalex_mm.protocol.error_codes import ErrorCode

__all__ = [
    "AccountTradeUpdate",
    "BookLevelChange",
    "EngineError",
    "EngineOutput",
    "MassQuoteError",
    "MassQuoteResult",
    "MmpUpdate",
    "OrderUpdate",
    "PortfolioUpdate",
]


class EngineError(NamedTuple):
    """A refused request: the JSON-RPC ``error`` object (§7)."""

    code: ErrorCode
    message: str


class OrderUpdate(NamedTuple):
    """An order notification for ``session.orders`` of ``session`` and ``account.orders``."""

    session: str
    account: str
    report: OrderReport


class AccountTradeUpdate(NamedTuple):
    """One of ``account``'s trades (``account.trade_history``)."""

    account: str
    trade: AccountTrade


class PortfolioUpdate(NamedTuple):
    """A changed portfolio line of ``account`` (``account.portfolio``)."""

    account: str
    entry: PortfolioEntry


class MmpUpdate(NamedTuple):
    """A protection-group status for ``session`` (``session.mm_protection``)."""

    session: str
    status: MmpStatus


class BookLevelChange(NamedTuple):
    """A price level's new total (external + ours), contracts; 0 = level removed."""

    instrument: str
    side: Side
    price: float
    amount: float


class MassQuoteError(NamedTuple):
    """One failed mass-quote level (§5.5 ``errors[]``); side/price ``None`` for a whole item."""

    code: ErrorCode
    message: str
    side: Side | None = None
    price: float | None = None


class MassQuoteResult(NamedTuple):
    """The mass-quote reply ``{n_success, n_fail, errors}`` (§5.5)."""

    n_success: int
    n_fail: int
    errors: tuple[MassQuoteError, ...] = ()


_EMPTY: tuple = ()


class EngineOutput(NamedTuple):
    """The result of one engine operation (immutable; a NamedTuple because it is built once per
    operation and must be cheap).

    Attributes:
        response: the direct reply: an ``OrderReport`` (insert/amend/cancel), an ``int``
            (cancel_all count), a ``float`` (an external order's filled amount, contracts), a
            ``MassQuoteResult``, or ``None`` (``null`` result).
        error: set when the request was refused; then ``response`` is ``None``.
        order_updates: order reports with ``change_reason`` and only the *new* fills.
        account_trades: our accounts' trades (the external counterparty is not reported).
        public_trades: prints for the public ``recent_trades``/``book`` feeds.
        book_changes: levels whose total amount changed, one entry per level.
        portfolio_changes: changed portfolio lines.
        mmp_updates: protection-group statuses.
    """

    response: OrderReport | int | float | MassQuoteResult | None = None
    error: EngineError | None = None
    order_updates: tuple[OrderUpdate, ...] = _EMPTY
    account_trades: tuple[AccountTradeUpdate, ...] = _EMPTY
    public_trades: tuple[PublicTrade, ...] = _EMPTY
    book_changes: tuple[BookLevelChange, ...] = _EMPTY
    portfolio_changes: tuple[PortfolioUpdate, ...] = _EMPTY
    mmp_updates: tuple[MmpUpdate, ...] = _EMPTY

    @property
    def ok(self) -> bool:
        """True when the request was accepted (no ``error``)."""
        return self.error is None
