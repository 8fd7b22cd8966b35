"""Sessions, subscriptions, MMP and exchange-side actions of the simulated exchange over a real
WebSocket (a static market: five 1-BTC levels each side, best bid 64,995, best ask 65,005)."""

from __future__ import annotations

import asyncio

import numpy as np
from sim_ws_helpers import Client, order_params, run_sim

from thalex_mm.data.events import MARKET_EVENT_DTYPE, EventKind

INST = "BTC-PERPETUAL"


def _rows(*rows: tuple[int, int, float, float]) -> np.ndarray:
    arr = np.zeros(len(rows), dtype=MARKET_EVENT_DTYPE)
    for i, (kind, side, price, qty) in enumerate(rows):
        arr[i] = (kind, side, 1, 1, price, qty)
    return arr


async def _ids(c: Client) -> set[str]:
    return {o["order_id"] for o in (await c.call("private/open_orders"))["result"]}


async def _wait_gone(c: Client, order_id: str, timeout: float) -> float:
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    while order_id in await _ids(c):
        assert loop.time() - t0 < timeout, f"{order_id} still open after {timeout} s"
        await asyncio.sleep(0.05)
    return loop.time() - t0


def test_cod_client_that_stops_answering_pings_loses_its_orders_persistent_ones_stay(tmp_path):
    async def body(sim, keys):
        a, b = await Client.open(sim.url), await Client.open(sim.url)
        await a.login(keys)
        await b.login(keys)
        await a.call("private/set_cancel_on_disconnect", {"timeout_secs": 1})
        cod_id = (await a.call("private/insert", order_params(64_900)))["result"]["order_id"]
        keep_id = (await b.call("private/insert", order_params(64_800)))["result"]["order_id"]
        await b.call("private/subscribe", {"channels": ["account.orders"]})
        assert {cod_id, keep_id} <= await _ids(b)
        a.ws.transport.pause_reading()  # no more pongs from a
        waited = await _wait_gone(b, cod_id, timeout=4.0)
        assert 0.8 < waited < 3.0
        assert keep_id in await _ids(b)
        note = await b.note(lambda n: any(o["order_id"] == cod_id and o["status"] == "cancelled"
                                          for o in n["notification"]))
        gone = next(o for o in note["notification"] if o["order_id"] == cod_id)
        assert gone["delete_reason"] == "session_end"
        await b.close()

    run_sim(body, tmp_path)


def test_cod_orders_go_when_the_socket_closes_and_persistent_orders_survive(tmp_path):
    async def body(sim, keys):
        a, p, q = [await Client.open(sim.url) for _ in range(3)]
        for c in (a, p, q):
            await c.login(keys)
        await a.call("private/set_cancel_on_disconnect", {"timeout_secs": 30})
        cod = (await a.call("private/insert", order_params(64_900)))["result"]
        pers = (await p.call("private/insert", order_params(64_901)))["result"]
        assert (cod["persistent"], pers["persistent"]) == (False, True)
        await a.close()
        await p.close()
        waited = await _wait_gone(q, cod["order_id"], timeout=1.0)
        assert waited < 1.0
        open_now = {o["order_id"]: o for o in (await q.call("private/open_orders"))["result"]}
        assert pers["order_id"] in open_now and open_now[pers["order_id"]]["price"] == 64_901
        await q.close()

    run_sim(body, tmp_path)


def test_system_reconnect_event_reaches_system_subscribers_only(tmp_path):
    async def body(sim, keys):
        s, other = await Client.open(sim.url), await Client.open(sim.url)
        assert (await s.call("public/subscribe", {"channels": ["system"]}))["result"] == ["system"]
        await sim.announce_reconnect()
        n = await s.note(lambda n: n["channel_name"] == "system")
        assert n["notification"] == {"event": "reconnect"}
        await other.drain(0.2)
        assert not [n for n in other.notes if n["channel_name"] == "system"]

    run_sim(body, tmp_path)


