"""Thalex error codes (thalex_protocol.md §7).

Only 1 (order not found) and 4 (throttled) are confirmed by official examples; the rest follow
the third-party Rust SDK's enum. The simulated exchange answers with these codes and the bot
classifies them (retry, drop, reconcile) by the same names, so the two cannot drift apart: the
codec maps every wire code onto the core's ``ErrorKind`` of the same name (:func:`error_kind`)
before the core sees it.
"""

from __future__ import annotations

from enum import IntEnum

from thalex_mm.core.error_kinds import ErrorKind

__all__ = ["ErrorCode", "error_kind"]


class ErrorCode(IntEnum):
    ORDER_NOT_FOUND = 1
    DUPLICATE_ORDER_ID = 2
    TOO_MANY_PENDING_REQUESTS = 3
    THROTTLE_EXCEEDED = 4
    UNKNOWN_INSTRUMENT = 5
    INVALID_REQUEST = 6
    NOT_LOGGED_IN = 7
    ALREADY_SUBSCRIBED = 8
    NOT_SUBSCRIBED = 9
    PARTITION_UNAVAILABLE = 10
    SESSION_EXHAUSTED = 11
    INVALID_ORDER_ID = 12
    INVALID_PRICE = 13
    INVALID_QUANTITY = 14
    PRICE_NOT_ALIGNED = 15
    UNKNOWN_PRODUCT = 17
    AUTHENTICATION_FAILED = 19
    TEMPORARY_FAILURE = 20
    INVALID_PROT_GROUP = 22
    PROT_NOT_SET = 23
    INSUFFICIENT_MARGIN = 24
    INVALID_TIME_IN_FORCE = 25
    ACCOUNT_LOCKED = 26
    INSUFFICIENT_FUNDS = 27
    UNAUTHORIZED = 28
    UNKNOWN_METHOD = 31
    INVALID_STATE = 37
    UNKNOWN_UNDERLYING = 40
    INSUFFICIENT_LIQUIDITY = 41
    PRICE_COLLAR_BREACH = 43
    QUOTE_EXCEEDS_PROT_GROUP_SIZE = 44
    UNBOUNDED_MARKET_ORDER = 45
    TOO_MANY_OPEN_ORDERS = 49
    TOTAL_ORDER_SIZE_TOO_LARGE = 50
    MQP_NOT_ENABLED = 51
    PERSISTENT_SESSION = 52
    API_CONNECTION_LIMIT_REACHED = 53
    REDUCE_ONLY_MODE = 57


_KINDS: dict[int, ErrorKind] = {code.value: ErrorKind[code.name] for code in ErrorCode}


def error_kind(code: int) -> ErrorKind:
    """The core's name for wire error ``code`` (``ErrorKind.UNKNOWN`` for a code not listed)."""
    return _KINDS.get(code, ErrorKind.UNKNOWN)
