"""ErrorKind: the core's names for the errors an exchange answers with (thalex_protocol.md §7).

The core decides what an error means (retry, drop, reconcile, escalate: ``core.budget``) by
these names, never by wire numbers: the protocol codec maps each wire code onto a kind
(``thalex_mm.protocol.error_codes.error_kind``) before the core sees an ``ErrorReceived``, and
a code it does not know becomes ``UNKNOWN`` (never retried blindly).
"""

from __future__ import annotations

from enum import Enum

__all__ = ["ErrorKind"]


class ErrorKind(Enum):
    ORDER_NOT_FOUND = "order_not_found"
    DUPLICATE_ORDER_ID = "duplicate_order_id"
    TOO_MANY_PENDING_REQUESTS = "too_many_pending_requests"
    THROTTLE_EXCEEDED = "throttle_exceeded"
    UNKNOWN_INSTRUMENT = "unknown_instrument"
    INVALID_REQUEST = "invalid_request"
    NOT_LOGGED_IN = "not_logged_in"
    ALREADY_SUBSCRIBED = "already_subscribed"
    NOT_SUBSCRIBED = "not_subscribed"
    PARTITION_UNAVAILABLE = "partition_unavailable"
    SESSION_EXHAUSTED = "session_exhausted"
    INVALID_ORDER_ID = "invalid_order_id"
    INVALID_PRICE = "invalid_price"
    INVALID_QUANTITY = "invalid_quantity"
    PRICE_NOT_ALIGNED = "price_not_aligned"
    UNKNOWN_PRODUCT = "unknown_product"
    AUTHENTICATION_FAILED = "authentication_failed"
    TEMPORARY_FAILURE = "temporary_failure"
    INVALID_PROT_GROUP = "invalid_prot_group"
    PROT_NOT_SET = "prot_not_set"
    INSUFFICIENT_MARGIN = "insufficient_margin"
    INVALID_TIME_IN_FORCE = "invalid_time_in_force"
    ACCOUNT_LOCKED = "account_locked"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    UNAUTHORIZED = "unauthorized"
    UNKNOWN_METHOD = "unknown_method"
    INVALID_STATE = "invalid_state"
    UNKNOWN_UNDERLYING = "unknown_underlying"
    INSUFFICIENT_LIQUIDITY = "insufficient_liquidity"
    PRICE_COLLAR_BREACH = "price_collar_breach"
    QUOTE_EXCEEDS_PROT_GROUP_SIZE = "quote_exceeds_prot_group_size"
    UNBOUNDED_MARKET_ORDER = "unbounded_market_order"
    TOO_MANY_OPEN_ORDERS = "too_many_open_orders"
    TOTAL_ORDER_SIZE_TOO_LARGE = "total_order_size_too_large"
    MQP_NOT_ENABLED = "mqp_not_enabled"
    PERSISTENT_SESSION = "persistent_session"
    API_CONNECTION_LIMIT_REACHED = "api_connection_limit_reached"
    REDUCE_ONLY_MODE = "reduce_only_mode"
    UNKNOWN = "unknown"
    """A code the codec does not know."""
