"""Records of the OrderManager: our view of one order, and what it reports to the caller.

``FillRecorded`` feeds position/PnL; ``UnknownOrderReported`` and ``OrderRejected`` go to the
journal (*Rejected* = Thalex refused, as opposed to our own *Denied*, STYLE.md §6).
Prices in quote currency, amounts in contracts, timestamps in ns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from thalex_mm.core.budget import ErrorAction
from thalex_mm.core.commands import Command
from thalex_mm.core.order_state import OrderState
from thalex_mm.core.types import Side

__all__ = [
    "FillRecorded",
    "LeftoverOrderFound",
    "OrderRecord",
    "OrderRejected",
    "OrderStateAnomaly",
    "TrackedOrder",
    "UnknownOrderReported",
]


@dataclass(slots=True)
class TrackedOrder:
    """Our view of one order. Prices in quote currency, amounts in contracts.

    ``amount`` is the original amount (as on the exchange); ``level`` is the quote level it
    serves (-1 when unassigned, e.g. adopted at reconcile); ``pending_price`` /
    ``pending_amount`` hold an amend in flight. ``fill_offset`` is the filled amount when our
    last acknowledged amend was sent (an amend asks for ``filled + wanted``), so
    ``quoted_amount`` is the size we last asked to rest: the diff compares that with the
    wanted size, and neither tops up a partly filled order nor repeats an amend after a fill.
    """

    client_order_id: int | None
    instrument: str
    side: Side
    level: int
    price: float
    amount: float
    state: OrderState
    order_id: str | None = None
    filled_amount: float = 0.0
    pending_price: float | None = None
    pending_amount: float | None = None
    fill_offset: float = 0.0
    pending_fill_offset: float = 0.0
    label: str | None = None
    reduce_only: bool = False
    amends_acked: int = 0
    trade_ids: set[str] = field(default_factory=set)
    inherited: bool = False
    """Not created by this process (a leftover of another session or run): known by
    ``order_id`` only (``client_order_id`` is None), never amended, cancelled by order id."""
    earlier_session: bool = False
    """Ours, but created on an earlier connection (listed again at a reconnect): its client id
    means nothing in this session (thalex_protocol.md §5.1), so it is addressed by order id."""

    def address(self) -> tuple[int | None, str | None]:
        """``(client_order_id, order_id)`` to put in an amend or cancel: exactly one is set;
        the client id only for an order created on this connection."""
        if self.client_order_id is not None and not self.earlier_session:
            return self.client_order_id, None
        return None, self.order_id

    @property
    def key(self) -> int | str:
        return self.client_order_id if self.client_order_id is not None else str(self.order_id)

    @property
    def quoted_amount(self) -> float:
        """The size we last asked this order to rest (``amount`` less the fills before)."""
        return self.amount - self.fill_offset

    @property
    def remaining_amount(self) -> float:
        return max(0.0, self.amount - self.filled_amount)

    def exposure_price(self) -> float:
        """Most aggressive price this order may rest at (an amend may be in flight)."""
        if self.pending_price is None:
            return self.price
        if self.side is Side.BUY:
            return max(self.price, self.pending_price)
        return min(self.price, self.pending_price)


@dataclass(frozen=True, slots=True, kw_only=True)
class FillRecorded:
    """A fill seen for the first time (dedup by ``trade_id``). Feed it to position/PnL.

    ``maker_taker`` is the exchange's ``"maker"`` / ``"taker"`` flag of the fill (None when the
    report did not say). ``fee`` is the fee paid in quote currency (negative = rebate), None
    when not known yet: an order report's fills carry no fee (thalex_protocol.md §5.3); it
    arrives with the ``account.trade_history`` Trade of the same ``trade_id`` (§5.4).
    """

    client_order_id: int | None
    order_id: str | None
    instrument: str
    side: Side
    trade_id: str
    price: float
    amount: float
    ts_ns: int
    maker_taker: str | None = None
    fee: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownOrderReported:
    """A response or report we cannot match to a request or an order (journal it)."""

    request_id: int | None
    client_order_id: int | None
    order_id: str | None
    detail: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRejected:
    """The exchange refused one of our requests (*Rejected*, not *Denied*: STYLE.md §6).

    ``expected`` marks a race the venue really produces and that costs nothing: an amend or
    cancel of an order that filled (or was cancelled) while the request was in flight gets
    "order not found". It is information, not a reject: it is not counted as one and is
    journaled as ``info``.
    """

    request_id: int
    client_order_id: int | None
    command: Command
    """The refused request."""
    code: int
    """The wire error code (for the journal; ``action`` holds what the core makes of it)."""
    message: str
    action: ErrorAction
    expected: bool = False

    @property
    def command_name(self) -> str:
        """The refused request's kind, as journaled (``InsertOrder``, ``MassQuote`` ...)."""
        return type(self.command).__name__


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderStateAnomaly:
    """A reply or report the order's state did not expect (e.g. "not found" for an order we
    believe is being inserted, a duplicate-id error for an order reported open). The core
    never raises for it: the order moves to ``state`` (what the venue's answer implies) and
    this record is journaled."""

    client_order_id: int | None
    order_id: str | None
    previous: OrderState
    state: OrderState
    trigger: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class LeftoverOrderFound:
    """A live order of the account this process did not create (another session, an earlier
    run), found at start-up or reconnect. ``action`` is ``cancel`` or ``keep``
    (``order.leftover_orders``)."""

    order_id: str
    client_order_id: int | None
    instrument: str
    side: Side
    price: float
    remaining_amount: float
    action: str


OrderRecord = FillRecorded | UnknownOrderReported | OrderRejected | OrderStateAnomaly | LeftoverOrderFound
