"""Request-parameter readers for the simulated exchange (thalex_protocol.md §2–§6).

Each ``read_*`` function takes the ``params`` object of a parsed request and returns a typed,
validated value, or raises :class:`RequestRejected` whose message names the field, the bad
value and what is expected. Shape checks only (types, required fields, enums, the
combinations the spec forbids); market checks (tick alignment, min amount, instrument
existence, margin) belong to the matching engine.

Choices where the sources are silent or conflict [INF]:
* unknown parameters are ignored;
* ``label``: up to 64 characters of ``[A-Za-z0-9<>|_-]`` (the looser of the two official limits);
* ``client_order_id``: integer 0 … 2^64−1 (the looser of the two official ranges);
* combination orders (``legs``) are refused with INVALID_REQUEST: the simulator has no combos;
* mass-quote sides accept both forms, single ``{"p","a"}`` and multi-level ``[[p, a], …]``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from thalex_mm.core.commands import InstrumentQuote
from thalex_mm.core.types import OrderType, Side, TimeInForce
from thalex_mm.protocol.error_codes import ErrorCode
from thalex_mm.protocol.rejections import RequestRejected

__all__ = [
    "AmendParams",
    "CancelParams",
    "InsertParams",
    "MassQuoteParams",
    "SetMmpParams",
    "read_amend_params",
    "read_cancel_mass_quote_params",
    "read_cancel_on_disconnect_params",
    "read_cancel_params",
    "read_channels_params",
    "read_insert_params",
    "read_instrument_name_param",
    "read_login_params",
    "read_mass_quote_params",
    "read_set_mmp_params",
    "read_underlying_param",
]

MAX_CLIENT_ORDER_ID = 2**64 - 1
MAX_MASS_QUOTE_ITEMS = 100
MAX_MASS_QUOTE_LEVELS = 10
COLLARS = ("ignore", "reject", "clamp")
STP_LEVELS = ("customer", "account", "disabled")
STP_ACTIONS = ("cancel_aggressive_partial_fill", "cancel_aggressive_no_fill")
_LABEL_RE = re.compile(r"[A-Za-z0-9<>|_\-]{0,64}")

_INVALID = ErrorCode.INVALID_REQUEST


def _type(v: Any) -> str:
    return "null" if v is None else type(v).__name__


def _reject(message: str, code: ErrorCode = _INVALID) -> RequestRejected:
    return RequestRejected(code, message)


def _number(p: dict[str, Any], key: str, required: bool = True) -> float | None:
    v = p.get(key)
    if v is None:
        if required:
            raise _reject(f"{key}: missing (required number)")
        return None
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(float(v)):
        raise _reject(f"{key}: got {v!r}, expected a finite number")
    return float(v)


def _positive(p: dict[str, Any], key: str, code: ErrorCode) -> float:
    v = _number(p, key)
    assert v is not None
    if not v > 0:
        raise _reject(f"{key}: got {v!r}, expected a number > 0", code)
    return v


def _string(p: dict[str, Any], key: str, required: bool = True) -> str | None:
    v = p.get(key)
    if v is None:
        if required:
            raise _reject(f"{key}: missing (required string)")
        return None
    if not isinstance(v, str) or not v:
        raise _reject(f"{key}: got {_type(v)}, expected a non-empty string")
    return v


def _flag(p: dict[str, Any], key: str) -> bool:
    v = p.get(key)
    if v is None:
        return False
    if not isinstance(v, bool):
        raise _reject(f"{key}: got {v!r}, expected true or false")
    return v


def _choice(p: dict[str, Any], key: str, allowed: tuple[str, ...]) -> str | None:
    v = p.get(key)
    if v is None:
        return None
    if v not in allowed:
        raise _reject(f"{key}: got {v!r}, expected one of {', '.join(allowed)}")
    return v


def _client_order_id(p: dict[str, Any]) -> int | None:
    v = p.get("client_order_id")
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= MAX_CLIENT_ORDER_ID:
        raise _reject(f"client_order_id: got {v!r}, expected an integer 0..2^64-1")
    return v


def _label(p: dict[str, Any]) -> str | None:
    v = p.get("label")
    if v is None:
        return None
    if not isinstance(v, str) or not _LABEL_RE.fullmatch(v):
        raise _reject(f"label: got {v!r}, expected up to 64 characters of A-Z a-z 0-9 < > | _ -")
    return v


# ---------------------------------------------------------------- orders


@dataclass(frozen=True, slots=True, kw_only=True)
class InsertParams:
    """Validated ``private/insert`` / ``buy`` / ``sell`` params; prices in quote currency,
    amounts in contracts. ``time_in_force`` is resolved to its default when absent."""

    direction: Side
    instrument_name: str
    amount: float
    price: float | None
    client_order_id: int | None = None
    label: str | None = None
    order_type: OrderType = OrderType.LIMIT
    time_in_force: TimeInForce = TimeInForce.GTC
    post_only: bool = False
    reject_post_only: bool = False
    reduce_only: bool = False
    collar: str | None = None
    stp_level: str | None = None
    stp_action: str | None = None


def read_insert_params(params: dict[str, Any], direction: Side | None = None) -> InsertParams:
    """Read insert params (§5.2).

    Args:
        params: the request's params.
        direction: the side implied by the method (``private/buy``/``sell``); ``None`` for
            ``private/insert``, which must carry ``direction``.

    Raises:
        RequestRejected: INVALID_REQUEST for shape errors, INVALID_QUANTITY for amount <= 0,
            INVALID_PRICE for a limit order without a price, INVALID_TIME_IN_FORCE for GTC
            market or IOC post-only.
    """
    if direction is None:
        raw = params.get("direction")
        if raw is None:
            raise _reject("direction: missing (required: 'buy' or 'sell')")
        try:
            direction = Side(raw)
        except ValueError:
            raise _reject(f"direction: got {raw!r}, expected 'buy' or 'sell'") from None
    if "legs" in params:
        raise _reject("legs: combination orders are not supported by the simulator")
    instrument_name = _string(params, "instrument_name")
    amount = _positive(params, "amount", ErrorCode.INVALID_QUANTITY)
    raw_type = params.get("order_type", "limit")
    try:
        order_type = OrderType(raw_type)
    except ValueError:
        raise _reject(f"order_type: got {raw_type!r}, expected 'limit' or 'market'") from None
    price = _number(params, "price", required=False)
    if order_type is OrderType.LIMIT and price is None:
        raise _reject("price: missing (required for limit orders)", ErrorCode.INVALID_PRICE)
    raw_tif = params.get("time_in_force")
    if raw_tif is None:
        tif = TimeInForce.GTC if order_type is OrderType.LIMIT else TimeInForce.IOC
    else:
        try:
            tif = TimeInForce(raw_tif)
        except ValueError:
            raise _reject(
                f"time_in_force: got {raw_tif!r}, expected 'good_till_cancelled' or "
                "'immediate_or_cancel'",
                ErrorCode.INVALID_TIME_IN_FORCE,
            ) from None
    post_only = _flag(params, "post_only")
    if order_type is OrderType.MARKET and tif is TimeInForce.GTC:
        raise _reject(
            "time_in_force: a market order cannot be good_till_cancelled",
            ErrorCode.INVALID_TIME_IN_FORCE,
        )
    if post_only and tif is TimeInForce.IOC:
        raise _reject(
            "time_in_force: post_only cannot be immediate_or_cancel",
            ErrorCode.INVALID_TIME_IN_FORCE,
        )
    collar = _choice(params, "collar", COLLARS)
    if collar == "ignore" and order_type is OrderType.MARKET:
        raise _reject("collar: 'ignore' is forbidden on market orders")
    assert instrument_name is not None
    return InsertParams(
        direction=direction,
        instrument_name=instrument_name,
        amount=amount,
        price=price,
        client_order_id=_client_order_id(params),
        label=_label(params),
        order_type=order_type,
        time_in_force=tif,
        post_only=post_only,
        reject_post_only=_flag(params, "reject_post_only"),
        reduce_only=_flag(params, "reduce_only"),
        collar=collar,
        stp_level=_choice(params, "stp_level", STP_LEVELS),
        stp_action=_choice(params, "stp_action", STP_ACTIONS),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelParams:
    """Exactly one of the two ids is set."""

    order_id: str | None = None
    client_order_id: int | None = None


def _one_id(params: dict[str, Any]) -> CancelParams:
    order_id = _string(params, "order_id", required=False)
    coid = _client_order_id(params)
    if (order_id is None) == (coid is None):
        raise _reject("order_id / client_order_id: exactly one of them is required")
    return CancelParams(order_id=order_id, client_order_id=coid)


def read_cancel_params(params: dict[str, Any]) -> CancelParams:
    """``private/cancel`` (§5.2): exactly one of ``order_id`` / ``client_order_id``."""
    return _one_id(params)


@dataclass(frozen=True, slots=True, kw_only=True)
class AmendParams:
    price: float
    amount: float
    order_id: str | None = None
    client_order_id: int | None = None
    collar: str | None = None


def read_amend_params(params: dict[str, Any]) -> AmendParams:
    """``private/amend`` (§5.2): ``price``, ``amount`` (new original size, >= 0: at or below
    the filled amount deletes the order), exactly one id, optional ``collar``."""
    ids = _one_id(params)
    price = _number(params, "price")
    amount = _number(params, "amount")
    assert price is not None and amount is not None
    if amount < 0:
        raise _reject(f"amount: got {amount!r}, expected a number >= 0", ErrorCode.INVALID_QUANTITY)
    return AmendParams(
        price=price,
        amount=amount,
        order_id=ids.order_id,
        client_order_id=ids.client_order_id,
        collar=_choice(params, "collar", COLLARS),
    )


# ---------------------------------------------------------------- mass quote and MMP


@dataclass(frozen=True, slots=True, kw_only=True)
class MassQuoteParams:
    """Validated ``private/mass_quote`` params; sides as in :class:`InstrumentQuote`
    (``None`` = side omitted, left alone; ``()`` = clear the side)."""

    quotes: tuple[InstrumentQuote, ...]
    label: str | None = None
    post_only: bool = False
    reject_post_only: bool = False


def _level(v: Any, where: str) -> tuple[float, float]:
    if isinstance(v, dict):
        price, amount = v.get("p"), v.get("a")
    elif isinstance(v, list) and len(v) == 2:
        price, amount = v
    else:
        raise _reject(f"{where}: expected {{'p': price, 'a': amount}} or [price, amount]")
    for name, x in (("price", price), ("amount", amount)):
        if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(float(x)):
            raise _reject(f"{where}: {name} got {x!r}, expected a finite number")
    if amount < 0:
        raise _reject(f"{where}: amount got {amount!r}, expected >= 0", ErrorCode.INVALID_QUANTITY)
    return float(price), float(amount)


def _quote_side(v: Any, where: str) -> tuple[tuple[float, float], ...] | None:
    if v is None:
        return None
    if isinstance(v, dict):
        return (_level(v, where),)
    if not isinstance(v, list):
        raise _reject(f"{where}: expected {{'p','a'}} or a list of [price, amount], got {_type(v)}")
    if len(v) > MAX_MASS_QUOTE_LEVELS:
        raise _reject(f"{where}: {len(v)} levels, at most {MAX_MASS_QUOTE_LEVELS} allowed")
    levels = tuple(_level(x, f"{where}[{i}]") for i, x in enumerate(v))
    if len({p for p, _ in levels}) != len(levels):
        raise _reject(f"{where}: prices must be distinct")
    return levels


def read_mass_quote_params(params: dict[str, Any]) -> MassQuoteParams:
    """``private/mass_quote`` (§5.5): ``quotes`` (1..100 items ``{"i", "b"?, "a"?}``)."""
    raw = params.get("quotes")
    if not isinstance(raw, list):
        raise _reject(f"quotes: got {_type(raw)}, expected a list of quotes")
    if len(raw) > MAX_MASS_QUOTE_ITEMS:
        raise _reject(f"quotes: {len(raw)} items, at most {MAX_MASS_QUOTE_ITEMS} allowed")
    quotes = []
    for n, item in enumerate(raw):
        where = f"quotes[{n}]"
        if not isinstance(item, dict):
            raise _reject(f"{where}: expected an object {{'i', 'b', 'a'}}, got {_type(item)}")
        name = item.get("i")
        if not isinstance(name, str) or not name:
            raise _reject(f"{where}.i: expected an instrument name, got {_type(name)}")
        quotes.append(
            InstrumentQuote(
                instrument=name,
                bids=_quote_side(item.get("b"), f"{where}.b"),
                asks=_quote_side(item.get("a"), f"{where}.a"),
            )
        )
    return MassQuoteParams(
        quotes=tuple(quotes),
        label=_label(params),
        post_only=_flag(params, "post_only"),
        reject_post_only=_flag(params, "reject_post_only"),
    )


def read_cancel_mass_quote_params(params: dict[str, Any]) -> str | None:
    """``private/cancel_mass_quote`` (§5.5): the optional ``product``."""
    return _string(params, "product", required=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class SetMmpParams:
    product: str
    trade_amount: float
    quote_amount: float


def read_set_mmp_params(params: dict[str, Any]) -> SetMmpParams:
    """``private/set_mm_protection`` (§6). The deprecated ``amount`` sets both amounts;
    ``trade_amount`` must be <= ``quote_amount``; both >= 0 (contracts)."""
    product = _string(params, "product")
    assert product is not None
    legacy = _number(params, "amount", required=False)
    if legacy is not None:
        trade = quote = legacy
    else:
        trade = _number(params, "trade_amount")
        quote = _number(params, "quote_amount")
    assert trade is not None and quote is not None
    if trade < 0 or quote < 0:
        raise _reject(f"trade_amount/quote_amount: got {trade!r}/{quote!r}, expected >= 0")
    if trade > quote:
        raise _reject(f"trade_amount: got {trade!r}, must be <= quote_amount {quote!r}")
    return SetMmpParams(product=product, trade_amount=trade, quote_amount=quote)


# ---------------------------------------------------------------- session and market data


def read_login_params(params: dict[str, Any]) -> tuple[str, str | None]:
    """``public/login`` (§2): ``(token, account)``. The message never echoes the token."""
    token = params.get("token")
    if not isinstance(token, str) or not token:
        raise _reject(f"token: got {_type(token)}, expected a JWT string")
    return token, _string(params, "account", required=False)


def read_cancel_on_disconnect_params(params: dict[str, Any]) -> int:
    """``private/set_cancel_on_disconnect`` (§3): ``timeout_secs`` integer > 0, seconds."""
    v = params.get("timeout_secs")
    if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
        raise _reject(f"timeout_secs: got {v!r}, expected an integer > 0 (seconds)")
    return v


def read_channels_params(params: dict[str, Any]) -> tuple[str, ...]:
    """``public/subscribe``/``private/subscribe``/``unsubscribe`` (§4.2): ``channels``."""
    v = params.get("channels")
    if not isinstance(v, list) or not all(isinstance(c, str) for c in v):
        raise _reject(f"channels: got {_type(v)}, expected a list of channel names")
    return tuple(v)


def read_instrument_name_param(params: dict[str, Any]) -> str:
    """``instrument_name`` of ``public/ticker``/``book``/``instrument``."""
    v = _string(params, "instrument_name")
    assert v is not None
    return v


def read_underlying_param(params: dict[str, Any]) -> str:
    """``underlying`` of ``public/index``."""
    v = _string(params, "underlying")
    assert v is not None
    return v
