"""Trading state (ACTIVE / REDUCING / HALTED), its transition table, and typed risk reasons.

Every state change carries a ``Reason`` and is emitted as ``TradingStateChanged``. Refusals by
our own checks are *Denied* (``QuoteDenied`` from the gate, ``OrderDenied`` from
``check_command``); refusals by Thalex are *Rejected* (``order_manager.OrderRejected``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, StrEnum

from thalex_mm.core.types import Side
from thalex_mm.errors import InvalidTransition

__all__ = [
    "STICKY_REASONS",
    "TRADING_TRANSITIONS",
    "OrderDenied",
    "QuoteDenied",
    "Reason",
    "TradingState",
    "TradingStateChanged",
    "TradingTrigger",
    "next_trading_state",
]


class TradingState(Enum):
    ACTIVE = "active"  # quote both sides
    REDUCING = "reducing"  # only orders that reduce the position
    HALTED = "halted"  # nothing but cancels (and a reduce-only flatten)


class Reason(StrEnum):
    POSITION_SOFT_LIMIT = "position_soft_limit"
    POSITION_HARD_LIMIT = "position_hard_limit"
    INHERITED_POSITION = "inherited_position"  # the run started above the soft limit
    MAX_NOTIONAL = "max_notional"
    MAX_ORDER_SIZE = "max_order_size"
    DRAWDOWN = "drawdown"
    SESSION_LOSS = "session_loss"
    DAILY_LOSS = "daily_loss"
    TRAILING_STOP = "trailing_stop"
    CONSECUTIVE_LOSSES = "consecutive_losses"
    PRICE_BAND = "price_band"
    BOOK_CROSSED = "book_crossed"
    MARK_MID_DIVERGENCE = "mark_mid_divergence"
    NO_MARKET = "no_market"
    STALE_DATA = "stale_data"
    FILL_RATE = "fill_rate"
    KILL_SWITCH = "kill_switch"
    DISCONNECTED = "disconnected"
    MANUAL = "manual"
    REDUCE_ONLY = "reduce_only"
    HALTED = "halted"
    SELF_CROSS = "self_cross"
    RESUMED = "resumed"


STICKY_REASONS = frozenset(
    {
        Reason.DRAWDOWN,
        Reason.SESSION_LOSS,
        Reason.DAILY_LOSS,
        Reason.TRAILING_STOP,
        Reason.KILL_SWITCH,
        Reason.MANUAL,
    }
)
"""Halts that only ``RiskManager.reset`` (a human) lifts; every other halt resumes by itself."""


class TradingTrigger(Enum):
    REDUCE = "reduce"  # a reduce-only condition appeared
    HALT = "halt"  # a halt condition appeared (or another reason took over)
    RECOVER = "recover"  # every condition of the current state cleared
    RESET = "reset"  # manual reset of sticky halts


_A, _R, _H = TradingState.ACTIVE, TradingState.REDUCING, TradingState.HALTED
_T = TradingTrigger

TRADING_TRANSITIONS: dict[tuple[TradingState, TradingTrigger], TradingState] = {
    (_A, _T.REDUCE): _R,
    (_A, _T.HALT): _H,
    (_A, _T.RESET): _A,
    (_R, _T.REDUCE): _R,  # another reduce reason took over
    (_R, _T.HALT): _H,
    (_R, _T.RECOVER): _A,
    (_R, _T.RESET): _R,
    (_H, _T.HALT): _H,  # another halt reason took over
    (_H, _T.REDUCE): _R,  # halt cleared but the position is still over a limit
    (_H, _T.RECOVER): _A,
    (_H, _T.RESET): _A,
}


def next_trading_state(state: TradingState, trigger: TradingTrigger) -> TradingState:
    """Raises ``InvalidTransition`` for a move the table does not have."""
    try:
        return TRADING_TRANSITIONS[(state, trigger)]
    except KeyError:
        raise InvalidTransition(state, trigger) from None


@dataclass(frozen=True, slots=True, kw_only=True)
class TradingStateChanged:
    """The trading state changed (or its reason did). Journaled and shown."""

    exchange_ts_ns: int
    local_ts_ns: int
    state: TradingState
    previous: TradingState
    reason: Reason
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class QuoteDenied:
    """The risk gate removed or cut a wanted quote level.

    ``amount`` is the wanted amount; ``allowed_amount`` what passed (0 = removed).
    """

    ts_ns: int
    reason: Reason
    side: Side
    level: int
    price: float
    amount: float
    allowed_amount: float = 0.0
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderDenied:
    """``check_command`` refused a command (last line of defence before the wire)."""

    ts_ns: int
    reason: Reason
    command: str
    client_order_id: int | None = None
    detail: str = ""
