"""The simulated exchange's side of the codec (thalex_protocol.md §1, §4.3, §5.3–§5.4, §6).

Requests in (:func:`parse_request`), responses/errors/notifications out, and payload builders
from core types. Key order follows what the real server appears to write: ``"id"`` first in
replies, ``"channel_name"`` first in notifications (§1). Field omission rules (§5.3):
``label`` and ``client_order_id`` omitted when unset, ``reduce_only`` only when true,
``close_time`` only for closed orders, ``price`` absent for market orders, ``delete_reason``
only when set, ``snapshot`` only when true.

Wire times are float Unix seconds (``ts_ns / 1e9``); a round trip through
``decode_frame`` therefore keeps timestamps to within a few hundred ns, not exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from thalex_mm.core.events import (
    AccountSummaryUpdated,
    AccountTrade,
    IndexUpdated,
    LightTickerUpdated,
    MmpStatus,
    OrderReport,
    PortfolioEntry,
    PublicTrade,
    TickerUpdated,
)
from thalex_mm.core.types import Instrument
from thalex_mm.protocol.error_codes import ErrorCode
from thalex_mm.protocol.params import (
    AmendParams,
    CancelParams,
    InsertParams,
    MassQuoteParams,
    SetMmpParams,
    read_amend_params,
    read_cancel_mass_quote_params,
    read_cancel_on_disconnect_params,
    read_cancel_params,
    read_channels_params,
    read_insert_params,
    read_instrument_name_param,
    read_login_params,
    read_mass_quote_params,
    read_set_mmp_params,
    read_underlying_param,
)

__all__ = [
    "AmendParams",
    "BadRequest",
    "CancelParams",
    "InsertParams",
    "MassQuoteParams",
    "Request",
    "SetMmpParams",
    "account_summary_to_wire",
    "account_trade_to_wire",
    "book_to_wire",
    "encode_error",
    "encode_notification",
    "encode_response",
    "index_to_wire",
    "instrument_to_wire",
    "lwt_to_wire",
    "mmp_status_to_wire",
    "ns_to_s",
    "order_report_to_wire",
    "parse_request",
    "portfolio_entry_to_wire",
    "public_trades_to_wire",
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
    "ticker_to_wire",
]

RequestId = int | str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Request:
    """A well-formed client request. ``id`` is echoed as sent (``None`` when absent)."""

    method: str
    id: RequestId
    params: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class BadRequest:
    """A frame that is not a usable request; answer with ``encode_error(id, code, message)``."""

    id: RequestId
    code: int
    message: str


def _type(v: Any) -> str:
    return "null" if v is None else type(v).__name__


def parse_request(data: str | bytes) -> Request | BadRequest:
    """Parse one client frame ``{"method", "id"?, "params"}`` (§1). Never raises.

    ``params`` is mandatory (``{}`` when none); a ``"jsonrpc"`` key and other unknown
    top-level keys are tolerated (third-party SDKs send ``"jsonrpc":"2.0"``). The method name
    is not checked here: the server answers unknown methods with ``UNKNOWN_METHOD``.
    """
    bad = ErrorCode.INVALID_REQUEST
    try:
        frame = orjson.loads(data)
    except (orjson.JSONDecodeError, TypeError) as exc:
        return BadRequest(id=None, code=bad, message=f"invalid JSON: {exc}"[:200])
    if not isinstance(frame, dict):
        return BadRequest(
            id=None, code=bad, message=f"request must be a JSON object, got {_type(frame)}"
        )
    rid = frame.get("id")
    if rid is not None and (isinstance(rid, bool) or not isinstance(rid, int | str)):
        return BadRequest(
            id=None, code=bad, message=f"id: expected an integer, string or null, got {_type(rid)}"
        )
    method = frame.get("method")
    if not isinstance(method, str) or not method:
        return BadRequest(
            id=rid, code=bad, message=f"method: expected a method name, got {_type(method)}"
        )
    if "params" not in frame:
        return BadRequest(
            id=rid, code=bad, message="params: missing (required; send {} when there are none)"
        )
    params = frame["params"]
    if not isinstance(params, dict):
        return BadRequest(
            id=rid, code=bad, message=f"params: expected an object, got {_type(params)}"
        )
    return Request(method=method, id=rid, params=params)


def encode_response(request_id: RequestId, result: Any) -> bytes:
    """``{"id": id, "result": result}`` with ``id`` first (§1)."""
    return orjson.dumps({"id": request_id, "result": result})


def encode_error(request_id: RequestId, code: int, message: str) -> bytes:
    """``{"id": id, "error": {"code", "message"}}`` with ``id`` first (§1, §7)."""
    return orjson.dumps({"id": request_id, "error": {"code": int(code), "message": message}})


def encode_notification(channel_name: str, payload: Any, snapshot: bool = False) -> bytes:
    """``{"channel_name", "notification", "snapshot"?}``; ``snapshot`` only when true (§1)."""
    frame: dict[str, Any] = {"channel_name": channel_name, "notification": payload}
    if snapshot:
        frame["snapshot"] = True
    return orjson.dumps(frame)


# ---------------------------------------------------------------- payload builders


def ns_to_s(ts_ns: int) -> float:
    """ns since epoch -> wire float Unix seconds."""
    return ts_ns / 1e9


def order_report_to_wire(r: OrderReport) -> dict[str, Any]:
    """OrderReport -> OrderStatus (§5.3). ``insert_reason`` is always ``client_request``."""
    d: dict[str, Any] = {"order_id": r.order_id}
    if r.client_order_id is not None:
        d["client_order_id"] = r.client_order_id
    d["instrument_name"] = r.instrument
    d["direction"] = r.side.value
    d["order_type"] = r.order_type.value
    d["time_in_force"] = r.time_in_force.value
    if r.price is not None:
        d["price"] = r.price
    d["amount"] = r.amount
    d["filled_amount"] = r.filled_amount
    d["remaining_amount"] = r.remaining_amount
    d["status"] = r.status.value
    d["fills"] = [_fill_to_wire(f) for f in r.fills]
    d["change_reason"] = r.change_reason.value
    if r.delete_reason is not None:
        d["delete_reason"] = r.delete_reason.value
    d["insert_reason"] = "client_request"
    if r.label is not None:
        d["label"] = r.label
    d["create_time"] = ns_to_s(r.create_ts_ns)
    if r.close_ts_ns is not None:
        d["close_time"] = ns_to_s(r.close_ts_ns)
    d["persistent"] = r.persistent
    if r.reduce_only:
        d["reduce_only"] = True
    return d


def _fill_to_wire(f: Any) -> dict[str, Any]:
    d: dict[str, Any] = {"trade_id": f.trade_id, "price": f.price, "amount": f.amount}
    if f.ts_ns:
        d["time"] = ns_to_s(f.ts_ns)
    d["maker_taker"] = f.maker_taker
    d["leg_index"] = 0
    return d


def _put(d: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        d[key] = value


def account_trade_to_wire(t: AccountTrade) -> dict[str, Any]:
    """AccountTrade -> Trade (§5.4); optional fields omitted when ``None``."""
    d: dict[str, Any] = {
        "trade_id": t.trade_id,
        "order_id": t.order_id,
        "instrument_name": t.instrument,
        "direction": t.side.value,
        "price": t.price,
        "amount": t.amount,
        "fee": t.fee,
        "time": ns_to_s(t.ts_ns),
        "trade_type": t.trade_type,
    }
    _put(d, "client_order_id", t.client_order_id)
    _put(d, "label", t.label)
    _put(d, "maker_taker", t.maker_taker)
    _put(d, "fee_rate", t.fee_rate)
    _put(d, "position_after", t.position_after)
    _put(d, "perpetual_funding_pnl", t.perpetual_funding_pnl)
    return d


def portfolio_entry_to_wire(e: PortfolioEntry) -> dict[str, Any]:
    """PortfolioEntry -> wire (§5.4); optional fields omitted when ``None``."""
    d: dict[str, Any] = {"instrument_name": e.instrument, "position": e.position}
    _put(d, "mark_price", e.mark_price)
    _put(d, "average_price", e.average_price)
    _put(d, "unrealised_pnl", e.unrealised_pnl)
    _put(d, "realised_pnl", e.realised_pnl)
    _put(d, "entry_value", e.entry_value)
    _put(d, "unrealised_perpetual_funding", e.unrealised_perpetual_funding)
    return d


def account_summary_to_wire(
    s: AccountSummaryUpdated, cash: Sequence[dict[str, Any]] = ()
) -> dict[str, Any]:
    """AccountSummaryUpdated -> AccountSummary (§5.4); ``cash`` rows as given (default none)."""
    return {
        "cash": list(cash),
        "unrealised_pnl": s.unrealised_pnl,
        "cash_collateral": s.cash_collateral,
        "margin": s.margin,
        "required_margin": s.required_margin,
        "remaining_margin": s.remaining_margin,
        "session_realised_pnl": s.session_realised_pnl,
    }


def ticker_to_wire(t: TickerUpdated, delta: float = 1.0) -> dict[str, Any]:
    """TickerUpdated -> Ticker (§4.3). ``mark_timestamp`` = ``exchange_ts_ns``; best bid/ask
    fields are ``null`` for an empty side; other optional fields are omitted when ``None``.

    Args:
        delta: the ticker's required ``delta`` (1 for perpetuals and futures).
    """
    d: dict[str, Any] = {
        "best_bid_price": t.best_bid_price,
        "best_bid_amount": t.best_bid_amount,
        "best_ask_price": t.best_ask_price,
        "best_ask_amount": t.best_ask_amount,
    }
    _put(d, "last_price", t.last_price)
    d["mark_price"] = t.mark_price
    d["mark_timestamp"] = ns_to_s(t.exchange_ts_ns)
    d["index"] = t.index_price
    d["delta"] = delta
    _put(d, "collar_low", t.collar_low)
    _put(d, "collar_high", t.collar_high)
    _put(d, "funding_rate", t.funding_rate)
    _put(d, "funding_mark", t.funding_mark)
    _put(d, "open_interest", t.open_interest)
    return d


def lwt_to_wire(t: LightTickerUpdated) -> dict[str, Any]:
    """LightTickerUpdated -> ``lwt`` payload: ``b``/``a`` = ``[price, amount, outright]`` when
    that side has a price (outright = amount), ``m`` always, ``l`` when known."""
    d: dict[str, Any] = {}
    if t.best_bid_price is not None:
        amt = t.best_bid_amount or 0.0
        d["b"] = [t.best_bid_price, amt, amt]
    if t.best_ask_price is not None:
        amt = t.best_ask_amount or 0.0
        d["a"] = [t.best_ask_price, amt, amt]
    _put(d, "l", t.last_price)
    d["m"] = t.mark_price
    return d


def book_to_wire(
    bids: Iterable[tuple[float, float]],
    asks: Iterable[tuple[float, float]],
    trades: Iterable[PublicTrade],
    total_bid: float,
    total_ask: float,
    time_s: float,
) -> dict[str, Any]:
    """A ``book.*`` payload (§4.3): level rows ``[price, amount, outright_amount]`` (outright =
    amount; amount 0 removes), trades ``[price, amount, direction, timestamp, implied_taker]``.

    Args:
        total_bid: total bid amount on the book, contracts.
        total_ask: total ask amount, contracts.
        time_s: the book time, Unix seconds.
    """
    return {
        "bid_changes": [[p, a, a] for p, a in bids],
        "ask_changes": [[p, a, a] for p, a in asks],
        "trades": [[t.price, t.amount, t.aggressor.value, ns_to_s(t.ts_ns), False] for t in trades],
        "total_bid_amount": total_bid,
        "total_ask_amount": total_ask,
        "time": time_s,
    }


def index_to_wire(e: IndexUpdated) -> dict[str, Any]:
    """IndexUpdated -> Index ``{index_name, price, timestamp}`` (§4.1)."""
    return {"index_name": e.index_name, "price": e.price, "timestamp": ns_to_s(e.exchange_ts_ns)}


def public_trades_to_wire(trades: Iterable[PublicTrade]) -> list[list[Any]]:
    """``recent_trades`` rows ``[price, amount, side, timestamp, instrument_name, implied_taker]``."""
    return [
        [t.price, t.amount, t.aggressor.value, ns_to_s(t.ts_ns), t.instrument, False]
        for t in trades
    ]


def instrument_to_wire(i: Instrument) -> dict[str, Any]:
    """Instrument -> wire (§8). ``expiration_timestamp`` (integer s) only when set; ``product``
    omitted when empty."""
    d: dict[str, Any] = {"instrument_name": i.name}
    if i.product:
        d["product"] = i.product
    d.update(
        {
            "tick_size": i.tick_size,
            "volume_tick_size": i.volume_tick_size,
            "min_order_amount": i.min_order_amount,
            "underlying": i.underlying,
            "type": i.type,
            "base_currency": i.base_currency,
            "create_time": ns_to_s(i.create_time_ns),
        }
    )
    if i.expiration_ts_ns:
        d["expiration_timestamp"] = i.expiration_ts_ns // 1_000_000_000
    return d


def mmp_status_to_wire(s: MmpStatus) -> dict[str, Any]:
    """MmpStatus -> ``session.mm_protection`` item ``{product, remaining_amount, reason}`` (§6)."""
    return {"product": s.product, "remaining_amount": s.remaining_amount, "reason": s.reason}
