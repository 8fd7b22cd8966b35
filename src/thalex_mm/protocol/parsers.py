"""Payload parsers: Thalex wire objects -> core types (thalex_protocol.md §4.3, §5.3, §5.4, §8).

Each parser takes an already-decoded JSON value and raises :class:`ProtocolError` with a
precise reason (which field, what was found, what was expected) when it cannot build the core
object. :func:`thalex_mm.protocol.decoder.decode_frame` turns those errors into
``DecodeFailed``; ``decoder.response_event`` and the drivers call them on ``ReplyReceived.result``.

Rules: numbers are JSON ints or floats (never booleans), finite; wire times are float Unix
seconds and become ``int(round(t * 1e9))`` ns; an optional field that is absent or ``null``
becomes ``None``. An unknown enum value (status, reason, direction ...) is an error, not a guess.
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Any, TypeVar

from thalex_mm.core.events import (
    AccountSummaryUpdated,
    AccountTrade,
    MmpStatus,
    OrderFill,
    OrderReport,
    PortfolioEntry,
    PublicTrade,
)
from thalex_mm.core.types import (
    ChangeReason,
    DeleteReason,
    Instrument,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)
from thalex_mm.errors import ProtocolError

__all__ = [
    "fast_price_level",
    "parse_account_summary",
    "parse_account_trade",
    "parse_book_trade",
    "parse_instrument",
    "parse_mmp_status",
    "parse_order_status",
    "parse_portfolio_entry",
    "parse_price_level",
    "parse_recent_trade",
    "parse_removed_instrument",
    "parse_trade_history",
    "s_to_ns",
]

E = TypeVar("E", bound=StrEnum)


_MAX_TS_S = 9.2e9
"""Largest Unix time in seconds that fits in int64 nanoseconds (year 2262)."""


def s_to_ns(t: float) -> int:
    """Wire seconds -> integer ns since epoch: ``int(round(t * 1e9))``.

    Raises:
        ProtocolError: ``t`` is not finite or does not fit in int64 nanoseconds.
    """
    if not -_MAX_TS_S < t < _MAX_TS_S:  # also refuses inf and nan
        raise ProtocolError(f"timestamp: got {t!r} s, expected Unix seconds within int64 nanoseconds")
    return round(t * 1e9)


def _type(v: Any) -> str:
    return "null" if v is None else type(v).__name__


def _obj(v: Any, where: str) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise ProtocolError(f"{where}: expected an object, got {_type(v)}")
    return v


def _list(v: Any, where: str) -> list[Any]:
    if not isinstance(v, list):
        raise ProtocolError(f"{where}: expected an array, got {_type(v)}")
    return v


def _fast_num(v: Any) -> float | None:
    """``v`` as a float when it is a plain finite JSON number, else ``None`` (hot path: no
    message is built unless something is wrong)."""
    t = type(v)
    if t is float:
        return v if v - v == 0.0 else None  # inf - inf and nan - nan are nan
    if t is int:
        try:
            return float(v)
        except OverflowError:
            return None
    return None


def _as_num(v: Any, where: str) -> float:
    f = _fast_num(v)
    if f is not None:
        return f
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise ProtocolError(f"{where}: expected a number, got {_type(v)}")
    if isinstance(v, int):
        raise ProtocolError(f"{where}: number out of range")
    if not math.isfinite(v):
        raise ProtocolError(f"{where}: expected a finite number, got {v}")
    return float(v)  # float subclasses


def _num(d: dict[str, Any], key: str, where: str) -> float:
    v = d.get(key)
    f = _fast_num(v)
    if f is not None:
        return f
    if key not in d:
        raise ProtocolError(f"{where}.{key}: missing (required number)")
    return _as_num(v, f"{where}.{key}")


def _opt_num(d: dict[str, Any], key: str, where: str) -> float | None:
    v = d.get(key)
    if v is None:
        return None
    f = _fast_num(v)
    return f if f is not None else _as_num(v, f"{where}.{key}")


def _str(d: dict[str, Any], key: str, where: str) -> str:
    if key not in d:
        raise ProtocolError(f"{where}.{key}: missing (required string)")
    v = d[key]
    if not isinstance(v, str):
        raise ProtocolError(f"{where}.{key}: expected a string, got {_type(v)}")
    return v


def _opt_str(d: dict[str, Any], key: str, where: str) -> str | None:
    v = d.get(key)
    if v is None:
        return None
    if not isinstance(v, str):
        raise ProtocolError(f"{where}.{key}: expected a string, got {_type(v)}")
    return v


def _opt_bool(d: dict[str, Any], key: str, where: str, default: bool = False) -> bool:
    v = d.get(key)
    if v is None:
        return default
    if not isinstance(v, bool):
        raise ProtocolError(f"{where}.{key}: expected true/false, got {_type(v)}")
    return v


def _opt_int(d: dict[str, Any], key: str, where: str) -> int | None:
    v = d.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int):
        raise ProtocolError(f"{where}.{key}: expected an integer, got {_type(v)}")
    return v


def _enum(cls: type[E], d: dict[str, Any], key: str, where: str, required: bool = True) -> E:
    v = d.get(key)
    if v is None and not required:
        return None  # type: ignore[return-value]
    member = cls._value2member_map_.get(v) if isinstance(v, str) else None
    if member is not None:
        return member  # type: ignore[return-value]
    if key not in d:
        raise ProtocolError(f"{where}.{key}: missing (required)")
    try:
        return cls(v)
    except ValueError:
        allowed = ", ".join(m.value for m in cls)
        raise ProtocolError(f"{where}.{key}: got {v!r}, expected one of {allowed}") from None


def _ts(d: dict[str, Any], key: str, where: str, required: bool = False) -> int | None:
    t = _num(d, key, where) if required else _opt_num(d, key, where)
    if t is None:
        return None
    try:
        return s_to_ns(t)
    except ProtocolError:
        raise ProtocolError(f"{where}.{key}: got {t!r}, expected Unix seconds within int64 nanoseconds") from None


# ---------------------------------------------------------------- market data


def fast_price_level(v: Any) -> tuple[float, float] | None:
    """Hot path of :func:`parse_price_level`: ``None`` when the row is not well formed."""
    if type(v) is list and len(v) >= 2:
        price, amount = _fast_num(v[0]), _fast_num(v[1])
        if price is not None and amount is not None:
            return price, amount
    return None


def parse_price_level(v: Any, where: str = "level") -> tuple[float, float]:
    """``[price, amount, outright_amount]`` (outright optional) -> ``(price, amount)``."""
    fast = fast_price_level(v)
    if fast is not None:
        return fast
    row = _list(v, where)
    if len(row) < 2:
        raise ProtocolError(
            f"{where}: expected [price, amount, outright_amount], got {len(row)} items"
        )
    return _as_num(row[0], f"{where}[0] (price)"), _as_num(row[1], f"{where}[1] (amount)")


_SIDES: dict[Any, Side] = {"buy": Side.BUY, "sell": Side.SELL}


def _side(v: Any, where: str) -> Side:
    try:
        return Side(v)
    except ValueError:
        raise ProtocolError(f"{where}: got {v!r}, expected 'buy' or 'sell'") from None


def parse_book_trade(v: Any, instrument: str, where: str = "trade") -> PublicTrade:
    """Book trade ``[price, amount, direction, timestamp, implied_taker]`` (§4.3).

    ``direction`` is the aggressor's side; timestamp in Unix seconds.
    """
    if type(v) is list and len(v) >= 4:
        price, amount, side, t = _fast_num(v[0]), _fast_num(v[1]), _SIDES.get(v[2]), _fast_num(v[3])
        if price is not None and amount is not None and side is not None and t is not None:
            return PublicTrade(
                instrument=instrument, price=price, amount=amount, aggressor=side, ts_ns=s_to_ns(t)
            )
    row = _list(v, where)
    if len(row) < 4:
        raise ProtocolError(
            f"{where}: expected [price, amount, direction, timestamp, implied_taker], got {len(row)} items"
        )
    return PublicTrade(
        instrument=instrument,
        price=_as_num(row[0], f"{where}[0] (price)"),
        amount=_as_num(row[1], f"{where}[1] (amount)"),
        aggressor=_side(row[2], f"{where}[2] (direction)"),
        ts_ns=s_to_ns(_as_num(row[3], f"{where}[3] (timestamp)")),
    )


def parse_recent_trade(v: Any, where: str = "trade") -> PublicTrade:
    """``recent_trades`` row ``[price, amount, side, timestamp, instrument_name, implied_taker]``."""
    row = _list(v, where)
    if len(row) < 5:
        raise ProtocolError(
            f"{where}: expected [price, amount, side, timestamp, instrument_name, implied_taker], "
            f"got {len(row)} items"
        )
    name = row[4]
    if not isinstance(name, str):
        raise ProtocolError(f"{where}[4] (instrument_name): expected a string, got {_type(name)}")
    return PublicTrade(
        instrument=name,
        price=_as_num(row[0], f"{where}[0] (price)"),
        amount=_as_num(row[1], f"{where}[1] (amount)"),
        aggressor=_side(row[2], f"{where}[2] (side)"),
        ts_ns=s_to_ns(_as_num(row[3], f"{where}[3] (timestamp)")),
    )


def parse_instrument(d: Any, where: str = "instrument") -> Instrument:
    """Instrument object (§8) -> :class:`Instrument`.

    Required: ``instrument_name``, ``type``, ``tick_size``, ``volume_tick_size``,
    ``min_order_amount``, ``underlying`` (the bot never invents tick sizes). ``product`` may be
    absent (combinations) -> ``""``; ``expiration_timestamp`` is integer seconds.
    """
    d = _obj(d, where)
    exp = _opt_num(d, "expiration_timestamp", where)
    return Instrument(
        name=_str(d, "instrument_name", where),
        product=_opt_str(d, "product", where) or "",
        tick_size=_num(d, "tick_size", where),
        volume_tick_size=_num(d, "volume_tick_size", where),
        min_order_amount=_num(d, "min_order_amount", where),
        underlying=_str(d, "underlying", where),
        type=_str(d, "type", where),
        base_currency=_opt_str(d, "base_currency", where) or "USD",
        create_time_ns=_ts(d, "create_time", where) or 0,
        expiration_ts_ns=0 if exp is None else int(exp) * 1_000_000_000,
    )


def parse_removed_instrument(d: Any, where: str = "removed") -> Instrument:
    """A ``{"removed": ...}`` entry: only the name is needed; absent numbers become 0."""
    d = _obj(d, where)
    exp = _opt_num(d, "expiration_timestamp", where)
    return Instrument(
        name=_str(d, "instrument_name", where),
        product=_opt_str(d, "product", where) or "",
        tick_size=_opt_num(d, "tick_size", where) or 0.0,
        volume_tick_size=_opt_num(d, "volume_tick_size", where) or 0.0,
        min_order_amount=_opt_num(d, "min_order_amount", where) or 0.0,
        underlying=_opt_str(d, "underlying", where) or "",
        type=_opt_str(d, "type", where) or "",
        base_currency=_opt_str(d, "base_currency", where) or "USD",
        create_time_ns=_ts(d, "create_time", where) or 0,
        expiration_ts_ns=0 if exp is None else int(exp) * 1_000_000_000,
    )


# ---------------------------------------------------------------- account


def _fill(v: Any, where: str) -> OrderFill:
    d = _obj(v, where)
    return OrderFill(
        trade_id=_str(d, "trade_id", where),
        price=_num(d, "price", where),
        amount=_num(d, "amount", where),
        maker_taker=_str(d, "maker_taker", where),
        ts_ns=_ts(d, "time", where) or 0,
    )


def _combo_name(d: dict[str, Any], where: str) -> str:
    legs = _list(d.get("legs"), f"{where}.legs")
    parts = []
    for i, leg in enumerate(legs):
        leg = _obj(leg, f"{where}.legs[{i}]")
        q = _num(leg, "quantity", f"{where}.legs[{i}]")
        parts.append(f"{_str(leg, 'instrument_name', f'{where}.legs[{i}]')}:{q:g}")
    return "[" + ",".join(parts) + "]"


def parse_order_status(d: Any, where: str = "order") -> OrderReport:
    """OrderStatus (§5.3) -> :class:`OrderReport`.

    ``instrument_name`` is absent for combination orders: the name is then built from ``legs``
    as ``[NAME:qty,...]`` (the channel syntax, §4.2). ``label`` "can also be a number" and is
    kept as text. ``fills`` holds only the new fills of this update.
    """
    d = _obj(d, where)
    if "instrument_name" in d or "legs" not in d:
        instrument = _str(d, "instrument_name", where)
    else:
        instrument = _combo_name(d, where)
    label = d.get("label")
    if label is not None:
        if isinstance(label, bool) or not isinstance(label, str | int | float):
            raise ProtocolError(f"{where}.label: expected a string, got {_type(label)}")
        label = str(label)
    fills_raw = d.get("fills")
    fills = (
        ()
        if fills_raw is None
        else tuple(
            _fill(f, f"{where}.fills[{i}]")
            for i, f in enumerate(_list(fills_raw, f"{where}.fills"))
        )
    )
    return OrderReport(
        order_id=_str(d, "order_id", where),
        client_order_id=_opt_int(d, "client_order_id", where),
        instrument=instrument,
        side=_enum(Side, d, "direction", where),
        order_type=_enum(OrderType, d, "order_type", where),
        time_in_force=_enum(TimeInForce, d, "time_in_force", where),
        price=_opt_num(d, "price", where),
        amount=_num(d, "amount", where),
        filled_amount=_num(d, "filled_amount", where),
        remaining_amount=_num(d, "remaining_amount", where),
        status=_enum(OrderStatus, d, "status", where),
        change_reason=_enum(ChangeReason, d, "change_reason", where),
        delete_reason=_enum(DeleteReason, d, "delete_reason", where, required=False),
        label=label,
        persistent=_opt_bool(d, "persistent", where),
        reduce_only=_opt_bool(d, "reduce_only", where),
        fills=fills,
        create_ts_ns=_ts(d, "create_time", where) or 0,
        close_ts_ns=_ts(d, "close_time", where),
    )


def parse_trade_history(result: Any) -> tuple[AccountTrade, ...]:
    """``private/trade_history`` result (§5.2: ``{"trades": [Trade...], "bookmark"}``; a bare
    array of Trade is accepted too) -> its trades, in the order given."""
    raw = result.get("trades") if isinstance(result, dict) else result
    return tuple(parse_account_trade(t, f"trades[{i}]") for i, t in enumerate(_list(raw or [], "trades")))


def parse_account_trade(d: Any, where: str = "trade") -> AccountTrade:
    """Trade (§5.4, ``account.trade_history`` / ``private/trade_history``) -> :class:`AccountTrade`."""
    d = _obj(d, where)
    label = d.get("label")
    return AccountTrade(
        trade_id=_str(d, "trade_id", where),
        order_id=_str(d, "order_id", where),
        instrument=_str(d, "instrument_name", where),
        side=_enum(Side, d, "direction", where),
        price=_num(d, "price", where),
        amount=_num(d, "amount", where),
        fee=_opt_num(d, "fee", where) or 0.0,
        ts_ns=_ts(d, "time", where, required=True) or 0,
        client_order_id=_opt_int(d, "client_order_id", where),
        label=None if label is None or isinstance(label, bool | dict | list) else str(label),
        maker_taker=_opt_str(d, "maker_taker", where),
        fee_rate=_opt_num(d, "fee_rate", where),
        position_after=_opt_num(d, "position_after", where),
        trade_type=_opt_str(d, "trade_type", where) or "normal",
        perpetual_funding_pnl=_opt_num(d, "perpetual_funding_pnl", where),
    )


def parse_portfolio_entry(d: Any, where: str = "portfolio") -> PortfolioEntry:
    """PortfolioEntry (§5.4) -> :class:`PortfolioEntry` (position < 0 is short)."""
    d = _obj(d, where)
    return PortfolioEntry(
        instrument=_str(d, "instrument_name", where),
        position=_num(d, "position", where),
        mark_price=_opt_num(d, "mark_price", where),
        average_price=_opt_num(d, "average_price", where),
        unrealised_pnl=_opt_num(d, "unrealised_pnl", where),
        realised_pnl=_opt_num(d, "realised_pnl", where),
        entry_value=_opt_num(d, "entry_value", where),
        unrealised_perpetual_funding=_opt_num(d, "unrealised_perpetual_funding", where),
    )


def parse_account_summary(
    d: Any, local_ts_ns: int = 0, where: str = "account_summary"
) -> AccountSummaryUpdated:
    """AccountSummary (§5.4) -> :class:`AccountSummaryUpdated` (``cash[]`` is not kept)."""
    d = _obj(d, where)
    return AccountSummaryUpdated(
        exchange_ts_ns=0,
        local_ts_ns=local_ts_ns,
        unrealised_pnl=_num(d, "unrealised_pnl", where),
        cash_collateral=_num(d, "cash_collateral", where),
        margin=_num(d, "margin", where),
        required_margin=_num(d, "required_margin", where),
        remaining_margin=_num(d, "remaining_margin", where),
        session_realised_pnl=_num(d, "session_realised_pnl", where),
    )


def parse_mmp_status(d: Any, where: str = "mm_protection") -> MmpStatus:
    """``session.mm_protection`` item ``{product, remaining_amount, reason}`` (§6)."""
    d = _obj(d, where)
    return MmpStatus(
        product=_str(d, "product", where),
        remaining_amount=_num(d, "remaining_amount", where),
        reason=_str(d, "reason", where),
    )
