"""Message budget, throttle cooldown and the retry policy by error kind (thalex_protocol.md §7).

Thalex allows 10 matching-engine messages per second per connection (50/s after
``set_cancel_on_disconnect``) and 1000 cancels per second; once the limit is hit *all* later
messages fail with error 4 for an unstated time. So we never want to hit it.

The budget is a sliding-window counter per class of message (a token bucket whose tokens come
back exactly one window after they were spent). Unlike a plain refilling bucket it guarantees
that *any* window of one second holds at most ``rate * (1 - safety_margin)`` messages, whatever
algorithm the venue uses. Time is a caller-supplied ``now_ns``; nothing here reads a clock.

Admission is a priority prefix: commands are considered in ``Priority`` order (stable within a
priority) and the first one that does not fit defers itself and *every* command after it. A
quote step therefore never sends a move toward the opposite side while the retreat it depends
on waits (see ``OrderManager.plan``). During a throttle cooldown only cancels are admitted:
they have their own, much larger budget, and pulling a stale quote matters more than anything.
So a retreat (an amend moving a quote away from the touch, or such a mass quote) that cannot be
sent is replaced by a cancel of that order (``CancelMassQuote``): a quote more aggressive than the model wants is not left to be picked
off while the budget recovers, and re-inserting it later costs the same one message the amend
would have.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum, IntEnum

from thalex_mm.config.models import ConnectionConfig
from thalex_mm.core.commands import (
    AmendOrder,
    CancelAll,
    CancelMassQuote,
    CancelOrder,
    CancelSession,
    Command,
    Halt,
    MassQuote,
)
from thalex_mm.core.error_kinds import ErrorKind

__all__ = [
    "Drop",
    "DropReason",
    "ErrorAction",
    "Escalate",
    "MessageBudget",
    "Priority",
    "Reconcile",
    "Retry",
    "classify_error",
    "is_cancel",
]

_NS_PER_S = 1_000_000_000
_WINDOW_NS = _NS_PER_S


class Priority(IntEnum):
    """Spending order when the budget is short (lower first)."""

    UNSAFE_CANCEL = 0  # cancel of an order that now crosses or breaches a limit
    CANCEL = 1  # ordinary cancel (surplus level)
    RETREAT = 2  # amend moving a quote away from the opposite side (never unsafe)
    TOP = 3  # top-of-book quote (insert or amend toward the touch)
    DEEPER = 4  # deeper levels


_CANCEL_TYPES = (CancelOrder, CancelAll, CancelSession, CancelMassQuote)


def is_cancel(cmd: Command) -> bool:
    """True for commands charged to the cancel budget (1000/s)."""
    return isinstance(cmd, _CANCEL_TYPES)


class _Window:
    """At most ``limit`` admissions in any window of ``_WINDOW_NS``."""

    __slots__ = ("limit", "stamps")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.stamps: deque[int] = deque()

    def _expire(self, now_ns: int) -> None:
        stamps = self.stamps
        while stamps and stamps[0] <= now_ns - _WINDOW_NS:
            stamps.popleft()

    def try_take(self, now_ns: int) -> bool:
        self._expire(now_ns)
        if len(self.stamps) >= self.limit:
            return False
        self.stamps.append(now_ns)
        return True

    def available(self, now_ns: int) -> int:
        self._expire(now_ns)
        return self.limit - len(self.stamps)

    def next_free_ns(self, now_ns: int) -> int:
        self._expire(now_ns)
        if len(self.stamps) < self.limit:
            return now_ns
        return self.stamps[0] + _WINDOW_NS


def _pull_instead(cmd: Command) -> Command | None:
    """The cancel that removes what a deferred retreat would have moved, if there is one."""
    if isinstance(cmd, AmendOrder):
        return CancelOrder(client_order_id=cmd.client_order_id, order_id=cmd.order_id)
    if isinstance(cmd, MassQuote):
        return CancelMassQuote()
    return None


def _limit(rate_per_s: float, margin: float) -> int:
    return max(1, int(rate_per_s * (1.0 - margin)))


class MessageBudget:
    """Rate budget for one connection.

    Args:
        config: ``ConnectionConfig`` (me_rate_per_s, me_rate_cod_per_s, cancel_rate_per_s,
            rate_safety_margin, throttle_cooldown_initial_s / cap_s / quiet_reset_s).
        cancel_on_disconnect: whether the session already runs with COD (50/s).
    """

    def __init__(self, config: ConnectionConfig, *, cancel_on_disconnect: bool = False) -> None:
        self._cfg = config
        self._me = _Window(_limit(config.me_rate_per_s, config.rate_safety_margin))
        self._cancels = _Window(_limit(config.cancel_rate_per_s, config.rate_safety_margin))
        self._cooldown_until_ns = 0
        self._cooldown_s = 0.0  # last cooldown length; 0 = none yet
        self._last_throttle_ns: int | None = None
        self._hold_until_ns = 0  # transient-error backoff for matching-engine messages
        self._has_deferred = False
        self._last_now_ns = 0
        if cancel_on_disconnect:
            self.set_cancel_on_disconnect(True)

    # ------------------------------------------------------------------ configuration

    def set_cancel_on_disconnect(self, active: bool) -> None:
        """Switch the matching-engine limit to the COD rate (50/s) or back (10/s)."""
        rate = self._cfg.me_rate_cod_per_s if active else self._cfg.me_rate_per_s
        self._me.limit = _limit(rate, self._cfg.rate_safety_margin)

    @property
    def me_limit_per_window(self) -> int:
        """Matching-engine messages allowed per second after the safety margin."""
        return self._me.limit

    @property
    def cancel_limit_per_window(self) -> int:
        return self._cancels.limit

    def me_used(self, now_ns: int) -> int:
        """Matching-engine messages spent in the one-second window ending at ``now_ns``."""
        return self._me.limit - self._me.available(now_ns)

    # ------------------------------------------------------------------ admission

    def in_cooldown(self, now_ns: int) -> bool:
        return now_ns < self._cooldown_until_ns

    def admit(
        self, commands: Sequence[tuple[int, Command]], now_ns: int
    ) -> tuple[tuple[Command, ...], tuple[Command, ...]]:
        """Spend the budget on ``commands`` by priority.

        Args:
            commands: ``(priority, command)`` pairs, in the order the planner wants them sent
                (the sort by priority is stable).
            now_ns: current time, ns.

        Returns:
            ``(admitted, deferred)``: admitted ones in send order; the deferred ones should be
            dropped and re-planned at the next quote step (at ``next_deadline_ns()`` at the
            latest). ``Halt`` costs nothing and is always admitted. A deferred ``RETREAT``
            amend is admitted as a ``CancelOrder`` of its order (a ``RETREAT`` mass quote as a
            ``CancelMassQuote``) when the cancel budget allows.
        """
        self._last_now_ns = now_ns
        ordered = sorted(commands, key=lambda pc: pc[0])
        admitted: list[Command] = []
        deferred: list[Command] = []
        blocked = False
        cooling = self.in_cooldown(now_ns)
        held = now_ns < self._hold_until_ns
        for priority, cmd in ordered:
            if isinstance(cmd, Halt):
                admitted.append(cmd)
                continue
            if not blocked:
                if is_cancel(cmd):
                    ok = self._cancels.try_take(now_ns)
                else:
                    ok = not cooling and not held and self._me.try_take(now_ns)
                if ok:
                    admitted.append(cmd)
                    continue
                blocked = True
            if priority == Priority.RETREAT:
                pull = _pull_instead(cmd)
                if pull is not None and self._cancels.try_take(now_ns):
                    admitted.append(pull)
            deferred.append(cmd)
        self._has_deferred = bool(deferred)
        return tuple(admitted), tuple(deferred)

    def next_deadline_ns(self, now_ns: int | None = None) -> int | None:
        """When deferred work could next be admitted (ns), or None if nothing waits.

        ``now_ns`` defaults to the time of the last ``admit``/error call.
        """
        if not self._has_deferred:
            return None
        if now_ns is None:
            now_ns = self._last_now_ns
        return max(self._me.next_free_ns(now_ns), self._cooldown_until_ns, self._hold_until_ns)

    # ------------------------------------------------------------------ errors

    def on_throttled(self, now_ns: int) -> float:
        """A throttle error (wire code 4) arrived: start (or lengthen) the cooldown.

        The first cooldown lasts ``throttle_cooldown_initial_s``; each throttle within
        ``throttle_quiet_reset_s`` of the previous one doubles it, up to
        ``throttle_cooldown_cap_s``; a quiet period resets it.

        Returns:
            The cooldown length, s.
        """
        cfg = self._cfg
        self._last_now_ns = now_ns
        quiet_ns = int(cfg.throttle_quiet_reset_s * _NS_PER_S)
        if self._last_throttle_ns is None or now_ns - self._last_throttle_ns >= quiet_ns:
            self._cooldown_s = cfg.throttle_cooldown_initial_s
        else:
            self._cooldown_s = min(self._cooldown_s * 2.0, cfg.throttle_cooldown_cap_s)
        self._last_throttle_ns = now_ns
        self._cooldown_until_ns = max(
            self._cooldown_until_ns, now_ns + int(self._cooldown_s * _NS_PER_S)
        )
        self._has_deferred = True
        return self._cooldown_s

    def on_error(self, kind: ErrorKind, now_ns: int, attempt: int = 0) -> ErrorAction:
        """Classify an error response and apply its timing effect on the budget.

        Throttle starts the cooldown; other transient errors hold matching-engine
        messages for the retry backoff. Returns the classification for the caller.
        """
        action = classify_error(kind, attempt, self._cfg)
        if kind is ErrorKind.THROTTLE_EXCEEDED:
            self.on_throttled(now_ns)
        elif isinstance(action, Retry):
            self._hold_until_ns = max(
                self._hold_until_ns, now_ns + int(action.backoff_s * _NS_PER_S)
            )
            self._has_deferred = True
        return action


# ---------------------------------------------------------------------- retry policy


class DropReason(Enum):
    """Why a request is not retried (the order is dropped and re-planned from scratch)."""

    INVALID_PRICE = "invalid_price"
    INVALID_AMOUNT = "invalid_amount"
    NOT_ALIGNED = "not_aligned"
    INSUFFICIENT_MARGIN = "insufficient_margin"
    PRICE_COLLAR = "price_collar"
    PROT_GROUP_SIZE = "prot_group_size"
    REDUCE_ONLY = "reduce_only"
    DUPLICATE_ORDER_ID = "duplicate_order_id"
    TOO_MANY_OPEN_ORDERS = "too_many_open_orders"
    REFUSED = "refused"  # any other error: not retried blindly


@dataclass(frozen=True, slots=True, kw_only=True)
class Retry:
    """Transient: retry after ``backoff_s`` seconds."""

    kind: ErrorKind
    backoff_s: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Drop:
    """Never retried blindly: drop the order, record ``reason``."""

    kind: ErrorKind
    reason: DropReason


@dataclass(frozen=True, slots=True, kw_only=True)
class Reconcile:
    """Our view is wrong (e.g. cancel of an order that is gone): resynchronise."""

    kind: ErrorKind


@dataclass(frozen=True, slots=True, kw_only=True)
class Escalate:
    """Session-level failure (not logged in, locked, auth): stop quoting, reconnect."""

    kind: ErrorKind


ErrorAction = Retry | Drop | Reconcile | Escalate

_TRANSIENT = frozenset(
    {
        ErrorKind.TOO_MANY_PENDING_REQUESTS,
        ErrorKind.THROTTLE_EXCEEDED,
        ErrorKind.PARTITION_UNAVAILABLE,
        ErrorKind.TEMPORARY_FAILURE,
    }
)
_DROPS = {
    ErrorKind.INVALID_PRICE: DropReason.INVALID_PRICE,
    ErrorKind.INVALID_QUANTITY: DropReason.INVALID_AMOUNT,
    ErrorKind.PRICE_NOT_ALIGNED: DropReason.NOT_ALIGNED,
    ErrorKind.INSUFFICIENT_MARGIN: DropReason.INSUFFICIENT_MARGIN,
    ErrorKind.INSUFFICIENT_FUNDS: DropReason.INSUFFICIENT_MARGIN,
    ErrorKind.PRICE_COLLAR_BREACH: DropReason.PRICE_COLLAR,
    ErrorKind.QUOTE_EXCEEDS_PROT_GROUP_SIZE: DropReason.PROT_GROUP_SIZE,
    ErrorKind.REDUCE_ONLY_MODE: DropReason.REDUCE_ONLY,
    ErrorKind.DUPLICATE_ORDER_ID: DropReason.DUPLICATE_ORDER_ID,
    ErrorKind.TOO_MANY_OPEN_ORDERS: DropReason.TOO_MANY_OPEN_ORDERS,
    ErrorKind.TOTAL_ORDER_SIZE_TOO_LARGE: DropReason.TOO_MANY_OPEN_ORDERS,
}
_RECONCILE = frozenset({ErrorKind.ORDER_NOT_FOUND, ErrorKind.INVALID_ORDER_ID})
_ESCALATE = frozenset(
    {
        ErrorKind.NOT_LOGGED_IN,
        ErrorKind.SESSION_EXHAUSTED,
        ErrorKind.AUTHENTICATION_FAILED,
        ErrorKind.ACCOUNT_LOCKED,
        ErrorKind.UNAUTHORIZED,
        ErrorKind.API_CONNECTION_LIMIT_REACHED,
    }
)


def classify_error(
    kind: ErrorKind, attempt: int = 0, config: ConnectionConfig | None = None
) -> ErrorAction:
    """What to do about an error response (thalex_protocol.md §7).

    Args:
        kind: the error (the codec mapped its wire code onto the core's name).
        attempt: how many times this request already failed transiently (0 = first).
        config: supplies the backoff (``throttle_cooldown_initial_s`` doubling per attempt up
            to ``throttle_cooldown_cap_s``); defaults to ``ConnectionConfig()``.

    Returns:
        ``Retry`` for pending-request, throttle, partition and temporary failures;
        ``Reconcile`` for order not found / invalid order id; ``Escalate`` for session
        failures (not logged in, session exhausted, authentication, account locked,
        unauthorized, connection limit); ``Drop`` with a typed reason for everything else
        (price, amount, tick, margin, collar, MMP size, reduce-only ... and unknown errors).
    """
    if kind in _TRANSIENT:
        cfg = config or ConnectionConfig()
        backoff_s = min(
            cfg.throttle_cooldown_initial_s * 2.0 ** max(0, attempt), cfg.throttle_cooldown_cap_s
        )
        return Retry(kind=kind, backoff_s=backoff_s)
    if kind in _RECONCILE:
        return Reconcile(kind=kind)
    if kind in _ESCALATE:
        return Escalate(kind=kind)
    return Drop(kind=kind, reason=_DROPS.get(kind, DropReason.REFUSED))
