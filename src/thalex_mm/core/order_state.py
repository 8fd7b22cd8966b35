"""The life cycle of one of our orders: an Enum of states and a ``(state, trigger) -> state`` table.

States follow the exchange statuses (thalex_protocol.md §5.3) plus three local "in flight"
states for requests we sent and whose response has not come back yet (``PENDING_*``), and a
terminal ``REJECTED`` for an insert the exchange refused with an error (§7).

Triggers come from two sources: our own requests (``SEND_*`` when sent, ``*_ACKED`` /
``*_FAILED`` when the response arrives) and the exchange's order reports (``REPORT_*``, from
a response result or a ``session.orders`` notification). Reports may arrive in any order and
more than once, so the table includes the moves venues really make:

* a notification before the insert response (``PENDING_INSERT`` + ``REPORT_OPEN``), then the
  response itself (``OPEN`` + ``REPORT_OPEN``, a no-op);
* a fill while an amend or a cancel is in flight (the order stays pending until our ack);
* a fill after a cancel request (``PENDING_CANCEL`` + ``REPORT_FILLED`` -> ``FILLED``);
* a cancel ack for an already-filled order, or a late "open" after "cancelled": terminal states
  absorb every report and ack (terminal stays terminal), but never accept a new request.

``RESYNC_LIVE`` and ``SESSION_LOST`` are used by reconciliation after a reconnect: the exchange
wins, whatever we thought was in flight.
"""

from __future__ import annotations

from enum import Enum
from typing import Final

from thalex_mm.errors import InvalidTransition

__all__ = [
    "LIVE_STATES",
    "ORDER_TRANSITIONS",
    "PENDING_STATES",
    "TERMINAL_STATES",
    "OrderState",
    "OrderTrigger",
    "next_order_state",
]


class OrderState(Enum):
    PENDING_INSERT = "pending_insert"
    OPEN = "open"
    PARTIALLY_FILLED = "partially_filled"
    PENDING_AMEND = "pending_amend"
    PENDING_CANCEL = "pending_cancel"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"

    # Identity tests, not set membership: Enum.__hash__ is a Python-level call and these run
    # on the quote hot path. The members are Final module constants (below): compiled, a load
    # of one is a C static, where ``S.FILLED`` is a class attribute lookup each time.
    @property
    def is_terminal(self) -> bool:
        return self is _FILLED or self is _CANCELLED or self is _REJECTED

    @property
    def is_pending(self) -> bool:
        return self is _PENDING_INSERT or self is _PENDING_AMEND or self is _PENDING_CANCEL


class OrderTrigger(Enum):
    SEND_AMEND = "send_amend"
    SEND_CANCEL = "send_cancel"
    INSERT_FAILED = "insert_failed"
    AMEND_ACKED = "amend_acked"
    AMEND_FAILED = "amend_failed"
    CANCEL_FAILED = "cancel_failed"
    ORDER_GONE = "order_gone"  # error 1 (order not found) on an amend/cancel
    REPORT_OPEN = "report_open"
    REPORT_PARTIAL = "report_partial"
    REPORT_FILLED = "report_filled"
    REPORT_CANCELLED = "report_cancelled"  # cancelled or cancelled_partially_filled
    RESYNC_LIVE = "resync_live"  # reconcile: the exchange lists the order as live
    SESSION_LOST = "session_lost"  # reconcile: the exchange no longer has the order


S = OrderState
T = OrderTrigger
_FILLED: Final = OrderState.FILLED
_CANCELLED: Final = OrderState.CANCELLED
_REJECTED: Final = OrderState.REJECTED
_PENDING_INSERT: Final = OrderState.PENDING_INSERT
_PENDING_AMEND: Final = OrderState.PENDING_AMEND
_PENDING_CANCEL: Final = OrderState.PENDING_CANCEL

TERMINAL_STATES = frozenset({S.FILLED, S.CANCELLED, S.REJECTED})
PENDING_STATES = frozenset({S.PENDING_INSERT, S.PENDING_AMEND, S.PENDING_CANCEL})
LIVE_STATES = frozenset({S.OPEN, S.PARTIALLY_FILLED})

_LIVE_MOVES = {
    T.SEND_AMEND: S.PENDING_AMEND,
    T.SEND_CANCEL: S.PENDING_CANCEL,
    T.REPORT_PARTIAL: S.PARTIALLY_FILLED,
    T.REPORT_FILLED: S.FILLED,
    T.REPORT_CANCELLED: S.CANCELLED,
    T.RESYNC_LIVE: S.OPEN,
    T.SESSION_LOST: S.CANCELLED,
}

