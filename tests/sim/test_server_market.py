"""The synthetic market behind the simulated exchange: public feeds flow, our quotes get filled
and the account reflects it."""

from __future__ import annotations

import asyncio

from sim_ws_helpers import Client, order_params, run_sim

from thalex_mm.sim.app import default_synthetic_params

INST = "BTC-PERPETUAL"
BUSY = default_synthetic_params(arrival_rate_per_s=40.0, dt_s=0.05, mark_interval_s=0.1)


def test_public_feeds_update_within_one_second(tmp_path):
    async def body(sim, keys):
        c = await Client.open(sim.url)
        channels = [f"ticker.{INST}.raw", f"book.{INST}.none.all.raw", "price_index.BTCUSD",
                    f"recent_trades.{INST}.single"]
        assert sorted((await c.call("public/subscribe", {"channels": channels}))["result"]) == sorted(channels)
        await c.drain(1.0)
        counts = {ch: sum(1 for n in c.notes if n["channel_name"] == ch) for ch in channels}
        assert all(v >= 2 for v in counts.values()), counts
        idx = [n["notification"]["price"] for n in c.notes if n["channel_name"] == "price_index.BTCUSD"]
        assert all(60_000 < p < 70_000 for p in idx)
        trades = [t for n in c.notes if n["channel_name"] == f"recent_trades.{INST}.single"
                  for t in n["notification"]]
        assert trades and all(t[1] > 0 and t[2] in ("buy", "sell") for t in trades)

    run_sim(body, tmp_path, synthetic=BUSY, seed=3)


def test_fill_from_the_synthetic_market_shows_in_portfolio_and_trade_history(tmp_path):
    async def body(sim, keys):
        c = await Client.open(sim.url)
        await c.login(keys)
        await c.call("private/subscribe", {"channels": ["account.trade_history", "account.portfolio"]})
        await asyncio.sleep(0.2)
        t = (await c.call("public/ticker", {"instrument_name": INST}))["result"]
        price = t["best_bid_price"] + 1  # inside the spread: first in line for market sells
        order = (await c.call("private/insert", order_params(price, 0.01)))["result"]
        note = await c.note(lambda n: n["channel_name"] == "account.trade_history", timeout=5.0)
        trade = note["notification"][0]
        assert (trade["order_id"], trade["price"], trade["amount"], trade["direction"]) == (
            order["order_id"], price, 0.01, "buy")
        assert trade["maker_taker"] == "maker"
        pf = (await c.call("private/portfolio"))["result"]
        assert [(p["instrument_name"], p["position"]) for p in pf] == [(INST, 0.01)]
        hist = (await c.call("private/trade_history"))["result"]["trades"]
        assert [h["price"] for h in hist] == [price]
        assert sim.position(keys.account, INST) == 0.01

    run_sim(body, tmp_path, synthetic=BUSY, seed=5)
