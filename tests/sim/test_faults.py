"""Every fault of ``FaultPlan`` against a real WebSocket client, and ``--fault`` parsing."""

from __future__ import annotations

import asyncio
import random

import orjson
import pytest
from sim_ws_helpers import Client, order_params, run_sim
from websockets.exceptions import ConnectionClosed

from thalex_mm.errors import ConfigError
from thalex_mm.sim.faults import FaultPlan, parse_fault_args

INST = "BTC-PERPETUAL"
TICKER = f"ticker.{INST}.raw"


async def _requests_until_drop(c: Client, limit: int) -> int:
    """Send ``public/ticker`` requests one by one; return how many were answered."""
    answered = 0
    for _ in range(limit):
        try:
            await c.call("public/ticker", {"instrument_name": INST}, timeout=1.0)
        except ConnectionClosed:
            return answered
        answered += 1
    return answered


def test_drop_after_n_messages(tmp_path):
    async def body(sim, keys):
        c = await Client.open(sim.url)
        assert await _requests_until_drop(c, 10) == 3
        assert c.ws.close_code == 1011
        c2 = await Client.open(sim.url)  # the fault fires once
        assert await _requests_until_drop(c2, 5) == 5

    run_sim(body, tmp_path, faults=FaultPlan(drop_after_messages=3))


def test_drop_at_a_time(tmp_path):
    async def body(sim, keys):
        c = await Client.open(sim.url)
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        with pytest.raises(ConnectionClosed):
            await c.ws.recv()
        assert 0.2 <= loop.time() - t0 < 1.0

    run_sim(body, tmp_path, faults=FaultPlan(drop_at_s=0.3))


def test_random_drop_follows_the_seeded_stream(tmp_path):
    rng = random.Random(11)
    expected = next(i for i in range(100) if rng.random() < 0.3)  # requests answered before the drop

    async def body(sim, keys):
        c = await Client.open(sim.url)
        assert await _requests_until_drop(c, 100) == expected

    run_sim(body, tmp_path, faults=FaultPlan(seed=11, drop_probability=0.3))


def test_response_delay(tmp_path):
    async def body(sim, keys):
        c = await Client.open(sim.url)
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        r = await c.call("public/instruments")
        assert r["result"][0]["instrument_name"] == INST
        assert 0.25 <= loop.time() - t0 < 1.0
        sim.faults.reset()
        t0 = loop.time()
        await c.call("public/instruments")
        assert loop.time() - t0 < 0.2

    run_sim(body, tmp_path, faults=FaultPlan(response_delay_s=0.3))


def test_reordered_responses(tmp_path):
    async def body(sim, keys):
        c = await Client.open(sim.url)
        for rid in (1, 2, 3, 4):
            await c.send("public/ticker", {"instrument_name": INST}, rid=rid)
        await c.response(3)
        assert c.order == [2, 1, 4, 3]

    run_sim(body, tmp_path, faults=FaultPlan(reorder_responses=True))


def test_error_share_answers_private_requests_with_code_20(tmp_path):
    async def body(sim, keys):
        c = await Client.open(sim.url)
        await c.login(keys)
        codes = [(await c.call("private/insert", order_params(64_000 + i))).get("error", {}).get("code")
                 for i in range(5)]
        assert codes == [20] * 5
        assert "result" in await c.call("public/ticker", {"instrument_name": INST})
        assert sim.open_orders(keys.account) == ()

    run_sim(body, tmp_path, faults=FaultPlan(error_share=1.0))


def test_malformed_frames_replace_notifications(tmp_path):
    async def body(sim, keys):
        c = await Client.open(sim.url)
        await c.login(keys)
        await c.call("private/subscribe", {"channels": ["session.orders"]})
        await c.drain(0.1)
        n_before = len(c.raw)
        await c.call("private/insert", order_params(64_900))
        await c.drain(0.2)
        new = c.raw[n_before:]
        bad = []
        for frame in new:
            try:
                orjson.loads(frame)
            except orjson.JSONDecodeError:
                bad.append(frame)
        assert len(bad) == 1 and bad[0].startswith('{"channel_name": "session.orders"')
        assert not [n for n in c.notes if n["channel_name"] == "session.orders" and not n.get("snapshot")]

    run_sim(body, tmp_path, faults=FaultPlan(malformed_share=1.0))


def test_duplicated_notifications(tmp_path):
    async def body(sim, keys):
        c = await Client.open(sim.url)
        await c.login(keys)
        await c.call("private/subscribe", {"channels": ["session.orders"]})
        await c.call("private/insert", order_params(64_900))
        await c.drain(0.2)
        live = [n for n in c.notes if n["channel_name"] == "session.orders" and not n.get("snapshot")]
        assert len(live) == 2 and live[0] == live[1]
        assert live[0]["notification"][0]["change_reason"] == "insert"

    run_sim(body, tmp_path, faults=FaultPlan(duplicate_notifications=True))


def test_frozen_market_sends_no_market_frames_while_set(tmp_path):
    async def body(sim, keys):
        c = await Client.open(sim.url)
        await c.call("public/subscribe", {"channels": [TICKER]})
        await c.drain(0.3)
        frozen = [n for n in c.notes if n["channel_name"] == TICKER]
        assert len(frozen) == 1  # the subscribe snapshot only
        sim.faults.freeze_market = False
        await c.drain(0.3)
        assert len([n for n in c.notes if n["channel_name"] == TICKER]) >= 5  # 20 ms cadence

    run_sim(body, tmp_path, faults=FaultPlan(freeze_market=True))


def test_throttle_everything(tmp_path):
    async def body(sim, keys):
        c = await Client.open(sim.url)
        await c.login(keys)
        assert (await c.call("private/insert", order_params(64_900)))["error"]["code"] == 4
        assert (await c.call("private/cancel_all"))["result"] == 0  # cancels still go through
        sim.faults.reset()
        assert (await c.call("private/insert", order_params(64_900)))["result"]["status"] == "open"

    run_sim(body, tmp_path, faults=FaultPlan(throttle_everything=True))


def test_parse_fault_args_sets_fields():
    plan = parse_fault_args(["drop_after_messages=50", "response_delay_s=0.2",
                             "freeze_market=true", "error_share=0.25", "seed=9"])
    assert (plan.drop_after_messages, plan.response_delay_s, plan.freeze_market,
            plan.error_share, plan.seed) == (50, 0.2, True, 0.25, 9)
    assert plan.drop_probability == 0.0 and plan.throttle_everything is False


@pytest.mark.parametrize(("item", "needle"), [
    ("drop_after=3", "drop_after"),
    ("error_share=1.5", "probability"),
    ("freeze_market=maybe", "true/false"),
    ("response_delay_s=-1", ">= 0"),
    ("drop_after_messages=x", "int"),
    ("novalue", "key=value"),
])
def test_parse_fault_args_errors_name_key_and_allowed_values(item, needle):
    with pytest.raises(ConfigError) as exc:
        parse_fault_args([item])
    text = str(exc.value)
    assert needle in text
    assert item.partition("=")[0] in text
