"""Oracle tests: our request frames equal what the official client thalex==1.3.0 sends.

Each official coroutine is run against a recording fake socket (``Thalex._send`` calls
``await self.ws.send(json_text)``); the recorded JSON is compared, as parsed JSON, with our
builder's frame after an orjson round trip.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import jwt
import orjson
import pytest

try:
    import thalex
except ImportError:  # the dev extra pins thalex==1.3.0; CI fails here (real_part), locally skips
    thalex = None

pytestmark = [
    pytest.mark.real_part("the official thalex client (thalex==1.3.0)"),
    pytest.mark.skipif(thalex is None, reason="the official thalex client is not installed (pip install -e '.[dev]')"),
]

from thalex_mm.core.commands import (  # noqa: E402
    AmendOrder,
    CancelAll,
    CancelMassQuote,
    CancelOrder,
    CancelSession,
    InsertOrder,
    InstrumentQuote,
    MassQuote,
    SetMmp,
)
from thalex_mm.core.types import OrderType, Side, TimeInForce  # noqa: E402
from thalex_mm.protocol import requests as rq  # noqa: E402
from thalex_mm.protocol.auth import make_login_token  # noqa: E402
from thalex_mm.protocol.requests import command_to_request, encode_frame  # noqa: E402


class _RecordingWs:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, text: str) -> None:
        self.sent.append(text)


def official(call: Callable[[Any], Awaitable[None]]) -> dict[str, Any]:
    """Run one official client coroutine and return the single frame it sent, parsed."""
    client = thalex.Thalex(thalex.Network.TEST)
    ws = _RecordingWs()
    client.ws = ws
    asyncio.run(call(client))
    assert len(ws.sent) == 1
    return json.loads(ws.sent[0])


def ours(frame: dict[str, Any]) -> dict[str, Any]:
    return orjson.loads(encode_frame(frame))


CASES: list[tuple[str, Callable[[Any], Awaitable[None]], dict[str, Any]]] = [
    (
        "insert_post_only_label",
        lambda c: c.insert(
            thalex.Direction.BUY, "BTC-PERPETUAL", 0.2, client_order_id=101, price=64900.0,
            label="P", post_only=True, id=101,
        ),
        rq.insert("buy", "BTC-PERPETUAL", 0.2, client_order_id=101, price=64900.0, label="P",
                  post_only=True, request_id=101),
    ),
    (
        "insert_market_ioc_reduce_only",
        lambda c: c.insert(
            thalex.Direction.SELL, "BTC-PERPETUAL", 0.01, order_type=thalex.OrderType.MARKET,
            time_in_force=thalex.TimeInForce.IOC, reduce_only=True, collar="clamp", id=7,
        ),
        rq.insert(Side.SELL, "BTC-PERPETUAL", 0.01, order_type=OrderType.MARKET,
                  time_in_force=TimeInForce.IOC, reduce_only=True, collar="clamp", request_id=7),
    ),
    (
        "buy",
        lambda c: c.buy("BTC-PERPETUAL", 0.1, client_order_id=5, price=64000.5,
                        reject_post_only=True, post_only=True, id=8),
        rq.buy("BTC-PERPETUAL", 0.1, client_order_id=5, price=64000.5, reject_post_only=True,
               post_only=True, request_id=8),
    ),
    (
        "sell_no_id",
        lambda c: c.sell("ETH-PERPETUAL", 0.01, price=3000.1, label="A-1"),
        rq.sell("ETH-PERPETUAL", 0.01, price=3000.1, label="A-1"),
    ),
    (
        "amend_by_client_order_id",
        lambda c: c.amend(0.3, 64910.0, client_order_id=101, id=102),
        rq.amend(0.3, 64910.0, client_order_id=101, request_id=102),
    ),
    (
        "amend_by_order_id",
        lambda c: c.amend(0.3, 64910.0, order_id="1728379719872", id=103),
        rq.amend(0.3, 64910.0, order_id="1728379719872", request_id=103),
    ),
    (
        "cancel_by_client_order_id",
        lambda c: c.cancel(client_order_id=101, id=104),
        rq.cancel(client_order_id=101, request_id=104),
    ),
    (
        "cancel_by_order_id",
        lambda c: c.cancel(order_id="00011E570000004A", id=105),
        rq.cancel(order_id="00011E570000004A", request_id=105),
    ),
    ("cancel_all", lambda c: c.cancel_all(id=3), rq.cancel_all(request_id=3)),
    ("cancel_session", lambda c: c.cancel_session(id=4), rq.cancel_session(request_id=4)),
    ("cancel_session_no_id", lambda c: c.cancel_session(), rq.cancel_session()),
    (
        "mass_quote_single_level",
        lambda c: c.mass_quote(
            [
                thalex.Quote("BTC-PERPETUAL", thalex.SideQuote(64900, 0.2),
                             thalex.SideQuote(65100, 0.2)),
                thalex.Quote("ETH-PERPETUAL", None, thalex.SideQuote(3001.5, 0)),
                thalex.Quote("BTC-28JUN24", thalex.SideQuote(65200, 0.1), None),
            ],
            label="MQ", post_only=True, id=7,
        ),
        rq.mass_quote(
            [
                rq.mass_quote_item("BTC-PERPETUAL", [(64900, 0.2)], [(65100, 0.2)]),
                rq.mass_quote_item("ETH-PERPETUAL", None, [(3001.5, 0)]),
                rq.mass_quote_item("BTC-28JUN24", [(65200, 0.1)], None),
            ],
            label="MQ", post_only=True, request_id=7,
        ),
    ),
    (
        "set_mm_protection",
        lambda c: c.set_mm_protection(thalex.Product.BTC_FUTURES, 1.0, 0.5, id=8),
        rq.set_mm_protection("FBTCUSD", 1.0, 0.5, request_id=8),
    ),
    (
        "cancel_mass_quote_product",
        lambda c: c.cancel_mass_quote(thalex.Product.BTC_FUTURES, id=9),
        rq.cancel_mass_quote("FBTCUSD", request_id=9),
    ),
    ("cancel_mass_quote_all", lambda c: c.cancel_mass_quote(), rq.cancel_mass_quote()),
    (
        "public_subscribe",
        lambda c: c.public_subscribe(["ticker.BTC-PERPETUAL.raw", "price_index.BTCUSD"], id=2),
        rq.public_subscribe(["ticker.BTC-PERPETUAL.raw", "price_index.BTCUSD"], request_id=2),
    ),
    (
        "private_subscribe",
        lambda c: c.private_subscribe(["session.orders", "account.portfolio"]),
        rq.private_subscribe(["session.orders", "account.portfolio"]),
    ),
    (
        "unsubscribe",
        lambda c: c.unsubscribe(["lwt.BTC-PERPETUAL.1000ms", "session.orders"], id=11),
        rq.unsubscribe(("lwt.BTC-PERPETUAL.1000ms", "session.orders"), request_id=11),
    ),
    (
        "set_cancel_on_disconnect",
        lambda c: c.set_cancel_on_disconnect(6, id=5),
        rq.set_cancel_on_disconnect(6, request_id=5),
    ),
    ("instruments", lambda c: c.instruments(id=0), rq.instruments(request_id=0)),
    ("instrument", lambda c: c.instrument("BTC-PERPETUAL", id=1),
     rq.instrument("BTC-PERPETUAL", request_id=1)),
    ("ticker", lambda c: c.ticker("BTC-PERPETUAL", id=12), rq.ticker("BTC-PERPETUAL", request_id=12)),
    ("index", lambda c: c.index("BTCUSD", id=13), rq.index("BTCUSD", request_id=13)),
    ("book", lambda c: c.book("BTC-PERPETUAL"), rq.book("BTC-PERPETUAL")),
    ("portfolio", lambda c: c.portfolio(id=14), rq.portfolio(request_id=14)),
    ("open_orders", lambda c: c.open_orders(id=15), rq.open_orders(request_id=15)),
    ("account_summary", lambda c: c.account_summary(id=16), rq.account_summary(request_id=16)),
    (
        "trade_history",
        lambda c: c.trade_history(limit=50, time_low=1716200000, bookmark="bm",
                                  sort=thalex.Sort.DESC, instrument_names="BTC-PERPETUAL", id=17),
        rq.trade_history(limit=50, time_low=1716200000, bookmark="bm", sort="descending",
                         instrument_names="BTC-PERPETUAL", request_id=17),
    ),
    ("trade_history_bare", lambda c: c.trade_history(), rq.trade_history()),
]


@pytest.mark.parametrize(("call", "frame"), [(c, f) for _, c, f in CASES],
                         ids=[name for name, _, _ in CASES])
def test_request_frame_when_compared_with_official_client_is_equal(call, frame):
    expected = official(call)
    assert ours(frame) == expected
    # Structure the official client guarantees: params always present, id only when given.
    assert "params" in expected


# ---------------------------------------------------------------- core commands


COMMAND_CASES = [
    (
        InsertOrder(client_order_id=101, instrument="BTC-PERPETUAL", side=Side.BUY, amount=0.2,
                    price=64900.0, label="P", post_only=True),
        lambda c: c.insert(thalex.Direction.BUY, "BTC-PERPETUAL", 0.2, client_order_id=101,
                           price=64900.0, label="P", order_type=thalex.OrderType.LIMIT,
                           time_in_force=thalex.TimeInForce.GTC, post_only=True, id=101),
    ),
    (
        AmendOrder(client_order_id=101, price=64910.0, amount=0.25),
        lambda c: c.amend(0.25, 64910.0, client_order_id=101, id=101),
    ),
    (
        AmendOrder(client_order_id=101, order_id="X1", price=64910.0, amount=0.25),
        lambda c: c.amend(0.25, 64910.0, order_id="X1", id=101),
    ),
    (CancelOrder(client_order_id=101), lambda c: c.cancel(client_order_id=101, id=101)),
    (CancelOrder(order_id="X1"), lambda c: c.cancel(order_id="X1", id=101)),
    (CancelAll(), lambda c: c.cancel_all(id=101)),
    (CancelSession(), lambda c: c.cancel_session(id=101)),
    (
        MassQuote(quotes=(InstrumentQuote(instrument="BTC-PERPETUAL", bids=((64900.0, 0.2),),
                                          asks=((65100.0, 0.3),)),), label="MQ"),
        lambda c: c.mass_quote([thalex.Quote("BTC-PERPETUAL", thalex.SideQuote(64900.0, 0.2),
                                             thalex.SideQuote(65100.0, 0.3))],
                               label="MQ", post_only=True, id=101),
    ),
    (CancelMassQuote(product="FBTCUSD"), lambda c: c.cancel_mass_quote("FBTCUSD", id=101)),
    (
        SetMmp(product="FBTCUSD", trade_amount=0.5, quote_amount=1.0),
        lambda c: c.set_mm_protection("FBTCUSD", 0.5, 1.0, id=101),
    ),
]


@pytest.mark.parametrize(("cmd", "call"), COMMAND_CASES,
                         ids=[type(c).__name__ for c, _ in COMMAND_CASES])
def test_command_to_request_when_compared_with_official_client_is_equal(cmd, call):
    assert ours(command_to_request(cmd, 101)) == official(call)


# ---------------------------------------------------------------- login


def _token_of(frame: dict[str, Any]) -> str:
    assert frame["method"] == "public/login"
    return frame["params"]["token"]


def test_login_token_when_compared_with_official_client_has_same_header_and_claims(rsa_keypair):
    private_pem, public_pem = rsa_keypair
    theirs = official(lambda c: c.login("K123456789", private_pem, account="A1", id=3))
    mine = ours(rq.login(make_login_token("K123456789", private_pem, 1716200000.25),
                         account="A1", request_id=3))
    # Same frame apart from the token (its iat is the client's wall clock).
    assert {**theirs, "params": {**theirs["params"], "token": "-"}} == {
        **mine, "params": {**mine["params"], "token": "-"}}
    t_theirs, t_mine = _token_of(theirs), _token_of(mine)
    header = jwt.get_unverified_header(t_mine)
    assert header == jwt.get_unverified_header(t_theirs)
    assert header == {"alg": "RS512", "kid": "K123456789", "typ": "JWT"}
    options = {"verify_iat": False}
    claims_theirs = jwt.decode(t_theirs, public_pem, algorithms=["RS512"], options=options)
    claims_mine = jwt.decode(t_mine, public_pem, algorithms=["RS512"], options=options)
    assert set(claims_theirs) == set(claims_mine) == {"iat"}
    assert isinstance(claims_theirs["iat"], float)
    assert claims_mine["iat"] == 1716200000.25


def test_login_frame_when_no_account_omits_it_like_official_client(rsa_keypair):
    private_pem, _ = rsa_keypair
    theirs = official(lambda c: c.login("K1", private_pem))
    mine = ours(rq.login(make_login_token("K1", private_pem, 1.0)))
    assert set(theirs) == set(mine) == {"method", "params"}
    assert set(theirs["params"]) == set(mine["params"]) == {"token"}