def test_subscribe_returns_only_valid_channels(tmp_path):
    async def body(sim, keys):
        c = await Client.open(sim.url)
        asked = [f"ticker.{INST}.raw", "ticker.ETH-NOPE.raw", f"book.{INST}.none.all.raw",
                 "session.orders", "garbage", "price_index.BTCUSD", "price_index.XYZ"]
        r = await c.call("public/subscribe", {"channels": asked})
        assert sorted(r["result"]) == sorted([f"ticker.{INST}.raw", f"book.{INST}.none.all.raw",
                                              "price_index.BTCUSD"])
        await c.login(keys)
        r = await c.call("private/subscribe", {"channels": ["session.orders", f"lwt.{INST}.raw",
                                                            "account.nothing"]})
        assert r["result"] == ["session.orders"]
        r = await c.call("unsubscribe", {"channels": ["session.orders", "system"]})
        assert r["result"] == ["session.orders"]

    run_sim(body, tmp_path)


def test_book_snapshot_then_deltas(tmp_path):
    async def body(sim, keys):
        c = await Client.open(sim.url)
        ch = f"book.{INST}.none.all.raw"
        await c.call("public/subscribe", {"channels": [ch]})
        snap = await c.note(lambda n: n["channel_name"] == ch)
        assert snap.get("snapshot") is True
        bids = snap["notification"]["bid_changes"]
        asks = snap["notification"]["ask_changes"]
        assert [b[0] for b in bids] == [64_995, 64_990, 64_985, 64_980, 64_975]
        assert [a[0] for a in asks] == [65_005, 65_010, 65_015, 65_020, 65_025]
        sim.feed.source.push(_rows((EventKind.BOOK_LEVEL, 1, 64_998.0, 0.7),
                                   (EventKind.BOOK_LEVEL, -1, 65_005.0, 0.0)))
        delta = await c.note(lambda n: n["channel_name"] == ch and not n.get("snapshot"))
        assert delta["notification"]["bid_changes"][0][:2] == [64_998, 0.7]
        assert delta["notification"]["ask_changes"][0][:2] == [65_005, 0]

    run_sim(body, tmp_path)


def test_ticker_collar_comes_from_the_engine(tmp_path):
    async def body(sim, keys):
        c = await Client.open(sim.url)
        ch = f"ticker.{INST}.raw"
        await c.call("public/subscribe", {"channels": [ch]})
        t = (await c.note(lambda n: n["channel_name"] == ch))["notification"]
        low, high = sim.engine.collar_bounds(INST)
        assert (t["collar_low"], t["collar_high"]) == (low, high)
        assert low < t["mark_price"] < high and t["mark_price"] == 65_000
        assert (t["best_bid_price"], t["best_ask_price"]) == (64_995, 65_005)

    run_sim(body, tmp_path)


def test_mmp_trip_notifies_and_pulls_quotes(tmp_path):
    async def body(sim, keys):
        c = await Client.open(sim.url)
        await c.login(keys)
        await c.call("private/set_cancel_on_disconnect", {"timeout_secs": 5})
        await c.call("private/subscribe", {"channels": ["session.mm_protection", "session.orders"]})
        await c.call("private/set_mm_protection", {"product": "FBTCUSD", "trade_amount": 0.01,
                                                   "quote_amount": 0.05})
        mq = await c.call("private/mass_quote", {"quotes": [
            {"i": INST, "b": {"p": 64_999, "a": 0.02}, "a": {"p": 65_001, "a": 0.02}}]})
        assert (mq["result"]["n_success"], mq["result"]["n_fail"]) == (2, 0)
        assert len(await _ids(c)) == 2
        # a market sell of 0.01 hits our bid (best) and exhausts trade_amount 0.01
        sim.feed.source.push(_rows((EventKind.TRADE, -1, 64_990.0, 0.01)))
        n = await c.note(lambda n: n["channel_name"] == "session.mm_protection"
                         and n["notification"][0]["reason"] != "refill")
        item = n["notification"][0]
        assert item["product"] == "FBTCUSD" and item["reason"] == "executions"
        await c.drain(0.1)
        assert await _ids(c) == set()
        pulled = [o for n in c.notes if n["channel_name"] == "session.orders"
                  for o in n["notification"] if o.get("delete_reason") == "mm_protection"]
        by_side = {o["direction"]: o for o in pulled}
        assert sorted(by_side) == ["buy", "sell"]  # the part-filled bid and the ask
        assert (by_side["buy"]["filled_amount"], by_side["sell"]["filled_amount"]) == (0.01, 0)

    run_sim(body, tmp_path)


