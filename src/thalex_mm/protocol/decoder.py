"""Frame decoder: one Thalex text frame -> a tuple of typed core events (thalex_protocol.md §1).

Classification follows the official examples: ``channel_name`` present -> notification; else
``result`` present -> response; else ``error`` present -> error. A response stays decoded JSON
(``ReplyReceived``, the only event here the core never sees) until the driver knows whose it
is: the answer of a control call (login, subscribe, snapshots) resolves that call; any other
goes through :func:`response_event`, which makes it a typed ``ResponseReceived`` (with the
order's ``OrderReport``) or, if it cannot, a ``DecodeFailed``. Error codes become the core's
``ErrorKind`` (:func:`thalex_mm.protocol.error_codes.error_kind`). Notifications are dispatched by
channel: fixed names first (``session.orders``, ``account.portfolio``, ``instruments``,
``system`` ...), then the prefix before the first ``.`` (``ticker``, ``lwt``, ``book``,
``price_index``, ``recent_trades``).

:func:`decode_frame` never raises: bad JSON, wrong types, missing required fields and unknown
channels all become one ``DecodeFailed`` carrying a ~200-character excerpt and a precise reason.

``exchange_ts_ns`` comes from the payload's own time field: ticker ``mark_timestamp``, book
``time``, index ``timestamp``, the latest trade/fill/close time for trades and orders; 0 when
the payload has none (lwt, portfolio, summary, instruments, system, mm_protection, responses).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from thalex_mm.core.events import (
    AccountTradesReceived,
    BookDeltaReceived,
    BookSnapshotReceived,
    DecodeFailed,
    ErrorReceived,
    Event,
    IndexUpdated,
    InstrumentsUpdated,
    LightTickerUpdated,
    MmProtectionUpdated,
    OrdersUpdated,
    PortfolioUpdated,
    PublicTradesReceived,
    ReconnectRequested,
    ReplyReceived,
    ResponseReceived,
    TickerUpdated,
)
from thalex_mm.errors import ProtocolError
from thalex_mm.protocol.constants import Channel
from thalex_mm.protocol.error_codes import error_kind
from thalex_mm.protocol.parsers import (
    _list,
    _num,
    _obj,
    _opt_num,
    _str,
    _type,
    fast_price_level,
    parse_account_summary,
    parse_account_trade,
    parse_book_trade,
    parse_instrument,
    parse_mmp_status,
    parse_order_status,
    parse_portfolio_entry,
    parse_price_level,
    parse_recent_trade,
    parse_removed_instrument,
    s_to_ns,
)

__all__ = [
    "EXCERPT_CHARS",
    "ReplyReceived",
    "decode_frame",
    "parse_account_trade",
    "parse_instrument",
    "parse_order_status",
    "parse_portfolio_entry",
    "response_event",
]

EXCERPT_CHARS = 200
"""Length of the frame excerpt kept in ``DecodeFailed``."""

_Parser = Callable[[str, Any, bool, int], tuple[Event, ...]]


def _excerpt(data: str | bytes | bytearray | memoryview) -> str:
    if isinstance(data, str):
        return data[:EXCERPT_CHARS]
    try:
        raw = bytes(data[: EXCERPT_CHARS * 4])
    except Exception:  # not bytes-like at all
        return repr(data)[:EXCERPT_CHARS]
    return raw.decode("utf-8", errors="replace")[:EXCERPT_CHARS]


_PUBLIC_CHANNEL_PREFIXES = (
    "ticker.", "book.", "lwt.", "price_index.", "recent_trades.", "index_components.",
    "instruments", "system",
)


def _may_hide_private_state(excerpt: str) -> bool:
    """Could the undecodable frame have been a private notification or a response? Public
    market data is refreshed by the next update; our orders and fills are not."""
    if '"channel_name"' in excerpt:
        return (
            "session." in excerpt
            or "account." in excerpt
            or not any(p in excerpt for p in _PUBLIC_CHANNEL_PREFIXES)
        )
    return True


def _failure(data: Any, reason: str, local_ts_ns: int) -> DecodeFailed:
    excerpt = _excerpt(data)
    return DecodeFailed(
        exchange_ts_ns=0,
        local_ts_ns=local_ts_ns,
        excerpt=excerpt,
        reason=reason,
        may_hide_private_state=_may_hide_private_state(excerpt),
    )


def _failed(data: Any, reason: str, local_ts_ns: int) -> tuple[Event, ...]:
    return (_failure(data, reason, local_ts_ns),)


# ---------------------------------------------------------------- replies


def response_event(reply: ReplyReceived) -> ResponseReceived | DecodeFailed:
    """The core event for the answer to one of our order requests.

    An OrderStatus result (insert, amend, cancel: a JSON object with ``order_id``) becomes the
    ``report``; any other result (mass quote, cancel all, MMP ...) none. An OrderStatus that
    does not parse is a ``DecodeFailed`` naming the field (the order's state is then unknown).
    """
    result = reply.result
    report = None
    if isinstance(result, dict) and "order_id" in result:
        try:
            report = parse_order_status(result)
        except ProtocolError as exc:
            return _failure(orjson.dumps(result), f"order response: {exc}", reply.local_ts_ns)
    return ResponseReceived(
        exchange_ts_ns=reply.exchange_ts_ns,
        local_ts_ns=reply.local_ts_ns,
        request_id=reply.request_id,
        report=report,
    )


# ---------------------------------------------------------------- channel name helpers


def _instrument_between(channel: str, prefix: str, n_suffix: int) -> str:
    """The instrument in ``<prefix>.<instrument>.<s1>...<sn>`` (names may contain '.')."""
    body = channel[len(prefix) + 1 :]
    parts = body.rsplit(".", n_suffix)
    if len(parts) != n_suffix + 1 or not parts[0]:
        raise ProtocolError(
            f"channel_name {channel!r}: expected {prefix}.<instrument>" + ".<…>" * n_suffix
        )
    return parts[0]


# ---------------------------------------------------------------- market data


def _ticker(channel: str, p: Any, snapshot: bool, local: int) -> tuple[Event, ...]:
    inst = _instrument_between(channel, "ticker", 1)
    w = "ticker"
    d = _obj(p, w)
    return (
        TickerUpdated(
            exchange_ts_ns=s_to_ns(_num(d, "mark_timestamp", w)),
            local_ts_ns=local,
            instrument=inst,
            mark_price=_num(d, "mark_price", w),
            index_price=_num(d, "index", w),
            best_bid_price=_opt_num(d, "best_bid_price", w),
            best_bid_amount=_opt_num(d, "best_bid_amount", w),
            best_ask_price=_opt_num(d, "best_ask_price", w),
            best_ask_amount=_opt_num(d, "best_ask_amount", w),
            last_price=_opt_num(d, "last_price", w),
            funding_rate=_opt_num(d, "funding_rate", w),
            funding_mark=_opt_num(d, "funding_mark", w),
            collar_low=_opt_num(d, "collar_low", w),
            collar_high=_opt_num(d, "collar_high", w),
            open_interest=_opt_num(d, "open_interest", w),
        ),
    )


def _lwt_side(d: dict[str, Any], key: str) -> tuple[float | None, float | None]:
    v = d.get(key)
    if v is None or v == []:
        return None, None
    return parse_price_level(v, f"lwt.{key}")


def _lwt(channel: str, p: Any, snapshot: bool, local: int) -> tuple[Event, ...]:
    inst = _instrument_between(channel, "lwt", 1)
    d = _obj(p, "lwt")
    bid_p, bid_a = _lwt_side(d, "b")
    ask_p, ask_a = _lwt_side(d, "a")
    return (
        LightTickerUpdated(
            exchange_ts_ns=0,
            local_ts_ns=local,
            instrument=inst,
            mark_price=_num(d, "m", "lwt"),
            best_bid_price=bid_p,
            best_bid_amount=bid_a,
            best_ask_price=ask_p,
            best_ask_amount=ask_a,
            last_price=_opt_num(d, "l", "lwt"),
        ),
    )


def _levels(d: dict[str, Any], key: str) -> tuple[tuple[float, float], ...]:
    v = d.get(key)
    if v is None:
        return ()
    out = []
    for i, row in enumerate(_list(v, f"book.{key}")):
        level = fast_price_level(row)
        out.append(level if level is not None else parse_price_level(row, f"book.{key}[{i}]"))
    return tuple(out)


def _book(channel: str, p: Any, snapshot: bool, local: int) -> tuple[Event, ...]:
    inst = _instrument_between(channel, "book", 3)
    d = _obj(p, "book")
    trades_raw = d.get("trades")
    trades = (
        ()
        if trades_raw is None
        else tuple(
            parse_book_trade(t, inst, f"book.trades[{i}]")
            for i, t in enumerate(_list(trades_raw, "book.trades"))
        )
    )
    cls = BookSnapshotReceived if snapshot else BookDeltaReceived
    return (
        cls(
            exchange_ts_ns=s_to_ns(_num(d, "time", "book")),
            local_ts_ns=local,
            instrument=inst,
            bids=_levels(d, "bid_changes"),
            asks=_levels(d, "ask_changes"),
            trades=trades,
        ),
    )


def _price_index(channel: str, p: Any, snapshot: bool, local: int) -> tuple[Event, ...]:
    d = _obj(p, "price_index")
    ts = _opt_num(d, "timestamp", "price_index")
    name = d.get("index_name")
    if name is None:
        name = channel.partition(".")[2]
    elif not isinstance(name, str):
        raise ProtocolError(f"price_index.index_name: expected a string, got {_type(name)}")
    return (
        IndexUpdated(
            exchange_ts_ns=0 if ts is None else s_to_ns(ts),
            local_ts_ns=local,
            index_name=name,
            price=_num(d, "price", "price_index"),
        ),
    )


def _recent_trades(channel: str, p: Any, snapshot: bool, local: int) -> tuple[Event, ...]:
    rows = _list(p, "recent_trades")
    trades = tuple(parse_recent_trade(r, f"recent_trades[{i}]") for i, r in enumerate(rows))
    ts = max((t.ts_ns for t in trades), default=0)
    return (
        PublicTradesReceived(
            exchange_ts_ns=ts, local_ts_ns=local, trades=trades, snapshot=snapshot
        ),
    )


def _instruments(channel: str, p: Any, snapshot: bool, local: int) -> tuple[Event, ...]:
    added, removed = [], []
    for i, item in enumerate(_list(p, "instruments")):
        w = f"instruments[{i}]"
        item = _obj(item, w)
        if "added" in item:
            added.append(parse_instrument(item["added"], f"{w}.added"))
        elif "removed" in item:
            removed.append(parse_removed_instrument(item["removed"], f"{w}.removed"))
        else:
            raise ProtocolError(
                f"{w}: expected {{'added': …}} or {{'removed': …}}, got keys {sorted(item)[:5]}"
            )
    return (
        InstrumentsUpdated(
            exchange_ts_ns=0,
            local_ts_ns=local,
            added=tuple(added),
            removed=tuple(removed),
            snapshot=snapshot,
        ),
    )


def _system(channel: str, p: Any, snapshot: bool, local: int) -> tuple[Event, ...]:
    d = _obj(p, "system")
    event = _str(d, "event", "system")
    if event != "reconnect":
        raise ProtocolError(f"system.event: got {event!r}, expected 'reconnect'")
    return (ReconnectRequested(exchange_ts_ns=0, local_ts_ns=local, event=event),)


# ---------------------------------------------------------------- account


def _orders(scope: str) -> _Parser:
    def parse(channel: str, p: Any, snapshot: bool, local: int) -> tuple[Event, ...]:
        rows = _list(p, channel)
        orders = tuple(parse_order_status(r, f"{channel}[{i}]") for i, r in enumerate(rows))
        ts = 0
        for o in orders:
            ts = max(ts, o.close_ts_ns or 0, *(f.ts_ns for f in o.fills))
        return (
            OrdersUpdated(
                exchange_ts_ns=ts, local_ts_ns=local, orders=orders, snapshot=snapshot, scope=scope
            ),
        )

    return parse


def _trade_history(channel: str, p: Any, snapshot: bool, local: int) -> tuple[Event, ...]:
    rows = _list(p, channel)
    trades = tuple(parse_account_trade(r, f"{channel}[{i}]") for i, r in enumerate(rows))
    ts = max((t.ts_ns for t in trades), default=0)
    return (AccountTradesReceived(exchange_ts_ns=ts, local_ts_ns=local, trades=trades),)


def _portfolio(channel: str, p: Any, snapshot: bool, local: int) -> tuple[Event, ...]:
    rows = _list(p, channel)
    entries = tuple(parse_portfolio_entry(r, f"{channel}[{i}]") for i, r in enumerate(rows))
    return (
        PortfolioUpdated(exchange_ts_ns=0, local_ts_ns=local, entries=entries, snapshot=snapshot),
    )


def _summary(channel: str, p: Any, snapshot: bool, local: int) -> tuple[Event, ...]:
    return (parse_account_summary(p, local, channel),)


def _mmp(channel: str, p: Any, snapshot: bool, local: int) -> tuple[Event, ...]:
    # The reference shows an array; a bare object is accepted as one item.
    rows = [p] if isinstance(p, dict) else _list(p, channel)
    items = tuple(parse_mmp_status(r, f"{channel}[{i}]") for i, r in enumerate(rows))
    return (MmProtectionUpdated(exchange_ts_ns=0, local_ts_ns=local, items=items),)


_BY_NAME: dict[str, _Parser] = {
    Channel.SESSION_ORDERS: _orders("session"),
    Channel.ACCOUNT_ORDERS: _orders("account"),
    Channel.ACCOUNT_TRADE_HISTORY: _trade_history,
    Channel.ACCOUNT_PORTFOLIO: _portfolio,
    Channel.ACCOUNT_SUMMARY: _summary,
    Channel.SESSION_MM_PROTECTION: _mmp,
    Channel.SYSTEM: _system,
    Channel.INSTRUMENTS: _instruments,
}

_BY_PREFIX: dict[str, _Parser] = {
    Channel.TICKER: _ticker,
    Channel.LWT: _lwt,
    Channel.BOOK: _book,
    Channel.PRICE_INDEX: _price_index,
    Channel.RECENT_TRADES: _recent_trades,
    Channel.INSTRUMENTS: _instruments,  # instruments.<type>.<underlying>.<expiration>
}


# ---------------------------------------------------------------- frame level


def _request_id(frame: dict[str, Any]) -> int | None:
    rid = frame.get("id")
    if rid is None:
        return None
    if isinstance(rid, bool) or not isinstance(rid, int):
        raise ProtocolError(f"id: expected an integer or null, got {_type(rid)}")
    return rid


def _decode_object(frame: dict[str, Any], local: int) -> tuple[Event, ...]:
    if "channel_name" in frame:
        channel = frame["channel_name"]
        if not isinstance(channel, str):
            raise ProtocolError(f"channel_name: expected a string, got {_type(channel)}")
        if "notification" not in frame:
            raise ProtocolError(f"{channel}: 'notification' missing")
        snapshot = frame.get("snapshot", False)
        if not isinstance(snapshot, bool):
            raise ProtocolError(f"snapshot: expected true/false, got {_type(snapshot)}")
        parser = _BY_NAME.get(channel) or _BY_PREFIX.get(channel.partition(".")[0])
        if parser is None:
            raise ProtocolError(f"unknown channel {channel[:80]!r}")
        return parser(channel, frame["notification"], snapshot, local)
    if "result" in frame:
        return (
            ReplyReceived(
                exchange_ts_ns=0,
                local_ts_ns=local,
                request_id=_request_id(frame),
                result=frame["result"],
            ),
        )
    if "error" in frame:
        rid = _request_id(frame)
        err = _obj(frame["error"], "error")
        code = err.get("code")
        if isinstance(code, bool) or not isinstance(code, int):
            raise ProtocolError(f"error.code: expected an integer, got {_type(code)}")
        message = err.get("message", "")
        if not isinstance(message, str):
            raise ProtocolError(f"error.message: expected a string, got {_type(message)}")
        return (
            ErrorReceived(
                exchange_ts_ns=0,
                local_ts_ns=local,
                request_id=rid,
                kind=error_kind(code),
                code=code,
                message=message,
            ),
        )
    raise ProtocolError("frame has none of channel_name, result, error")


def decode_frame(data: str | bytes, local_ts_ns: int) -> tuple[Event, ...]:
    """Decode one WebSocket text frame into events. Never raises.

    Args:
        data: the frame, text or UTF-8 bytes.
        local_ts_ns: when the driver received it, ns since epoch (copied into every event).

    Returns:
        Usually one event: a market-data/account event for a notification,
        ``ReplyReceived`` / ``ErrorReceived`` for replies, or ``DecodeFailed`` (excerpt of
        the frame's first ~200 characters and the reason).
    """
    try:
        try:
            frame = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            return _failed(data, f"invalid JSON: {exc}", local_ts_ns)
        if not isinstance(frame, dict):
            return _failed(data, f"frame: expected a JSON object, got {_type(frame)}", local_ts_ns)
        return _decode_object(frame, local_ts_ns)
    except ProtocolError as exc:
        return _failed(data, str(exc), local_ts_ns)
    except Exception as exc:  # the decoder never raises: report, don't crash the listener
        return _failed(data, f"internal decoder error {type(exc).__name__}: {exc}", local_ts_ns)
