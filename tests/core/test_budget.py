"""Message budget: sliding-window limits on a simulated clock, priorities, cooldown, retry policy."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thalex_mm.config.models import ConnectionConfig
from thalex_mm.core.budget import (
    Drop,
    DropReason,
    Escalate,
    MessageBudget,
    Priority,
    Reconcile,
    Retry,
    classify_error,
    is_cancel,
)
from thalex_mm.core.commands import (
    AmendOrder,
    CancelAll,
    CancelMassQuote,
    CancelOrder,
    Halt,
    InsertOrder,
    MassQuote,
)
from thalex_mm.core.error_kinds import ErrorKind
from thalex_mm.core.types import Side
from thalex_mm.protocol.error_codes import ErrorCode, error_kind

S = 1_000_000_000
CFG = ConnectionConfig()  # 10/s, 50/s COD, 1000 cancels/s, margin 0.2


def ins(i: int) -> InsertOrder:
    return InsertOrder(
        client_order_id=i, instrument="BTC-PERPETUAL", side=Side.BUY, amount=0.1, price=100.0
    )


def cxl(i: int) -> CancelOrder:
    return CancelOrder(client_order_id=i)


def test_budget_when_limits_configured_keeps_safety_margin():
    b = MessageBudget(CFG)
    assert b.me_limit_per_window == 8  # 10 * (1 - 0.2)
    assert b.cancel_limit_per_window == 800
    b.set_cancel_on_disconnect(True)
    assert b.me_limit_per_window == 40
    b.set_cancel_on_disconnect(False)
    assert b.me_limit_per_window == 8


def test_admit_when_budget_short_spends_by_priority_and_defers_the_rest():
    b = MessageBudget(CFG)
    cmds = [(Priority.DEEPER, ins(i)) for i in range(5)]
    cmds += [(Priority.TOP, ins(10 + i)) for i in range(5)]
    cmds += [(Priority.UNSAFE_CANCEL, cxl(99))]
    admitted, deferred = b.admit(cmds, now_ns=0)
    assert admitted[0] == cxl(99)
    assert [c.client_order_id for c in admitted[1:]] == [10, 11, 12, 13, 14, 0, 1, 2]
    assert [c.client_order_id for c in deferred] == [3, 4]
    assert b.next_deadline_ns(0) == 1 * S  # the first token comes back one window later
    assert b.next_deadline_ns() == 1 * S  # defaults to the last admit time
    b.admit([], now_ns=S)
    assert b.next_deadline_ns() is None  # nothing deferred any more


def test_admit_when_one_command_deferred_defers_all_lower_priority_ones():
    b = MessageBudget(ConnectionConfig(cancel_rate_per_s=2.0, rate_safety_margin=0.0))
    cmds = [(Priority.CANCEL, cxl(i)) for i in range(3)] + [(Priority.TOP, ins(9))]
    admitted, deferred = b.admit(cmds, now_ns=0)
    # the third cancel waits, so the insert (which may depend on it) waits too, although the
    # matching-engine budget is untouched
    assert admitted == (cxl(0), cxl(1)) and deferred == (cxl(2), ins(9))
    assert b.me_limit_per_window == 10


def test_admit_when_window_passes_tokens_come_back():
    b = MessageBudget(CFG)
    assert len(b.admit([(Priority.TOP, ins(i)) for i in range(8)], 0)[0]) == 8
    assert b.admit([(Priority.TOP, ins(9))], S - 1)[0] == ()
    assert b.admit([(Priority.TOP, ins(9))], S)[0] == (ins(9),)


def test_throttle_when_repeated_doubles_cooldown_to_cap_and_resets_after_quiet():
    cfg = ConnectionConfig(
        throttle_cooldown_initial_s=0.5, throttle_cooldown_cap_s=3.0, throttle_quiet_reset_s=60.0
    )
    b = MessageBudget(cfg)
    lengths = []
    t = 0
    for _ in range(5):
        lengths.append(b.on_throttled(t))
        t += S
    assert lengths == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert b.on_throttled(t + 61 * S) == 0.5


def test_cooldown_when_active_admits_only_cancels():
    b = MessageBudget(CFG)
    b.on_error(ErrorKind.THROTTLE_EXCEEDED, now_ns=0)
    admitted, deferred = b.admit(
        [(Priority.CANCEL, cxl(1)), (Priority.TOP, ins(2)), (Priority.CANCEL, CancelAll())],
        now_ns=S // 4,
    )
    assert admitted == (cxl(1), CancelAll()) and deferred == (ins(2),)
    assert b.next_deadline_ns(S // 4) == S // 2
    assert b.admit([(Priority.TOP, ins(2))], now_ns=S // 2)[0] == (ins(2),)


def test_cooldown_when_retreat_cannot_be_sent_pulls_the_order_instead():
    b = MessageBudget(CFG)
    b.on_error(ErrorKind.THROTTLE_EXCEEDED, now_ns=0)
    retreat = AmendOrder(client_order_id=7, order_id="o7", price=99.0, amount=0.1)
    toward = AmendOrder(client_order_id=8, price=101.0, amount=0.1)
    admitted, deferred = b.admit(
        [(Priority.TOP, toward), (Priority.RETREAT, retreat), (Priority.TOP, ins(2))], now_ns=S // 4
    )
    # the stale aggressive quote is cancelled; the move toward the touch and the insert wait
    assert admitted == (CancelOrder(client_order_id=7, order_id="o7"),)
    assert deferred == (retreat, toward, ins(2))
    assert b.next_deadline_ns(S // 4) == S // 2
    # with budget to spare the retreat is an ordinary amend
    assert b.admit([(Priority.RETREAT, retreat)], now_ns=S)[0] == (retreat,)


def test_cooldown_when_mass_quote_retreats_pulls_all_quotes_but_a_move_toward_waits():
    b = MessageBudget(CFG)
    b.on_error(ErrorKind.THROTTLE_EXCEEDED, now_ns=0)
    mq = MassQuote(quotes=())
    assert b.admit([(Priority.RETREAT, mq)], now_ns=1) == ((CancelMassQuote(),), (mq,))
    assert b.admit([(Priority.TOP, mq)], now_ns=2) == ((), (mq,))


def test_admit_when_me_window_full_retreat_becomes_cancel_but_only_within_cancel_budget():
    b = MessageBudget(ConnectionConfig(me_rate_per_s=1.0, cancel_rate_per_s=1.0, rate_safety_margin=0.0))
    a1 = AmendOrder(client_order_id=1, price=99.0, amount=0.1)
    a2 = AmendOrder(client_order_id=2, price=98.0, amount=0.1)
    admitted, deferred = b.admit([(Priority.RETREAT, a1), (Priority.RETREAT, a2), (Priority.RETREAT, a2)], 0)
    assert admitted == (a1, CancelOrder(client_order_id=2)) and deferred == (a2, a2)


def test_admit_when_halt_present_always_admits_it_at_no_cost():
    b = MessageBudget(CFG)
    b.on_throttled(0)
    admitted, _ = b.admit(
        [(Priority.TOP, ins(1)), (Priority.UNSAFE_CANCEL, Halt(reason="kill_switch"))], 1
    )
    assert admitted == (Halt(reason="kill_switch"),)


def test_transient_error_when_received_holds_matching_engine_messages_for_backoff():
    b = MessageBudget(CFG)
    action = b.on_error(ErrorKind.TEMPORARY_FAILURE, now_ns=0, attempt=1)
    assert action == Retry(kind=ErrorKind.TEMPORARY_FAILURE, backoff_s=1.0)
    assert b.admit([(Priority.TOP, ins(1))], S // 2)[0] == ()
    assert b.admit([(Priority.TOP, ins(1))], S)[0] == (ins(1),)


@pytest.mark.parametrize("code", [3, 4, 10, 20])
def test_classify_error_when_transient_retries_with_doubling_backoff(code):
    kind = error_kind(code)
    assert classify_error(kind, 0) == Retry(kind=kind, backoff_s=0.5)
    assert classify_error(kind, 2) == Retry(kind=kind, backoff_s=2.0)
    assert classify_error(kind, 30).backoff_s == 30.0  # capped


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (13, DropReason.INVALID_PRICE),
        (14, DropReason.INVALID_AMOUNT),
        (15, DropReason.NOT_ALIGNED),
        (24, DropReason.INSUFFICIENT_MARGIN),
        (43, DropReason.PRICE_COLLAR),
        (44, DropReason.PROT_GROUP_SIZE),
        (57, DropReason.REDUCE_ONLY),
        (999, DropReason.REFUSED),
    ],
)
def test_classify_error_when_order_invalid_drops_with_reason(code, reason):
    assert classify_error(error_kind(code)) == Drop(kind=error_kind(code), reason=reason)


def test_classify_error_when_order_not_found_reconciles_and_auth_escalates():
    assert classify_error(error_kind(1)) == Reconcile(kind=ErrorKind.ORDER_NOT_FOUND)
    assert classify_error(error_kind(7)) == Escalate(kind=ErrorKind.NOT_LOGGED_IN)


def test_error_kind_when_wire_code_listed_names_the_same_error_and_unknown_otherwise():
    assert all(error_kind(c.value).name == c.name for c in ErrorCode)
    assert error_kind(999) is ErrorKind.UNKNOWN


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 400_000_000),  # gap to the previous batch, ns
            st.lists(st.tuples(st.sampled_from(list(Priority)), st.booleans()), max_size=12),
            st.booleans(),  # throttle error before the batch
        ),
        max_size=40,
    ),
    st.booleans(),
)
def test_budget_when_random_streams_never_exceeds_limit_in_any_window(batches, cod):
    b = MessageBudget(CFG, cancel_on_disconnect=cod)
    rate = CFG.me_rate_cod_per_s if cod else CFG.me_rate_per_s
    now = 0
    me_times: list[int] = []
    cancel_times: list[int] = []
    for gap, items, throttle in batches:
        now += gap
        if throttle:
            b.on_throttled(now)
        cmds = [(p, cxl(i) if c else ins(i)) for i, (p, c) in enumerate(items)]
        admitted, deferred = b.admit(cmds, now)
        assert len(admitted) + len(deferred) == len(cmds)
        for c in admitted:
            (cancel_times if is_cancel(c) else me_times).append(now)
        if throttle:
            assert all(is_cancel(c) for c in admitted)
    for times, limit in ((me_times, rate), (cancel_times, CFG.cancel_rate_per_s)):
        for i, t in enumerate(times):
            in_window = sum(1 for u in times[i:] if u < t + S)
            assert in_window <= limit * (1 - CFG.rate_safety_margin)
