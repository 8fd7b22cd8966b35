"""Request frame builders (thalex_protocol.md §2–§6), mirroring the official client 1.3.0.

Every builder returns the frame as a dict, built exactly like ``thalex.Thalex._send`` does:
``{"method": ..., "params": {...}, "id": ...}`` where ``params`` is always present (``{}`` when
empty), parameters that are ``None`` are dropped, and ``id`` is omitted when ``None``. Enum
arguments are sent as their plain string values (the official client crashes on enums for
``collar``/``stp_*``; we never do). :func:`encode_frame` turns a frame into bytes with orjson.

Mass-quote side format (a documented choice, §5.5): a side with exactly one level is sent in the
single-level form ``{"p": price, "a": amount}`` -- what the official client sends, and what
every server version accepts; a side with zero levels (clear the side) or two or more levels is
sent in the multi-level form ``[[price, amount], ...]``. Pass ``single_level_form=False`` to
force the list form everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import orjson

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
from thalex_mm.errors import InvalidState
from thalex_mm.protocol.constants import Method

__all__ = [
    "account_summary",
    "amend",
    "book",
    "buy",
    "cancel",
    "cancel_all",
    "cancel_mass_quote",
    "cancel_session",
    "command_to_request",
    "encode_frame",
    "index",
    "insert",
    "instrument",
    "instruments",
    "login",
    "mass_quote",
    "mass_quote_item",
    "open_orders",
    "portfolio",
    "private_subscribe",
    "public_subscribe",
    "sell",
    "set_cancel_on_disconnect",
    "set_mm_protection",
    "ticker",
    "trade_history",
    "unsubscribe",
]

Frame = dict[str, Any]


def _plain(value: Any) -> Any:
    """Enum members become their wire strings; everything else is left alone."""
    if isinstance(value, str) and type(value) is not str:
        return str(value)  # StrEnum -> its value
    return value


def _frame(method: str, request_id: int | str | None, **params: Any) -> Frame:
    frame: Frame = {"method": str(method), "params": {}}
    if request_id is not None:
        frame["id"] = request_id
    for key, value in params.items():
        if value is not None:
            frame["params"][key] = _plain(value)
    return frame


def encode_frame(frame: Frame) -> bytes:
    """Serialise a frame (from any builder here) to UTF-8 JSON bytes with orjson."""
    return orjson.dumps(frame)


# ------------------------------------------------------------------ session


def login(token: str, account: str | None = None, *, request_id: int | None = None) -> Frame:
    """``public/login`` (§2). ``token`` is from :func:`thalex_mm.protocol.auth.make_login_token`.

    The frame holds the token: never log it.
    """
    return _frame(Method.LOGIN, request_id, token=token, account=account)


def set_cancel_on_disconnect(timeout_secs: int, *, request_id: int | None = None) -> Frame:
    """``private/set_cancel_on_disconnect`` (§3); ``timeout_secs`` in whole seconds."""
    return _frame(Method.SET_CANCEL_ON_DISCONNECT, request_id, timeout_secs=timeout_secs)


def cancel_session(*, request_id: int | None = None) -> Frame:
    """``private/cancel_session`` (§3)."""
    return _frame(Method.CANCEL_SESSION, request_id)


# ------------------------------------------------------------------ market data


def instruments(*, request_id: int | None = None) -> Frame:
    """``public/instruments`` (§4.1), active instruments."""
    return _frame(Method.INSTRUMENTS, request_id)


def instrument(instrument_name: str, *, request_id: int | None = None) -> Frame:
    """``public/instrument`` (§4.1)."""
    return _frame(Method.INSTRUMENT, request_id, instrument_name=instrument_name)


def ticker(instrument_name: str, *, request_id: int | None = None) -> Frame:
    """``public/ticker`` (§4.1)."""
    return _frame(Method.TICKER, request_id, instrument_name=instrument_name)


def index(underlying: str, *, request_id: int | None = None) -> Frame:
    """``public/index`` (§4.1), e.g. ``underlying="BTCUSD"``."""
    return _frame(Method.INDEX, request_id, underlying=underlying)


def book(instrument_name: str, *, request_id: int | None = None) -> Frame:
    """``public/book`` (§4.1)."""
    return _frame(Method.BOOK, request_id, instrument_name=instrument_name)


def public_subscribe(channels: Iterable[str], *, request_id: int | None = None) -> Frame:
    """``public/subscribe`` (§4.2)."""
    return _frame(Method.PUBLIC_SUBSCRIBE, request_id, channels=[str(c) for c in channels])


def private_subscribe(channels: Iterable[str], *, request_id: int | None = None) -> Frame:
    """``private/subscribe`` (§4.2, §5.4); needs a prior login."""
    return _frame(Method.PRIVATE_SUBSCRIBE, request_id, channels=[str(c) for c in channels])


def unsubscribe(channels: Iterable[str], *, request_id: int | None = None) -> Frame:
    """``unsubscribe`` (§4.2); public and private channels may be mixed."""
    return _frame(Method.UNSUBSCRIBE, request_id, channels=[str(c) for c in channels])


# ------------------------------------------------------------------ orders


def _order_params(
    instrument_name: str,
    amount: float,
    client_order_id: int | None,
    price: float | None,
    label: str | None,
    order_type: str | None,
    time_in_force: str | None,
    post_only: bool | None,
    reject_post_only: bool | None,
    reduce_only: bool | None,
    collar: str | None,
    stp_level: str | None,
    stp_action: str | None,
) -> dict[str, Any]:
    # Same key order as the official client (it does not matter on the wire, only to readers).
    return {
        "instrument_name": instrument_name,
        "amount": amount,
        "client_order_id": client_order_id,
        "price": price,
        "label": label,
        "order_type": order_type,
        "time_in_force": time_in_force,
        "post_only": post_only,
        "reject_post_only": reject_post_only,
        "reduce_only": reduce_only,
        "collar": collar,
        "stp_level": stp_level,
        "stp_action": stp_action,
    }


def insert(
    direction: str,
    instrument_name: str,
    amount: float,
    client_order_id: int | None = None,
    price: float | None = None,
    label: str | None = None,
    order_type: str | None = None,
    time_in_force: str | None = None,
    post_only: bool | None = None,
    reject_post_only: bool | None = None,
    reduce_only: bool | None = None,
    collar: str | None = None,
    stp_level: str | None = None,
    stp_action: str | None = None,
    *,
    request_id: int | None = None,
) -> Frame:
    """``private/insert`` (§5.2). Prices in quote currency, amount in contracts.

    ``direction``, ``order_type`` and ``time_in_force`` accept the core StrEnums or strings.
    """
    params = _order_params(
        instrument_name,
        amount,
        client_order_id,
        price,
        label,
        order_type,
        time_in_force,
        post_only,
        reject_post_only,
        reduce_only,
        collar,
        stp_level,
        stp_action,
    )
    return _frame(Method.INSERT, request_id, direction=direction, **params)


def _side_order(method: Method, doc: str):
    """Build ``private/buy`` or ``private/sell``: ``private/insert`` without ``direction``."""

    def build(
        instrument_name: str,
        amount: float,
        client_order_id: int | None = None,
        price: float | None = None,
        label: str | None = None,
        order_type: str | None = None,
        time_in_force: str | None = None,
        post_only: bool | None = None,
        reject_post_only: bool | None = None,
        reduce_only: bool | None = None,
        collar: str | None = None,
        stp_level: str | None = None,
        stp_action: str | None = None,
        *,
        request_id: int | None = None,
    ) -> Frame:
        params = _order_params(
            instrument_name, amount, client_order_id, price, label, order_type, time_in_force,
            post_only, reject_post_only, reduce_only, collar, stp_level, stp_action,
        )
        return _frame(method, request_id, **params)

    build.__name__ = build.__qualname__ = method.value.rsplit("/", 1)[1]
    build.__doc__ = doc
    return build


buy = _side_order(Method.BUY, "``private/buy`` (§5.2): ``private/insert`` without ``direction``.")
sell = _side_order(Method.SELL, "``private/sell`` (§5.2): ``private/insert`` without ``direction``.")


def amend(
    amount: float,
    price: float,
    order_id: str | None = None,
    client_order_id: int | None = None,
    collar: str | None = None,
    *,
    request_id: int | None = None,
) -> Frame:
    """``private/amend`` (§5.2). ``amount`` is the new *original* size (volume-safe).

    Exactly one of ``order_id`` / ``client_order_id`` should be given; the server checks.
    """
    return _frame(
        Method.AMEND,
        request_id,
        amount=amount,
        price=price,
        order_id=order_id,
        client_order_id=client_order_id,
        collar=collar,
    )


def cancel(
    order_id: str | None = None,
    client_order_id: int | None = None,
    *,
    request_id: int | None = None,
) -> Frame:
    """``private/cancel`` (§5.2): exactly one of ``order_id`` / ``client_order_id``."""
    return _frame(Method.CANCEL, request_id, order_id=order_id, client_order_id=client_order_id)


def cancel_all(*, request_id: int | None = None) -> Frame:
    """``private/cancel_all`` (§5.2); the result is the number of orders deleted."""
    return _frame(Method.CANCEL_ALL, request_id)


# ------------------------------------------------------------------ mass quoting


def _side(levels: Sequence[tuple[float, float]], single_level_form: bool) -> Any:
    if single_level_form and len(levels) == 1:
        price, amount = levels[0]
        return {"p": price, "a": amount}
    return [[price, amount] for price, amount in levels]


def mass_quote_item(
    instrument_name: str,
    bids: Sequence[tuple[float, float]] | None,
    asks: Sequence[tuple[float, float]] | None,
    *,
    single_level_form: bool = True,
) -> dict[str, Any]:
    """One ``quotes[]`` item ``{"i", "b"?, "a"?}`` of ``private/mass_quote`` (§5.5).

    Args:
        instrument_name: the instrument.
        bids: ``None`` leaves the bid side alone (omitted); ``()`` clears it (``[]``); otherwise
            ``(price, amount)`` levels, best first, at most 10.
        asks: as ``bids``.
        single_level_form: send a one-level side as ``{"p", "a"}`` (official client form).
    """
    item: dict[str, Any] = {"i": instrument_name}
    if bids is not None:
        item["b"] = _side(bids, single_level_form)
    if asks is not None:
        item["a"] = _side(asks, single_level_form)
    return item


def mass_quote(
    quotes: Sequence[dict[str, Any]],
    label: str | None = None,
    post_only: bool | None = None,
    reject_post_only: bool | None = None,
    *,
    request_id: int | None = None,
) -> Frame:
    """``private/mass_quote`` (§5.5); ``quotes`` are items from :func:`mass_quote_item`."""
    return _frame(
        Method.MASS_QUOTE,
        request_id,
        quotes=list(quotes),
        label=label,
        post_only=post_only,
        reject_post_only=reject_post_only,
    )


def cancel_mass_quote(product: str | None = None, *, request_id: int | None = None) -> Frame:
    """``private/cancel_mass_quote`` (§5.5): all sessions, optionally one product."""
    return _frame(Method.CANCEL_MASS_QUOTE, request_id, product=product)


def set_mm_protection(
    product: str,
    trade_amount: float,
    quote_amount: float,
    amount: float | None = None,
    *,
    request_id: int | None = None,
) -> Frame:
    """``private/set_mm_protection`` (§6); amounts in contracts, ``trade_amount <= quote_amount``."""
    return _frame(
        Method.SET_MM_PROTECTION,
        request_id,
        product=product,
        trade_amount=trade_amount,
        quote_amount=quote_amount,
        amount=amount,
    )


# ------------------------------------------------------------------ account queries


def open_orders(*, request_id: int | None = None) -> Frame:
    """``private/open_orders`` (§5.2) -> array of OrderStatus."""
    return _frame(Method.OPEN_ORDERS, request_id)


def portfolio(*, request_id: int | None = None) -> Frame:
    """``private/portfolio`` (§5.2) -> array of PortfolioEntry."""
    return _frame(Method.PORTFOLIO, request_id)


def account_summary(*, request_id: int | None = None) -> Frame:
    """``private/account_summary`` (§5.2) -> AccountSummary."""
    return _frame(Method.ACCOUNT_SUMMARY, request_id)


def trade_history(
    limit: int | None = None,
    time_low: float | None = None,
    time_high: float | None = None,
    bookmark: str | None = None,
    sort: str | None = None,
    instrument_names: str | None = None,
    bot_ids: str | None = None,
    *,
    request_id: int | None = None,
) -> Frame:
    """``private/trade_history`` (§5.2). Times in Unix seconds; ``sort`` is
    ``ascending``/``descending``; ``instrument_names`` comma-separated."""
    return _frame(
        Method.TRADE_HISTORY,
        request_id,
        limit=limit,
        time_low=time_low,
        time_high=time_high,
        bookmark=bookmark,
        sort=sort,
        instrument_names=instrument_names,
        bot_ids=bot_ids,
    )


# ------------------------------------------------------------------ core commands


def _quote_item(q: InstrumentQuote, single_level_form: bool) -> dict[str, Any]:
    return mass_quote_item(q.instrument, q.bids, q.asks, single_level_form=single_level_form)


def command_to_request(
    cmd: Command, request_id: int | None, *, single_level_form: bool = True
) -> Frame:
    """Map one core command to its request frame.

    Mapping: InsertOrder -> ``private/insert`` (``order_type`` and ``time_in_force`` always sent
    explicitly; ``post_only``/``reject_post_only``/``reduce_only`` only when true, like the
    official examples); AmendOrder -> ``private/amend`` (``order_id`` preferred when both ids are
    known, since it is definitive); CancelOrder -> ``private/cancel`` (same rule); CancelAll,
    CancelSession, MassQuote (``post_only`` always sent, ``reject_post_only`` only when true),
    CancelMassQuote, SetMmp -> their methods.

    Raises:
        InvalidState: for a command without a wire form (``Halt`` is executed by the driver) or
            an amend/cancel with neither id -- both are bugs in the caller.
    """
    if isinstance(cmd, InsertOrder):
        return insert(
            cmd.side,
            cmd.instrument,
            cmd.amount,
            client_order_id=cmd.client_order_id,
            price=cmd.price,
            label=cmd.label,
            order_type=cmd.order_type,
            time_in_force=cmd.time_in_force,
            post_only=cmd.post_only or None,
            reject_post_only=cmd.reject_post_only or None,
            reduce_only=cmd.reduce_only or None,
            request_id=request_id,
        )
    if isinstance(cmd, AmendOrder | CancelOrder):
        if cmd.order_id is not None:
            ids: dict[str, Any] = {"order_id": cmd.order_id}
        elif cmd.client_order_id is not None:
            ids = {"client_order_id": cmd.client_order_id}
        else:
            raise InvalidState(f"{type(cmd).__name__} has neither order_id nor client_order_id")
        if isinstance(cmd, AmendOrder):
            return amend(cmd.amount, cmd.price, **ids, request_id=request_id)
        return cancel(**ids, request_id=request_id)
    if isinstance(cmd, CancelAll):
        return cancel_all(request_id=request_id)
    if isinstance(cmd, CancelSession):
        return cancel_session(request_id=request_id)
    if isinstance(cmd, MassQuote):
        return mass_quote(
            [_quote_item(q, single_level_form) for q in cmd.quotes],
            label=cmd.label,
            post_only=cmd.post_only,
            reject_post_only=cmd.reject_post_only or None,
            request_id=request_id,
        )
    if isinstance(cmd, CancelMassQuote):
        return cancel_mass_quote(cmd.product, request_id=request_id)
    if isinstance(cmd, SetMmp):
        return set_mm_protection(
            cmd.product, cmd.trade_amount, cmd.quote_amount, request_id=request_id
        )
    raise InvalidState(f"{type(cmd).__name__} has no wire form; the driver must execute it")