ORDER_TRANSITIONS: dict[tuple[OrderState, OrderTrigger], OrderState] = {
    # in flight: insert sent, no response yet
    (S.PENDING_INSERT, T.REPORT_OPEN): S.OPEN,
    (S.PENDING_INSERT, T.REPORT_PARTIAL): S.PARTIALLY_FILLED,
    (S.PENDING_INSERT, T.REPORT_FILLED): S.FILLED,
    (S.PENDING_INSERT, T.REPORT_CANCELLED): S.CANCELLED,  # e.g. post-only immediate_cancel
    (S.PENDING_INSERT, T.INSERT_FAILED): S.REJECTED,
    (S.PENDING_INSERT, T.SEND_CANCEL): S.PENDING_CANCEL,  # emergency cancel by client_order_id
    (S.PENDING_INSERT, T.RESYNC_LIVE): S.OPEN,
    (S.PENDING_INSERT, T.SESSION_LOST): S.CANCELLED,
    # live
    (S.OPEN, T.REPORT_OPEN): S.OPEN,  # duplicate, or the insert response after the notification
    **{(S.OPEN, t): s for t, s in _LIVE_MOVES.items()},
    (S.PARTIALLY_FILLED, T.REPORT_OPEN): S.PARTIALLY_FILLED,  # a late "open" never undoes a fill
    **{(S.PARTIALLY_FILLED, t): s for t, s in _LIVE_MOVES.items()},
    # amend in flight: reports are recorded but the order stays pending until our ack
    (S.PENDING_AMEND, T.REPORT_OPEN): S.PENDING_AMEND,
    (S.PENDING_AMEND, T.REPORT_PARTIAL): S.PENDING_AMEND,
    (S.PENDING_AMEND, T.REPORT_FILLED): S.FILLED,
    (S.PENDING_AMEND, T.REPORT_CANCELLED): S.CANCELLED,  # amend to <= filled deletes the order
    (S.PENDING_AMEND, T.AMEND_ACKED): S.OPEN,  # the manager re-applies REPORT_PARTIAL if filled
    (S.PENDING_AMEND, T.AMEND_FAILED): S.OPEN,
    (S.PENDING_AMEND, T.ORDER_GONE): S.CANCELLED,
    (S.PENDING_AMEND, T.SEND_CANCEL): S.PENDING_CANCEL,  # unsafe order: cancel without waiting
    (S.PENDING_AMEND, T.RESYNC_LIVE): S.OPEN,
    (S.PENDING_AMEND, T.SESSION_LOST): S.CANCELLED,
    # cancel in flight
    (S.PENDING_CANCEL, T.REPORT_OPEN): S.PENDING_CANCEL,
    (S.PENDING_CANCEL, T.REPORT_PARTIAL): S.PENDING_CANCEL,
    (S.PENDING_CANCEL, T.REPORT_FILLED): S.FILLED,  # fill raced our cancel
    (S.PENDING_CANCEL, T.REPORT_CANCELLED): S.CANCELLED,
    (S.PENDING_CANCEL, T.CANCEL_FAILED): S.OPEN,
    (S.PENDING_CANCEL, T.ORDER_GONE): S.CANCELLED,  # error 1: already gone; reconcile
    (S.PENDING_CANCEL, T.INSERT_FAILED): S.REJECTED,  # cancelled while the insert was in flight
    (S.PENDING_CANCEL, T.AMEND_ACKED): S.PENDING_CANCEL,
    (S.PENDING_CANCEL, T.AMEND_FAILED): S.PENDING_CANCEL,
    (S.PENDING_CANCEL, T.RESYNC_LIVE): S.OPEN,
    (S.PENDING_CANCEL, T.SESSION_LOST): S.CANCELLED,
    # terminal: absorb every report and every late ack, accept no request
    **{
        (term, t): term
        for term in (S.FILLED, S.CANCELLED, S.REJECTED)
        for t in OrderTrigger
        if t not in (T.SEND_AMEND, T.SEND_CANCEL, T.RESYNC_LIVE)
    },
}


def next_order_state(state: OrderState, trigger: OrderTrigger) -> OrderState:
    """The state after ``trigger``.

    Raises:
        InvalidTransition: the table has no entry for ``(state, trigger)``; this is our bug
            (e.g. amending an order that is still in flight), never the venue's.
    """
    try:
        return ORDER_TRANSITIONS[(state, trigger)]
    except KeyError:
        raise InvalidTransition(state, trigger) from None
