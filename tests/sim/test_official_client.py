"""Compatibility: the official ``thalex`` client (1.3.0) trades on the simulated exchange.

Connects over a real WebSocket on 127.0.0.1, logs in with a generated key, sets
cancel-on-disconnect, subscribes, inserts a post_only order, amends it, cancels it, mass quotes
with market-maker protection, and cancels the session; every response and the order
notifications it receives are checked.
"""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace

import thalex

from thalex_mm.sim.engine import EngineConfig, MatchingEngine
from thalex_mm.sim.market_feed import BTC_PERPETUAL, MarketFeed
from thalex_mm.sim.server import SimExchange
from thalex_mm.sim.static_source import StaticSource

KID = "K000000001"
ACCOUNT = "A000000001"


async def official_session(url: str, kid: str, private_pem: str, account: str | None = None) -> list[dict]:
    """The official client's full session against the exchange at ``url``; every response
    is checked. Order prices are set from the first book snapshot (100 and 50 below the mid,
    a mass quote 200 either side), so the session also runs on a moving market. Returns the
    notifications received."""
    tlx = thalex.Thalex(thalex.Network.TEST)
    tlx.net = SimpleNamespace(value=url)  # point the official client at the simulator
    await tlx.connect()
    responses: dict[int, dict] = {}
    notes: list[dict] = []

    async def wait_for(rid: int) -> dict:
        while rid not in responses:
            msg = json.loads(await asyncio.wait_for(tlx.receive(), 5))
            if "channel_name" in msg:
                notes.append(msg)
            else:
                responses[msg["id"]] = msg
        return responses[rid]

    async def first_book() -> dict:
        while True:
            for n in notes:
                if n["channel_name"].startswith("book.") and n.get("snapshot"):
                    return n["notification"]
            notes.append(json.loads(await asyncio.wait_for(tlx.receive(), 5)))

    try:
        await tlx.login(kid, private_pem, id=1)
        login = (await wait_for(1))["result"]
        assert login == {"account_number": account} if account else set(login) == {"account_number"}
        await tlx.set_cancel_on_disconnect(6, id=2)
        assert (await wait_for(2))["result"] == {"message_rate": 50}
        await tlx.public_subscribe(["ticker.BTC-PERPETUAL.raw", "book.BTC-PERPETUAL.none.all.raw"], id=3)
        assert sorted((await wait_for(3))["result"]) == ["book.BTC-PERPETUAL.none.all.raw", "ticker.BTC-PERPETUAL.raw"]
        await tlx.private_subscribe(["session.orders", "account.portfolio", "session.mm_protection"], id=4)
        assert len((await wait_for(4))["result"]) == 3
        book = await first_book()
        mid = round((book["bid_changes"][0][0] + book["ask_changes"][0][0]) / 2)

        await tlx.buy("BTC-PERPETUAL", 0.01, client_order_id=100, price=mid - 100, label="T", post_only=True, id=5)
        ins = (await wait_for(5))["result"]
        assert (ins["status"], ins["price"], ins["amount"], ins["client_order_id"], ins["label"]) == (
            "open", mid - 100, 0.01, 100, "T")
        assert ins["persistent"] is False

        await tlx.amend(0.02, mid - 50, client_order_id=100, id=6)
        am = (await wait_for(6))["result"]
        assert (am["price"], am["amount"], am["change_reason"]) == (mid - 50, 0.02, "amend")

        await tlx.cancel(client_order_id=100, id=7)
        ca = (await wait_for(7))["result"]
        assert (ca["status"], ca["delete_reason"]) == ("cancelled", "client_cancel")

        await tlx.set_mm_protection(thalex.Product.BTC_FUTURES, trade_amount=0.05, quote_amount=0.1, id=8)
        assert (await wait_for(8))["result"] is None
        quote = thalex.Quote("BTC-PERPETUAL", thalex.SideQuote(mid - 200, 0.05), thalex.SideQuote(mid + 200, 0.05))
        await tlx.mass_quote([quote], label="MQ", post_only=True, id=9)
        mq = (await wait_for(9))["result"]
        assert (mq["n_success"], mq["n_fail"]) == (2, 0)

        await tlx.cancel_session(id=10)
        assert (await wait_for(10))["result"] is None
        loop = asyncio.get_running_loop()
        until = loop.time() + 0.3  # the market publishes every 20 ms: drain for a bounded time
        while loop.time() < until:
            notes.append(json.loads(await asyncio.wait_for(tlx.receive(), 1)))

        channels = {n["channel_name"] for n in notes}
        assert {"ticker.BTC-PERPETUAL.raw", "book.BTC-PERPETUAL.none.all.raw", "session.orders"} <= channels
        order_notes = [o for n in notes if n["channel_name"] == "session.orders" for o in n["notification"]]
        reasons = [(o.get("client_order_id"), o["change_reason"], o["status"]) for o in order_notes]
        assert (100, "insert", "open") in reasons
        assert (100, "amend", "open") in reasons
        assert (100, "cancel", "cancelled") in reasons
        mq_closed = [o for o in order_notes if o.get("label") == "MQ" and o["status"] == "cancelled"]
        assert len(mq_closed) == 2 and all(o["delete_reason"] == "session_end" for o in mq_closed)
        return notes
    finally:
        await tlx.disconnect()


async def _session(rsa_keys):
    private_pem, public_pem = rsa_keys
    engine = MatchingEngine(EngineConfig())
    engine.add_instrument(BTC_PERPETUAL)
    feed = MarketFeed(engine, StaticSource(), publish_interval_s=0.02)
    sim = SimExchange(feed, {KID: (public_pem, ACCOUNT)})
    url = await sim.start()
    try:
        notes = await official_session(url, KID, private_pem, ACCOUNT)
        book_snap = next(n for n in notes if n["channel_name"].startswith("book.") and n.get("snapshot"))
        assert book_snap["notification"]["bid_changes"][0][0] == 64_995
        assert sim.open_orders(ACCOUNT) == ()
    finally:
        await sim.stop()


def test_official_client_when_full_session_runs_every_step_is_answered(rsa_keys):
    asyncio.run(_session(rsa_keys))
