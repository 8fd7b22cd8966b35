"""Server side of the codec: request parsing, reply encoding, param readers (§1, §5, §6)."""

from __future__ import annotations

import orjson
import pytest

from thalex_mm.core.commands import InstrumentQuote
from thalex_mm.core.types import OrderType, Side, TimeInForce
from thalex_mm.protocol import requests as rq
from thalex_mm.protocol.error_codes import ErrorCode
from thalex_mm.protocol.params import (
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
from thalex_mm.protocol.rejections import RequestRejected
from thalex_mm.protocol.requests import encode_frame
from thalex_mm.protocol.server_codec import (
    BadRequest,
    Request,
    encode_error,
    encode_notification,
    encode_response,
    parse_request,
)


def test_parse_request_when_frame_from_our_builder_gives_request():
    frame = encode_frame(rq.insert("buy", "BTC-PERPETUAL", 0.2, price=1.0, request_id=9))
    req = parse_request(frame)
    assert req == Request(method="private/insert", id=9,
                          params={"direction": "buy", "instrument_name": "BTC-PERPETUAL",
                                  "amount": 0.2, "price": 1.0})


def test_parse_request_when_id_absent_or_string_or_jsonrpc_is_accepted():
    assert parse_request('{"method":"public/instruments","params":{}}') == Request(
        method="public/instruments", id=None, params={})
    assert parse_request('{"jsonrpc":"2.0","id":"a","method":"x","params":{}}').id == "a"


@pytest.mark.parametrize(("frame", "rid", "part"), [
    ("{bad", None, "invalid JSON"),
    ("[]", None, "request must be a JSON object, got list"),
    ('{"id":1.5,"method":"x","params":{}}', None, "id: expected an integer, string or null"),
    ('{"id":true,"method":"x","params":{}}', None, "id: expected"),
    ('{"id":3,"params":{}}', 3, "method: expected a method name"),
    ('{"id":3,"method":"public/instruments"}', 3, "params: missing"),
    ('{"id":3,"method":"x","params":[]}', 3, "params: expected an object, got list"),
])
def test_parse_request_when_frame_is_bad_gives_bad_request(frame, rid, part):
    bad = parse_request(frame)
    assert isinstance(bad, BadRequest)
    assert (bad.id, bad.code) == (rid, ErrorCode.INVALID_REQUEST)
    assert part in bad.message


def test_encode_reply_frames_when_encoded_put_id_or_channel_first():
    assert encode_response(5, {"message_rate": 50}) == b'{"id":5,"result":{"message_rate":50}}'
    assert encode_response(None, None) == b'{"id":null,"result":null}'
    assert encode_error(101, ErrorCode.THROTTLE_EXCEEDED, "throttle exceeded") == (
        b'{"id":101,"error":{"code":4,"message":"throttle exceeded"}}')
    assert encode_notification("system", {"event": "reconnect"}) == (
        b'{"channel_name":"system","notification":{"event":"reconnect"}}')
    snap = encode_notification("session.orders", [], snapshot=True)
    assert snap.startswith(b'{"channel_name":"session.orders"')
    assert orjson.loads(snap)["snapshot"] is True


# ---------------------------------------------------------------- insert


def rejected(fn, *args) -> RequestRejected:
    with pytest.raises(RequestRejected) as info:
        fn(*args)
    return info.value


def test_read_insert_params_when_our_frame_gives_typed_params():
    frame = rq.insert(Side.SELL, "BTC-PERPETUAL", 0.2, client_order_id=7, price=65000.0,
                      label="P", post_only=True, reduce_only=True)
    p = read_insert_params(frame["params"])
    assert (p.direction, p.instrument_name, p.amount, p.price, p.client_order_id, p.label) == (
        Side.SELL, "BTC-PERPETUAL", 0.2, 65000.0, 7, "P")
    assert (p.order_type, p.time_in_force, p.post_only, p.reject_post_only, p.reduce_only) == (
        OrderType.LIMIT, TimeInForce.GTC, True, False, True)


def test_read_insert_params_when_buy_method_takes_direction_from_method():
    p = read_insert_params(rq.buy("X", 1, price=2)["params"], Side.BUY)
    assert p.direction is Side.BUY


def test_read_insert_params_when_market_without_tif_defaults_to_ioc():
    p = read_insert_params({"direction": "buy", "instrument_name": "X", "amount": 1,
                            "order_type": "market"})
    assert (p.order_type, p.time_in_force, p.price) == (OrderType.MARKET, TimeInForce.IOC, None)


BASE = {"direction": "buy", "instrument_name": "X", "amount": 1, "price": 10}


@pytest.mark.parametrize(("change", "code", "part"), [
    ({"direction": None}, ErrorCode.INVALID_REQUEST, "direction: missing"),
    ({"direction": "long"}, ErrorCode.INVALID_REQUEST, "direction: got 'long'"),
    ({"instrument_name": None}, ErrorCode.INVALID_REQUEST, "instrument_name: missing"),
    ({"instrument_name": 5}, ErrorCode.INVALID_REQUEST, "instrument_name: got int"),
    ({"amount": 0}, ErrorCode.INVALID_QUANTITY, "amount: got 0.0, expected a number > 0"),
    ({"amount": "1"}, ErrorCode.INVALID_REQUEST, "amount: got '1'"),
    ({"price": None}, ErrorCode.INVALID_PRICE, "price: missing (required for limit orders)"),
    ({"order_type": "stop"}, ErrorCode.INVALID_REQUEST, "order_type: got 'stop'"),
    ({"time_in_force": "day"}, ErrorCode.INVALID_TIME_IN_FORCE, "time_in_force: got 'day'"),
    ({"order_type": "market", "time_in_force": "good_till_cancelled"},
     ErrorCode.INVALID_TIME_IN_FORCE, "market order cannot be good_till_cancelled"),
    ({"post_only": True, "time_in_force": "immediate_or_cancel"},
     ErrorCode.INVALID_TIME_IN_FORCE, "post_only cannot be immediate_or_cancel"),
    ({"post_only": "yes"}, ErrorCode.INVALID_REQUEST, "post_only: got 'yes'"),
    ({"client_order_id": -1}, ErrorCode.INVALID_REQUEST, "client_order_id: got -1"),
    ({"client_order_id": 2**64}, ErrorCode.INVALID_REQUEST, "client_order_id"),
    ({"client_order_id": True}, ErrorCode.INVALID_REQUEST, "client_order_id: got True"),
    ({"label": "a b"}, ErrorCode.INVALID_REQUEST, "label: got 'a b'"),
    ({"label": "x" * 65}, ErrorCode.INVALID_REQUEST, "label"),
    ({"collar": "maybe"}, ErrorCode.INVALID_REQUEST, "collar: got 'maybe'"),
    ({"order_type": "market", "collar": "ignore", "price": None}, ErrorCode.INVALID_REQUEST,
     "'ignore' is forbidden on market orders"),
    ({"legs": []}, ErrorCode.INVALID_REQUEST, "legs: combination orders"),
])
def test_read_insert_params_when_field_bad_rejects_naming_it(change, code, part):
    params = {k: v for k, v in {**BASE, **change}.items() if v is not None}
    exc = rejected(read_insert_params, params)
    assert exc.code == code
    assert part in exc.message


# ---------------------------------------------------------------- amend / cancel


def test_read_amend_and_cancel_params_when_one_id_gives_it():
    a = read_amend_params(rq.amend(0.3, 64910.0, client_order_id=101)["params"])
    assert (a.price, a.amount, a.client_order_id, a.order_id) == (64910.0, 0.3, 101, None)
    c = read_cancel_params(rq.cancel(order_id="X")["params"])
    assert (c.order_id, c.client_order_id) == ("X", None)


@pytest.mark.parametrize("params", [{}, {"order_id": "X", "client_order_id": 1}])
def test_read_cancel_params_when_not_exactly_one_id_rejects(params):
    assert "exactly one" in rejected(read_cancel_params, params).message


def test_read_amend_params_when_amount_negative_or_price_missing_rejects():
    assert rejected(read_amend_params, {"order_id": "X", "price": 1, "amount": -1}).code == (
        ErrorCode.INVALID_QUANTITY)
    assert "price: missing" in rejected(read_amend_params, {"order_id": "X", "amount": 1}).message


# ---------------------------------------------------------------- mass quote and MMP


def test_read_mass_quote_params_when_both_side_forms_gives_instrument_quotes():
    frame = rq.mass_quote([
        rq.mass_quote_item("BTC-PERPETUAL", [(64900, 0.2)], [(65100, 0.2)]),
        rq.mass_quote_item("BTC-28JUN24", [(65200, 0.1), (65190, 0.2)], []),
        rq.mass_quote_item("ETH-PERPETUAL", None, [(3000, 0)]),
    ], label="MQ", post_only=True)
    p = read_mass_quote_params(frame["params"])
    assert p.quotes == (
        InstrumentQuote(instrument="BTC-PERPETUAL", bids=((64900.0, 0.2),), asks=((65100.0, 0.2),)),
        InstrumentQuote(instrument="BTC-28JUN24", bids=((65200.0, 0.1), (65190.0, 0.2)), asks=()),
        InstrumentQuote(instrument="ETH-PERPETUAL", bids=None, asks=((3000.0, 0.0),)),
    )
    assert (p.label, p.post_only, p.reject_post_only) == ("MQ", True, False)


@pytest.mark.parametrize(("params", "part"), [
    ({}, "quotes: got null"),
    ({"quotes": [1]}, "quotes[0]: expected an object"),
    ({"quotes": [{"b": []}]}, "quotes[0].i"),
    ({"quotes": [{"i": "X", "b": "no"}]}, "quotes[0].b: expected"),
    ({"quotes": [{"i": "X", "b": [[1, 1]] * 11}]}, "11 levels, at most 10"),
    ({"quotes": [{"i": "X", "a": [[1, 1], [1, 2]]}]}, "prices must be distinct"),
    ({"quotes": [{"i": "X", "a": {"p": 1}}]}, "quotes[0].a: amount got None"),
    ({"quotes": [{"i": "X", "a": [[1, 2, 3]]}]}, "quotes[0].a[0]: expected"),
    ({"quotes": [{"i": "X"}] * 101}, "101 items, at most 100"),
])
def test_read_mass_quote_params_when_bad_rejects_naming_path(params, part):
    assert part in rejected(read_mass_quote_params, params).message


def test_read_set_mmp_params_when_valid_or_legacy_amount():
    p = read_set_mmp_params(rq.set_mm_protection("FBTCUSD", 0.5, 1.0)["params"])
    assert (p.product, p.trade_amount, p.quote_amount) == ("FBTCUSD", 0.5, 1.0)
    legacy = read_set_mmp_params({"product": "FBTCUSD", "amount": 2})
    assert (legacy.trade_amount, legacy.quote_amount) == (2.0, 2.0)
    assert "must be <= quote_amount" in rejected(
        read_set_mmp_params, {"product": "F", "trade_amount": 2, "quote_amount": 1}).message
    assert "product: missing" in rejected(read_set_mmp_params, {"trade_amount": 1}).message


def test_small_readers_when_valid_and_invalid():
    assert read_login_params({"token": "t", "account": "A1"}) == ("t", "A1")
    assert "token" in rejected(read_login_params, {}).message
    assert read_cancel_on_disconnect_params({"timeout_secs": 6}) == 6
    assert "timeout_secs: got 0" in rejected(read_cancel_on_disconnect_params, {"timeout_secs": 0}).message
    assert read_channels_params({"channels": ["a", "b"]}) == ("a", "b")
    assert "channels" in rejected(read_channels_params, {"channels": "a"}).message
    assert read_instrument_name_param({"instrument_name": "X"}) == "X"
    assert read_underlying_param({"underlying": "BTCUSD"}) == "BTCUSD"
    assert read_cancel_mass_quote_params({}) is None
    assert read_cancel_mass_quote_params({"product": "FBTCUSD"}) == "FBTCUSD"
