"""The order state machine: every table entry, the venue races, and illegal moves."""

from __future__ import annotations

import pytest

from thalex_mm.core.order_state import (
    ORDER_TRANSITIONS,
    PENDING_STATES,
    TERMINAL_STATES,
    OrderState,
    OrderTrigger,
    next_order_state,
)
from thalex_mm.errors import InvalidTransition

S, T = OrderState, OrderTrigger

# The expected table, written out independently of the module (including terminal absorption).
_REQUESTS = {T.SEND_AMEND, T.SEND_CANCEL}
EXPECTED = {
    (S.PENDING_INSERT, T.REPORT_OPEN): S.OPEN,
    (S.PENDING_INSERT, T.REPORT_PARTIAL): S.PARTIALLY_FILLED,
    (S.PENDING_INSERT, T.REPORT_FILLED): S.FILLED,
    (S.PENDING_INSERT, T.REPORT_CANCELLED): S.CANCELLED,
    (S.PENDING_INSERT, T.INSERT_FAILED): S.REJECTED,
    (S.PENDING_INSERT, T.SEND_CANCEL): S.PENDING_CANCEL,
    (S.PENDING_INSERT, T.RESYNC_LIVE): S.OPEN,
    (S.PENDING_INSERT, T.SESSION_LOST): S.CANCELLED,
    (S.PENDING_AMEND, T.REPORT_OPEN): S.PENDING_AMEND,
    (S.PENDING_AMEND, T.REPORT_PARTIAL): S.PENDING_AMEND,
    (S.PENDING_AMEND, T.REPORT_FILLED): S.FILLED,
    (S.PENDING_AMEND, T.REPORT_CANCELLED): S.CANCELLED,
    (S.PENDING_AMEND, T.AMEND_ACKED): S.OPEN,
    (S.PENDING_AMEND, T.AMEND_FAILED): S.OPEN,
    (S.PENDING_AMEND, T.ORDER_GONE): S.CANCELLED,
    (S.PENDING_AMEND, T.SEND_CANCEL): S.PENDING_CANCEL,
    (S.PENDING_AMEND, T.RESYNC_LIVE): S.OPEN,
    (S.PENDING_AMEND, T.SESSION_LOST): S.CANCELLED,
    (S.PENDING_CANCEL, T.REPORT_OPEN): S.PENDING_CANCEL,
    (S.PENDING_CANCEL, T.REPORT_PARTIAL): S.PENDING_CANCEL,
    (S.PENDING_CANCEL, T.REPORT_FILLED): S.FILLED,
    (S.PENDING_CANCEL, T.REPORT_CANCELLED): S.CANCELLED,
    (S.PENDING_CANCEL, T.CANCEL_FAILED): S.OPEN,
    (S.PENDING_CANCEL, T.ORDER_GONE): S.CANCELLED,
    (S.PENDING_CANCEL, T.INSERT_FAILED): S.REJECTED,
    (S.PENDING_CANCEL, T.AMEND_ACKED): S.PENDING_CANCEL,
    (S.PENDING_CANCEL, T.AMEND_FAILED): S.PENDING_CANCEL,
    (S.PENDING_CANCEL, T.RESYNC_LIVE): S.OPEN,
    (S.PENDING_CANCEL, T.SESSION_LOST): S.CANCELLED,
}
for _live, _open_to in ((S.OPEN, S.OPEN), (S.PARTIALLY_FILLED, S.PARTIALLY_FILLED)):
    EXPECTED.update(
        {
            (_live, T.REPORT_OPEN): _open_to,
            (_live, T.SEND_AMEND): S.PENDING_AMEND,
            (_live, T.SEND_CANCEL): S.PENDING_CANCEL,
            (_live, T.REPORT_PARTIAL): S.PARTIALLY_FILLED,
            (_live, T.REPORT_FILLED): S.FILLED,
            (_live, T.REPORT_CANCELLED): S.CANCELLED,
            (_live, T.RESYNC_LIVE): S.OPEN,
            (_live, T.SESSION_LOST): S.CANCELLED,
        }
    )
for _term in (S.FILLED, S.CANCELLED, S.REJECTED):
    for _t in T:
        if _t not in _REQUESTS and _t is not T.RESYNC_LIVE:
            EXPECTED[(_term, _t)] = _term


def test_order_table_when_compared_with_written_out_table_matches_exactly():
    assert ORDER_TRANSITIONS == EXPECTED


@pytest.mark.parametrize(
    ("state", "trigger"), sorted(EXPECTED, key=lambda k: (k[0].value, k[1].value))
)
def test_order_transition_when_entry_in_table_returns_expected_state(state, trigger):
    assert next_order_state(state, trigger) is EXPECTED[(state, trigger)]


_ILLEGAL = [(s, t) for s in S for t in T if (s, t) not in EXPECTED]


@pytest.mark.parametrize(("state", "trigger"), _ILLEGAL)
def test_order_transition_when_not_in_table_raises_invalid_transition(state, trigger):
    with pytest.raises(InvalidTransition) as info:
        next_order_state(state, trigger)
    assert info.value.state is state and info.value.trigger is trigger


def test_order_state_when_terminal_never_leaves_on_any_report():
    for (state, _trigger), nxt in ORDER_TRANSITIONS.items():
        if state in TERMINAL_STATES:
            assert nxt is state


def test_order_state_when_request_sent_on_pending_order_is_illegal():
    # The manager never sends a second request for an order in flight (amend on pending).
    for state in PENDING_STATES:
        with pytest.raises(InvalidTransition):
            next_order_state(state, T.SEND_AMEND)


def test_order_state_when_fill_races_cancel_ends_filled_and_late_ack_is_absorbed():
    s = next_order_state(S.OPEN, T.SEND_CANCEL)
    s = next_order_state(s, T.REPORT_FILLED)
    assert s is S.FILLED
    assert next_order_state(s, T.REPORT_CANCELLED) is S.FILLED
    assert next_order_state(s, T.ORDER_GONE) is S.FILLED


def test_order_state_when_notification_precedes_insert_response_stays_open():
    s = next_order_state(S.PENDING_INSERT, T.REPORT_PARTIAL)
    assert s is S.PARTIALLY_FILLED
    assert next_order_state(s, T.REPORT_OPEN) is S.PARTIALLY_FILLED