def test_mass_quote_without_mmp_gives_23_and_on_persistent_session_52(tmp_path):
    async def body(sim, keys):
        c = await Client.open(sim.url)
        await c.login(keys)
        q = {"quotes": [{"i": INST, "b": {"p": 64_999, "a": 0.01}, "a": {"p": 65_001, "a": 0.01}}]}
        assert (await c.call("private/mass_quote", q))["error"]["code"] == 52
        await c.call("private/set_cancel_on_disconnect", {"timeout_secs": 5})
        r = (await c.call("private/mass_quote", q))["result"]
        assert (r["n_success"], r["n_fail"]) == (0, 2)
        assert [e["code"] for e in r["errors"]] == [23, 23]
        assert await _ids(c) == set()

    run_sim(body, tmp_path)


def test_admin_cancel_deletes_every_order_of_the_account(tmp_path):
    async def body(sim, keys):
        c = await Client.open(sim.url)
        await c.login(keys)
        await c.call("private/subscribe", {"channels": ["account.orders"]})
        for px in (64_900, 64_901, 64_902):
            await c.call("private/insert", order_params(px))
        assert sim.admin_cancel(keys.account) == 3
        assert await _ids(c) == set()
        await c.drain(0.1)
        reasons = [o.get("delete_reason") for n in c.notes if n["channel_name"] == "account.orders"
                   for o in n["notification"] if o["status"] == "cancelled"]
        assert reasons == ["admin_cancel"] * 3
        assert sim.admin_cancel(keys.account) == 0

    run_sim(body, tmp_path)


def _restart_case(tmp_path, keep_persistent: bool) -> tuple[list, list]:
    seen: dict[str, list] = {}

    async def body(sim, keys):
        cod, pers = await Client.open(sim.url), await Client.open(sim.url)
        await cod.login(keys)
        await pers.login(keys)
        await cod.call("private/set_cancel_on_disconnect", {"timeout_secs": 5})
        await cod.call("private/subscribe", {"channels": ["session.orders"]})
        await cod.call("private/insert", order_params(64_900))
        await pers.call("private/insert", order_params(64_901))
        await sim.restart(keep_persistent=keep_persistent)
        await cod.drain(0.3)
        assert cod.ws.close_code is not None and pers.ws.close_code is not None
        seen["reasons"] = [o.get("delete_reason") for n in cod.notes
                           if n["channel_name"] == "session.orders" for o in n["notification"]
                           if o["status"] == "cancelled"]
        fresh = await Client.open(sim.url)
        await fresh.login(keys)
        assert (await fresh.call("private/open_orders", {}))  # still answering after restart
        seen["left"] = [o["price"] for o in (await fresh.call("private/open_orders"))["result"]]

    run_sim(body, tmp_path)
    return seen["reasons"], seen["left"]


def test_restart_keep_persistent(tmp_path):
    reasons, left = _restart_case(tmp_path, keep_persistent=True)
    assert reasons == ["failover"]
    assert left == [64_901]


def test_restart_without_persistence_deletes_everything(tmp_path):
    reasons, left = _restart_case(tmp_path, keep_persistent=False)
    assert reasons == ["failover"]
    assert left == []
