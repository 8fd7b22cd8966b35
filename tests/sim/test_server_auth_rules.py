"""Protocol rules of the simulated exchange over a real WebSocket: login, request shape,
rate limits."""

from __future__ import annotations

import time

import jwt
from sim_ws_helpers import Client, order_params, run_sim

from thalex_mm.protocol.auth import make_login_token
from thalex_mm.sim.rate_limit import RateLimits


def test_private_call_before_login_is_refused_with_code_7(tmp_path):
    async def body(sim, keys):
        c = await Client.open(sim.url)
        r = await c.call("private/insert", order_params(64_900))
        assert r["error"]["code"] == 7
        r = await c.call("private/open_orders")
        assert r["error"]["code"] == 7
        await c.login(keys)
        assert "result" in await c.call("private/open_orders")
        await c.close()

    run_sim(body, tmp_path)


def test_login_bad_token_replayed_iat_and_unknown_kid_give_code_19_without_the_token(tmp_path, rsa_keys):
    async def body(sim, keys):
        c = await Client.open(sim.url)
        pem = keys.private_key_pem()
        now = time.time()
        good = make_login_token(keys.kid, pem, now)
        assert (await c.call("public/login", {"token": good}))["result"] == {"account_number": keys.account}
        cases = {
            "garbage": "not.a.jwt",
            "replayed": good,
            "older_iat": make_login_token(keys.kid, pem, now - 1),
            "unknown_kid": make_login_token("K999999999", pem, now + 1),
            "wrong_key": make_login_token(keys.kid, rsa_keys[0], now + 2),
            "stale": make_login_token(keys.kid, pem, now - 120),
            "hs256": jwt.encode({"iat": now + 3}, "s" * 64, algorithm="HS256", headers={"kid": keys.kid}),
        }
        for name, token in cases.items():
            c2 = await Client.open(sim.url)
            r = await c2.call("public/login", {"token": token})
            assert r["error"]["code"] == 19, name
            assert token not in r["error"]["message"], name
            assert "result" not in r, name
            assert (await c2.call("private/open_orders"))["error"]["code"] == 7, name
            await c2.close()
        await c.close()

    run_sim(body, tmp_path)


def test_missing_params_is_invalid_request_and_unknown_method_is_31(tmp_path):
    async def body(sim, keys):
        c = await Client.open(sim.url)
        rid = await c.send("public/ticker", None, rid=5)
        r = await c.response(rid)
        assert r["error"]["code"] == 6 and "params" in r["error"]["message"]
        r = await c.call("public/no_such_method")
        assert r["error"]["code"] == 31
        await c.ws.send("{not json")
        await c.drain(0.2)
        bad = [c.responses[k] for k in c.responses if k is None]
        assert bad and bad[0]["error"]["code"] == 6
        r = await c.call("public/ticker", {"instrument_name": "ETH-NOPE"})
        assert r["error"]["code"] == 5
        await c.close()

    run_sim(body, tmp_path)


def test_rate_limit_11th_insert_in_a_burst_without_cod_gets_code_4_and_lockout(tmp_path):
    async def body(sim, keys):
        c = await Client.open(sim.url)
        await c.login(keys)
        rids = [await c.send("private/insert", order_params(64_000 + i)) for i in range(11)]
        codes = [(await c.response(r)).get("error", {}).get("code") for r in rids]
        assert codes[:10] == [None] * 10
        assert codes[10] == 4
        # lockout: even a cancel (own budget of 1000/s, unused) is refused now
        assert (await c.call("private/cancel_all"))["error"]["code"] == 4
        await c.close()

    run_sim(body, tmp_path, rate_limits=RateLimits(lockout_s=5.0))


def test_rate_limit_is_50_per_s_after_cod(tmp_path):
    async def body(sim, keys):
        c = await Client.open(sim.url)
        await c.login(keys)
        assert (await c.call("private/set_cancel_on_disconnect", {"timeout_secs": 5}))["result"] == {"message_rate": 50}
        rids = [await c.send("private/insert", order_params(63_000 + i)) for i in range(51)]
        codes = [(await c.response(r)).get("error", {}).get("code") for r in rids]
        assert codes.count(None) == 50 and codes[50] == 4
        await c.close()

    run_sim(body, tmp_path)


def test_rate_limit_cancels_1000_per_s(tmp_path):
    async def body(sim, keys):
        c = await Client.open(sim.url)
        await c.login(keys)
        rids = [await c.send("private/cancel_all", {}) for _ in range(1001)]
        results = [await c.response(r) for r in rids]
        assert all(r.get("result") == 0 for r in results[:1000])
        assert results[1000]["error"]["code"] == 4
        await c.close()

    run_sim(body, tmp_path)
