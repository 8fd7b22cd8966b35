"""OrderManager: our orders per client order id, and the diff from wanted quotes to commands.

Inputs (all from the driver, in any order, possibly duplicated):

* ``on_sent(request_id, command)`` when a command leaves, so responses can be matched;
* ``on_response(request_id, report)`` / ``on_error(request_id, kind, message, code=...)``;
* ``on_orders(OrdersUpdated)`` for ``session.orders`` notifications (thalex_protocol.md §5.4);
* ``reconcile(open_orders)`` after a reconnect: the exchange wins.

Idempotence: ``filled_amount`` only grows; a fill is counted once per ``trade_id`` (a global
set of the last ``_SEEN_TRADES_RETAINED`` ids, so a fill seen in a response and again in a
notification is one fill); terminal orders stay terminal (see ``order_state``). Anything we cannot match is reported as a record, never raised.

The diff (``plan``, implemented in ``order_diff``) emits the fewest commands and never lets
our bid reach our ask, even while requests are in flight.

Mass-quote mode (``OrderConfig.use_mass_quote``, §5.5, §6): ``plan_mass_quote`` first arms MMP
with ``SetMmp`` and quotes only after its ack; it is re-armed after an MMP trip (remaining <= 0)
or a disconnect. A side identical to the last one sent is *omitted* (``None``: left alone, so
priority is kept whatever the venue does with duplicates); a changed side is sent whole, since a
sent side replaces all its levels. Nothing changed -> no command.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from thalex_mm.config.models import LeftoverPolicy, OrderConfig
from thalex_mm.core.budget import Priority, classify_error
from thalex_mm.core.commands import (
    AmendOrder,
    CancelAll,
    CancelMassQuote,
    CancelOrder,
    CancelSession,
    Command,
    InsertOrder,
    InstrumentQuote,
    MassQuote,
    SetMmp,
)
from thalex_mm.core.error_kinds import ErrorKind
from thalex_mm.core.events import MmProtectionUpdated, OrderReport, OrdersUpdated
from thalex_mm.core.order_diff import QuoteDiffer
from thalex_mm.core.order_ids import MAX_CLIENT_ORDER_ID, ClientIdAllocator
from thalex_mm.core.order_records import (
    FillRecorded,
    LeftoverOrderFound,
    OrderRecord,
    OrderRejected,
    OrderStateAnomaly,
    TrackedOrder,
    UnknownOrderReported,
)
from thalex_mm.core.order_state import OrderState, OrderTrigger, next_order_state
from thalex_mm.core.types import (
    ChangeReason,
    Instrument,
    OrderStatus,
    Side,
    WantedQuotes,
)
from thalex_mm.errors import InvalidTransition

__all__ = [
    "MAX_CLIENT_ORDER_ID",
    "FillRecorded",
    "OrderManager",
    "OrderRecord",
    "OrderRejected",
    "TrackedOrder",
    "UnknownOrderReported",
]

_EPS = 1e-9
_NO_REST = (0.0, 0.0)
_TERMINAL_RETAINED = 10_000  # closed orders kept to absorb late reports
_SEEN_TRADES_RETAINED = 100_000  # trade ids kept to drop duplicated fills (memory stays flat)

# Where an order goes on a trigger its state's table row does not expect: the venue says the
# order is gone (not found), or never existed (insert refused); anything else leaves it be.
_UNEXPECTED_MOVES = {
    OrderTrigger.ORDER_GONE: OrderState.CANCELLED,
    OrderTrigger.SESSION_LOST: OrderState.CANCELLED,
    OrderTrigger.REPORT_CANCELLED: OrderState.CANCELLED,
    OrderTrigger.REPORT_FILLED: OrderState.FILLED,
}

_STATUS_TRIGGER = {
    OrderStatus.OPEN: OrderTrigger.REPORT_OPEN,
    OrderStatus.PARTIALLY_FILLED: OrderTrigger.REPORT_PARTIAL,
    OrderStatus.FILLED: OrderTrigger.REPORT_FILLED,
    OrderStatus.CANCELLED: OrderTrigger.REPORT_CANCELLED,
    OrderStatus.CANCELLED_PARTIALLY_FILLED: OrderTrigger.REPORT_CANCELLED,
}


class OrderManager:
    """Order book of our own orders, plus the wanted-quotes diff.

    Args:
        config: ``OrderConfig`` (label, post_only, reject_post_only, amend_tolerance_ticks,
            MMP amounts).
        first_client_order_id: first id handed out, 1..2**32-1: the run base from
            ``order_ids`` (ids then count up, wrap inside 32 bits and skip the client ids of
            live orders of the account that are not ours).
        adopt_unknown: at ``reconcile`` without ``cancel_unknown``, track exchange orders we
            do not know (True) or cancel them at once (False).

    Orders this process did not create (*leftovers*: another session, an earlier run) are
    known by ``order_id`` only: their client id belongs to a session that is not ours and is
    never sent. With ``order.leftover_orders = cancel`` they are cancelled by order id
    (``leftover_cancels``); with ``keep`` they are left alone, and count as resting exposure.
    """

    def __init__(
        self,
        config: OrderConfig,
        *,
        first_client_order_id: int = 1,
        adopt_unknown: bool = True,
    ) -> None:
        if not 1 <= first_client_order_id <= MAX_CLIENT_ORDER_ID:
            raise ValueError(
                f"first_client_order_id: got {first_client_order_id}, expected 1..{MAX_CLIENT_ORDER_ID}"
            )
        self._cfg = config
        self._ids = ClientIdAllocator(first_client_order_id)
        self._adopt_unknown = adopt_unknown
        self._keep_leftovers = config.leftover_orders is LeftoverPolicy.KEEP
        self._anomalies: list[OrderRecord] = []
        self._leftovers = False  # set when one is adopted; cleared once none is active
        self._orders: dict[int | str, TrackedOrder] = {}
        self._active: dict[int | str, TrackedOrder] = {}  # non-terminal subset of _orders
        self._terminal_keys: deque[int | str] = deque()
        self._differ = QuoteDiffer(config)
        self._by_order_id: dict[str, TrackedOrder] = {}
        self._requests: dict[int, Command] = {}
        self._planned_levels: dict[int, int] = {}
        self._seen_trades: set[str] = set()
        self._seen_order: deque[str] = deque()  # _seen_trades in arrival order, for eviction
        self._mmp_armed = False
        self._mmp_in_flight = False
        self._last_mq: dict[str, tuple[tuple[tuple[float, float], ...], ...]] = {}

    # ------------------------------------------------------------------ queries

    @property
    def orders(self) -> tuple[TrackedOrder, ...]:
        return tuple(self._orders.values())

    def get(self, key: int | str) -> TrackedOrder | None:
        return self._orders.get(key)

    def find(self, client_order_id: int | None, order_id: str | None) -> TrackedOrder | None:
        """The order an amend or cancel addresses (by client id, or by order id)."""
        return self._find(client_order_id, order_id)

    def own_levels(self, instrument: str) -> list[tuple[Side, float, float]]:
        """``(side, price, amount)`` of what we may have resting on ``instrument``: tracked
        orders (remaining amount) and the last mass quote sent (as sent: mass-quote fills are
        not tracked per level, so this may overstate a partly filled level)."""
        out = [(o.side, o.price, o.remaining_amount) for o in self.active_orders(instrument)]
        bids, asks = self._last_mq.get(instrument, ((), ()))
        out += [(Side.BUY, price, amount) for price, amount in bids]
        out += [(Side.SELL, price, amount) for price, amount in asks]
        return out

    def rests_at(self, instrument: str, bid: float | None, ask: float | None) -> bool:
        """Whether any of ``own_levels`` sits at ``bid`` (our buys) or ``ask`` (our sells):
        the cheap test that lets the common case skip building them."""
        buy = Side.BUY
        for o in self._active.values():
            if o.instrument == instrument and o.price == (bid if o.side is buy else ask):
                return True
        last = self._last_mq.get(instrument)
        if last is None:
            return False
        bids, asks = last
        return bool((bids and bids[0][0] == bid) or (asks and asks[0][0] == ask))

    def active_orders(self, instrument: str | None = None) -> list[TrackedOrder]:
        """Non-terminal orders (live or in flight)."""
        return [
            o for o in self._active.values() if instrument is None or o.instrument == instrument
        ]

    @property
    def in_flight(self) -> int:
        return len(self._requests)

    @property
    def mmp_armed(self) -> bool:
        return self._mmp_armed

    def allocate_client_order_id(self) -> int:
        """Next client order id (see ``order_ids``: unique across runs of the account)."""
        return self._ids.next()

    def own_active_orders(self, instrument: str | None = None) -> list[TrackedOrder]:
        """Non-terminal orders this process created (leftovers excluded): what the diff moves."""
        return [
            o
            for o in self._active.values()
            if not o.inherited and (instrument is None or o.instrument == instrument)
        ]

    @property
    def has_leftovers(self) -> bool:
        """Whether a leftover (an order this process did not create) may still rest."""
        if not self._leftovers:
            return False
        self._leftovers = any(o.inherited for o in self._active.values())
        return self._leftovers

    def leftover_resting(self, instrument: str) -> tuple[float, float]:
        """``(bids, asks)`` contracts resting in leftovers on ``instrument`` (0 without any)."""
        if not self.has_leftovers:
            return _NO_REST
        bids = asks = 0.0
        for o in self._active.values():
            if o.inherited and o.instrument == instrument:
                if o.side is Side.BUY:
                    bids += o.remaining_amount
                else:
                    asks += o.remaining_amount
        return bids, asks

    def leftover_cancels(self, instrument: str) -> tuple[tuple[Priority, Command], ...]:
        """Cancels by order id for leftovers on ``instrument`` not already being cancelled
        (nothing under ``leftover_orders = keep``)."""
        if self._keep_leftovers:
            return ()
        return tuple(
            (Priority.UNSAFE_CANCEL, CancelOrder(client_order_id=None, order_id=o.order_id))
            for o in self._active.values()
            if o.inherited and o.instrument == instrument and o.state is not OrderState.PENDING_CANCEL
        )

    def _take_anomalies(self) -> list[OrderRecord]:
        out, self._anomalies = self._anomalies, []
        return out

    # ------------------------------------------------------------------ requests

    def on_sent(self, request_id: int, command: Command) -> None:
        """The driver sent ``command`` as request ``request_id``."""
        self._requests[request_id] = command
        if isinstance(command, InsertOrder):
            cid = command.client_order_id
            order = TrackedOrder(
                client_order_id=cid,
                instrument=command.instrument,
                side=command.side,
                level=self._planned_levels.pop(cid, -1),
                price=command.price if command.price is not None else 0.0,
                amount=command.amount,
                state=OrderState.PENDING_INSERT,
                label=command.label,
                reduce_only=command.reduce_only,
            )
            self._orders[cid] = order
            self._active[cid] = order
        elif isinstance(command, AmendOrder):
            found = self._find(command.client_order_id, command.order_id)
            if found is not None and not found.state.is_terminal:
                self._move(found, OrderTrigger.SEND_AMEND)
                found.pending_price = command.price
                found.pending_amount = command.amount
                found.pending_fill_offset = found.filled_amount
        elif isinstance(command, CancelOrder):
            found = self._find(command.client_order_id, command.order_id)
            if found is not None and not found.state.is_terminal:
                self._move(found, OrderTrigger.SEND_CANCEL)
        elif isinstance(command, SetMmp):
            self._mmp_in_flight = True
        elif isinstance(command, CancelMassQuote | CancelSession | CancelAll):
            self._last_mq.clear()  # every mass quote is pulled: send both sides whole next time
        elif isinstance(command, MassQuote):
            for q in command.quotes:
                prev = self._last_mq.get(q.instrument, ((), ()))
                self._last_mq[q.instrument] = (
                    q.bids if q.bids is not None else prev[0],
                    q.asks if q.asks is not None else prev[1],
                )

    def on_response(
        self, request_id: int | None, report: OrderReport | None, ts_ns: int = 0
    ) -> tuple[OrderRecord, ...]:
        """A successful response; ``report`` is its OrderStatus result (None for other results)."""
        cmd = self._requests.pop(request_id, None) if request_id is not None else None
        if cmd is None:
            return (
                UnknownOrderReported(
                    request_id=request_id,
                    client_order_id=report.client_order_id if report else None,
                    order_id=report.order_id if report else None,
                    detail="response to a request we did not send (or already answered)",
                ),
            )
        records: list[OrderRecord] = []
        if report is not None:
            records.extend(self._apply_report(report, ts_ns))
        if isinstance(cmd, AmendOrder):
            order = self._find(cmd.client_order_id, cmd.order_id)
            if order is not None and order.state is OrderState.PENDING_AMEND:
                price = report.price if report is not None and report.price is not None else None
                order.price = price if price is not None else cmd.price
                order.amount = max(cmd.amount, order.filled_amount)
                order.fill_offset = order.pending_fill_offset
                order.amends_acked += 1
                order.pending_price = order.pending_amount = None
                self._move(order, OrderTrigger.AMEND_ACKED)
                self._settle(order)
        elif isinstance(cmd, CancelOrder) and report is None:
            order = self._find(cmd.client_order_id, cmd.order_id)
            if order is not None:
                self._move(order, OrderTrigger.REPORT_CANCELLED)
        elif isinstance(cmd, SetMmp):
            self._mmp_in_flight = False
            self._mmp_armed = True
        records.extend(self._take_anomalies())
        return tuple(records)

    def on_error(
        self, request_id: int | None, kind: ErrorKind, message: str, *, code: int
    ) -> tuple[OrderRecord, ...]:
        """An error response; the order is dropped, restored or marked gone by its kind.
        ``code`` is the wire number, kept for the journal."""
        cmd = self._requests.pop(request_id, None) if request_id is not None else None
        if cmd is None:
            return (
                UnknownOrderReported(
                    request_id=request_id,
                    client_order_id=None,
                    order_id=None,
                    detail=f"error {code} for a request we did not send: {message[:80]}",
                ),
            )
        gone = kind in (ErrorKind.ORDER_NOT_FOUND, ErrorKind.INVALID_ORDER_ID)
        cid: int | None = None
        if isinstance(cmd, InsertOrder):
            cid = cmd.client_order_id
            order = self._orders.get(cid)
            if order is not None:
                self._move(order, OrderTrigger.INSERT_FAILED)
        elif isinstance(cmd, AmendOrder | CancelOrder):
            cid = cmd.client_order_id
            order = self._find(cmd.client_order_id, cmd.order_id)
            if order is not None:
                if gone:
                    trigger = OrderTrigger.ORDER_GONE
                elif isinstance(cmd, AmendOrder):
                    trigger = OrderTrigger.AMEND_FAILED
                else:
                    trigger = OrderTrigger.CANCEL_FAILED
                if isinstance(cmd, AmendOrder):
                    order.pending_price = order.pending_amount = None
                self._move(order, trigger)
                self._settle(order)
        elif isinstance(cmd, SetMmp):
            self._mmp_in_flight = False
        elif isinstance(cmd, MassQuote):
            self._last_mq.clear()  # unknown venue state: resend both sides next step
        return (
            OrderRejected(
                request_id=request_id if request_id is not None else -1,
                client_order_id=cid,
                command=cmd,
                code=code,
                message=message,
                action=classify_error(kind),
                # an amend/cancel racing a fill or cancel: the order is simply gone already
                expected=gone and isinstance(cmd, AmendOrder | CancelOrder),
            ),
            *self._take_anomalies(),
        )

    # ------------------------------------------------------------------ reports

    def on_orders(self, event: OrdersUpdated) -> tuple[OrderRecord, ...]:
        """``session.orders`` notification; a snapshot (on subscribe) reconciles first."""
        records: list[OrderRecord] = []
        if event.snapshot:
            recs, _ = self.reconcile(
                [r for r in event.orders if r.status.is_live], cancel_unknown=False
            )
            records.extend(recs)
        for rep in event.orders:
            records.extend(self._apply_report(rep, event.local_ts_ns))
        records.extend(self._take_anomalies())
        return tuple(records)

    def on_mm_protection(self, event: MmProtectionUpdated, product: str) -> None:
        """MMP status: a group at or below 0 remaining has pulled our quotes; re-arm."""
        for item in event.items:
            if item.product == product and item.remaining_amount <= 0:
                self._mmp_armed = False
                self._last_mq.clear()

    def on_disconnected(self) -> None:
        """In-flight requests are lost; MMP groups are reset by the venue (§6)."""
        self._requests.clear()
        self._mmp_armed = False
        self._mmp_in_flight = False
        self._last_mq.clear()

    def reconcile(
        self, open_orders: Iterable[OrderReport], *, cancel_unknown: bool | None = None
    ) -> tuple[tuple[OrderRecord, ...], tuple[Command, ...]]:
        """Align with the exchange's open orders (``private/open_orders``); the exchange wins.

        Local orders the exchange does not list are marked cancelled; listed ones take the
        exchange's price, amount and fill state (pending requests are forgotten); unknown ones
        are adopted (level -1, so the next ``plan`` cancels or reuses them) or cancelled.

        Returns:
            ``(records, commands)``: fills first seen here, and cancels for unknown orders when
            ``cancel_unknown`` (default: ``not adopt_unknown``).
        """
        cancel = (not self._adopt_unknown) if cancel_unknown is None else cancel_unknown
        self._requests.clear()
        records: list[OrderRecord] = []
        commands: list[Command] = []
        listed: set[int] = set()
        for rep in open_orders:
            order = self._find(rep.client_order_id, rep.order_id)
            if order is None and rep.client_order_id is not None:
                # a live order of the account carrying a client id that is not one of ours
                # (or one of ours from an earlier process): never hand that id out
                self._ids.avoid(rep.client_order_id)
            if order is None or order.state.is_terminal:
                if cancel and order is None:
                    commands.append(CancelOrder(client_order_id=None, order_id=rep.order_id))
                    continue
                mine = order if order is not None and not order.inherited else None
                ours = mine is not None
                order = TrackedOrder(
                    # a leftover is known by its order id only: its client id belongs to
                    # another session and would address nothing (or one of ours) in this one
                    client_order_id=mine.client_order_id if mine is not None else None,
                    instrument=rep.instrument,
                    side=rep.side,
                    level=mine.level if mine is not None else -1,
                    price=rep.price or 0.0,
                    amount=rep.amount,
                    state=OrderState.OPEN,
                    order_id=rep.order_id,
                    label=rep.label,
                    reduce_only=rep.reduce_only,
                    inherited=not ours,
                    earlier_session=ours,
                )
                self._orders[order.key] = order
                self._active[order.key] = order
                if not ours:
                    self._leftovers = True
                    records.append(
                        LeftoverOrderFound(
                            order_id=rep.order_id,
                            client_order_id=rep.client_order_id,
                            instrument=rep.instrument,
                            side=rep.side,
                            price=rep.price or 0.0,
                            remaining_amount=rep.remaining_amount,
                            action="keep" if self._keep_leftovers else "cancel",
                        )
                    )
            else:
                # listed at a (re)connection: it was sent on an earlier connection, whose
                # client ids this session does not know
                order.earlier_session = True
                self._move(order, OrderTrigger.RESYNC_LIVE)
                if order.pending_amount is not None and abs(rep.amount - order.pending_amount) < _EPS:
                    order.fill_offset = order.pending_fill_offset  # the amend did land
                order.pending_price = order.pending_amount = None
                order.price = rep.price if rep.price is not None else order.price
                order.amount = rep.amount
            order.order_id = rep.order_id
            self._by_order_id[rep.order_id] = order
            fills = self._record_fills(order, rep, 0)
            if not order.inherited:
                # a leftover's earlier fills are in the inherited position (portfolio), not ours
                records.extend(fills)
            order.filled_amount = max(order.filled_amount, rep.filled_amount)
            self._settle(order)
            listed.add(id(order))
        for order in list(self._orders.values()):
            if not order.state.is_terminal and id(order) not in listed:
                self._move(order, OrderTrigger.SESSION_LOST)
                order.pending_price = order.pending_amount = None
        records.extend(self._take_anomalies())
        return tuple(records), tuple(commands)

    def _find(self, cid: int | None, order_id: str | None) -> TrackedOrder | None:
        """Our record of an order: by order id first (the venue's, unique on the account),
        then by client id, unless that record already belongs to another order id (a client
        id is per session: another session's order may carry the same number)."""
        if order_id is not None:
            found = self._by_order_id.get(order_id) or self._orders.get(order_id)
            if found is not None:
                return found
        if cid is not None:
            order = self._orders.get(cid)
            if order is not None and (order_id is None or order.order_id in (None, order_id)):
                return order
        return None

    def _remember_trade(self, trade_id: str) -> None:
        self._seen_trades.add(trade_id)
        self._seen_order.append(trade_id)
        if len(self._seen_order) > _SEEN_TRADES_RETAINED:
            self._seen_trades.discard(self._seen_order.popleft())

    def _record_fills(self, order: TrackedOrder | None, rep: OrderReport, ts_ns: int) -> list:
        out = []
        for f in rep.fills:
            if f.trade_id in self._seen_trades:
                continue
            self._remember_trade(f.trade_id)
            if order is not None:
                order.trade_ids.add(f.trade_id)
            out.append(
                FillRecorded(
                    client_order_id=rep.client_order_id,
                    order_id=rep.order_id,
                    instrument=rep.instrument,
                    side=rep.side,
                    trade_id=f.trade_id,
                    price=f.price,
                    amount=f.amount,
                    ts_ns=f.ts_ns or ts_ns,
                    maker_taker=f.maker_taker,
                )
            )
        return out

    def _apply_report(self, rep: OrderReport, ts_ns: int) -> list[OrderRecord]:
        order = self._find(rep.client_order_id, rep.order_id)
        records: list[OrderRecord] = list(self._record_fills(order, rep, ts_ns))
        if order is None:
            if not (self._cfg.use_mass_quote and rep.client_order_id is None):
                records.append(
                    UnknownOrderReported(
                        request_id=None,
                        client_order_id=rep.client_order_id,
                        order_id=rep.order_id,
                        detail=f"report for an order we do not track (status {rep.status})",
                    )
                )
            return records
        if order.order_id is None:
            order.order_id = rep.order_id
            self._by_order_id[rep.order_id] = order
        was_terminal = order.state.is_terminal
        self._move(order, _STATUS_TRIGGER[rep.status])
        # Price and amount change only through our acked amends; before the first one, the
        # insert report may carry a post-only reprice (§5.2). A report reordered behind an
        # amend ack must never roll the price back, or the self-cross check would be blind.
        if (
            not was_terminal
            and order.amends_acked == 0
            and order.pending_price is None
            and rep.price is not None
            and rep.change_reason in (ChangeReason.INSERT, ChangeReason.EXISTING)
        ):
            order.price = rep.price
            order.amount = rep.amount
        order.filled_amount = max(order.filled_amount, rep.filled_amount)
        order.amount = max(order.amount, order.filled_amount)
        self._settle(order)
        return records

    def _settle(self, order: TrackedOrder) -> None:
        """OPEN with a fill on record is PARTIALLY_FILLED (after acks that return to OPEN)."""
        if order.state is OrderState.OPEN and order.filled_amount > _EPS:
            self._move(order, OrderTrigger.REPORT_PARTIAL)

    def _move(self, order: TrackedOrder, trigger: OrderTrigger) -> None:
        """Apply ``trigger`` and keep the active index; old terminal orders are forgotten
        after ``_TERMINAL_RETAINED`` newer ones (a later report for them is then "unknown")."""
        was_terminal = order.state.is_terminal
        previous = order.state
        try:
            order.state = next_order_state(previous, trigger)
        except InvalidTransition:
            # A reply we did not expect for this order (the venue's word against our state):
            # never raise out of the core; take the answer's meaning and journal it.
            order.state = _UNEXPECTED_MOVES.get(trigger, previous)
            self._anomalies.append(
                OrderStateAnomaly(
                    client_order_id=order.client_order_id,
                    order_id=order.order_id,
                    previous=previous,
                    state=order.state,
                    trigger=trigger.value,
                    reason=f"{trigger.value} unexpected in state {previous.value}",
                )
            )
        if was_terminal:
            return
        if order.state.is_terminal:
            self._active.pop(order.key, None)
            self._terminal_keys.append(order.key)
            if len(self._terminal_keys) > _TERMINAL_RETAINED:
                old = self._orders.get(self._terminal_keys.popleft())
                if old is not None and old.state.is_terminal:
                    del self._orders[old.key]
                    if old.order_id is not None:
                        self._by_order_id.pop(old.order_id, None)
        else:
            self._active[order.key] = order

    # ------------------------------------------------------------------ diff

    def plan(self, wanted: WantedQuotes, instrument: Instrument) -> tuple[Command, ...]:
        """Commands turning our resting orders into ``wanted`` (send order)."""
        return tuple(cmd for _, cmd in self.plan_prioritised(wanted, instrument))

    def plan_prioritised(
        self, wanted: WantedQuotes, instrument: Instrument
    ) -> tuple[tuple[Priority, Command], ...]:
        """Like ``plan`` with a ``Priority`` per command, for ``MessageBudget.admit``.

        Priorities never contradict the send order, so any priority prefix is self-cross safe.
        """
        commands, levels = self._differ.diff(
            wanted, instrument, self.own_active_orders(wanted.instrument), self.allocate_client_order_id
        )
        # Ids of a previous plan that were never sent (deferred by the budget) are dead: the
        # caller re-plans instead of sending stale commands, so only this plan's ids matter.
        self._planned_levels = levels
        return commands

    # ------------------------------------------------------------------ mass quote

    def plan_mass_quote(self, wanted: WantedQuotes, instrument: Instrument) -> tuple[Command, ...]:
        """One step of the mass-quote path: ``SetMmp`` until armed, then at most one MassQuote."""
        return tuple(cmd for _, cmd in self.plan_mass_quote_prioritised(wanted, instrument))

    def plan_mass_quote_prioritised(
        self, wanted: WantedQuotes, instrument: Instrument
    ) -> tuple[tuple[Priority, Command], ...]:
        """Like ``plan_mass_quote`` with a ``Priority``: ``RETREAT`` when a side's best level
        moves away from the touch by more than the amend tolerance (or the side is pulled), so
        that the budget pulls the quotes (``CancelMassQuote``) when it cannot send the move."""
        cmds = self._plan_mass_quote(wanted, instrument)
        if len(cmds) != 1 or not isinstance(cmds[0], MassQuote):
            return tuple((Priority.TOP, c) for c in cmds)
        last = self._last_mq.get(wanted.instrument)
        q = cmds[0].quotes[0]
        tol = self._cfg.amend_tolerance_ticks * instrument.tick_size + instrument.tick_size * 1e-6
        retreat = last is not None and (
            (q.bids is not None and bool(last[0]) and (not q.bids or q.bids[0][0] < last[0][0][0] - tol))
            or (q.asks is not None and bool(last[1]) and (not q.asks or q.asks[0][0] > last[1][0][0] + tol))
        )
        return ((Priority.RETREAT if retreat else Priority.TOP, cmds[0]),)

    def _plan_mass_quote(self, wanted: WantedQuotes, instrument: Instrument) -> tuple[Command, ...]:
        if not self._mmp_armed:
            if self._mmp_in_flight:
                return ()
            return (
                SetMmp(
                    product=instrument.product,
                    trade_amount=self._cfg.mmp_trade_amount,
                    quote_amount=self._cfg.mmp_quote_amount,
                ),
            )
        bids = tuple(self._differ.normalise(wanted.bids, Side.BUY, instrument))
        asks = tuple(self._differ.normalise(wanted.asks, Side.SELL, instrument))
        if bids and asks:
            bids = tuple(lv for lv in bids if lv[0] < asks[0][0] - _EPS)
        last = self._last_mq.get(wanted.instrument)
        send_b = bids if last is None or last[0] != bids else None
        send_a = asks if last is None or last[1] != asks else None
        if send_b is None and send_a is None:
            return ()
        return (
            MassQuote(
                quotes=(InstrumentQuote(instrument=wanted.instrument, bids=send_b, asks=send_a),),
                label=self._cfg.label,
                post_only=self._cfg.post_only,
                reject_post_only=self._cfg.post_only and self._cfg.reject_post_only,
            ),
        )

    def cancel_everything(
        self, instrument: str | None = None
    ) -> tuple[tuple[Priority, Command], ...]:
        """Unsafe-priority cancels for every live order not already being cancelled, and a
        ``CancelMassQuote`` while mass quotes we sent may rest (they are not tracked orders)."""
        cmds: list[tuple[Priority, Command]] = [
            (
                Priority.UNSAFE_CANCEL,
                CancelOrder(client_order_id=o.address()[0], order_id=o.address()[1]),
            )
            for o in self.active_orders(instrument)
            if o.state is not OrderState.PENDING_CANCEL and not o.inherited  # see leftover_cancels
        ]
        sides = self._last_mq.values() if instrument is None else [self._last_mq.get(instrument, ((), ()))]
        if any(bids or asks for bids, asks in sides):
            cmds.append((Priority.UNSAFE_CANCEL, CancelMassQuote()))
        return tuple(cmds)
