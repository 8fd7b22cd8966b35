"""Simulated-exchange throughput: requests/s over loopback from one client.

The exchange runs in its own process (a static market, rate limits raised so the matching-engine
budget does not bind); one WebSocket client pipelines N requests (sends them all, then reads N
responses) and the figure is N / wall time. Two workloads:

- ``public/ticker`` only (the cheapest full round trip: parse, dispatch, encode, send);
- a trading mix after login and cancel-on-disconnect: 40 % insert, 30 % cancel by
  client_order_id, 20 % amend, 10 % ticker.

For the same mix it also prints the server's own per-request work without sockets (frames
handed to ``SimExchange._on_frame`` in process, responses and order notifications queued but
not sent): the part of the budget that is the simulator's code rather than WebSocket framing,
the event loop and the client sharing the CPU.

    .venv/bin/python benchmarks/sim_server.py [n_requests]
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import sys
import tempfile
import time

import orjson
from websockets.asyncio.client import connect

from thalex_mm.protocol.auth import make_login_token
from thalex_mm.sim.app import build_simulated_exchange
from thalex_mm.sim.rate_limit import ConnectionRateLimiter, RateLimits
from thalex_mm.sim.server import ClientConnection
from thalex_mm.sim.static_source import StaticSource

INST = "BTC-PERPETUAL"
HIGH = RateLimits(me_per_s=10**9, me_cod_per_s=10**9, cancels_per_s=10**9)


def _serve(conn, key_dir: str) -> None:
    async def main() -> None:
        sim, keys = build_simulated_exchange(source=StaticSource(), key_dir=key_dir,
                                             rate_limits=HIGH, publish_interval_s=0.5)
        await sim.start()
        conn.send((sim.url, keys.kid, str(keys.private_key_path)))
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # wait for "stop"
        await sim.stop()

    asyncio.run(main())


async def _pipeline(ws, frames: list[bytes]) -> float:
    t0 = time.perf_counter()
    for f in frames:
        await ws.send(f.decode())
    want = {orjson.loads(f)["id"] for f in frames}
    while want:
        msg = orjson.loads(await ws.recv())
        want.discard(msg.get("id"))
    return time.perf_counter() - t0


def _mix(n: int, start_id: int) -> list[bytes]:
    frames = []
    live: list[int] = []
    cid = 0
    for i in range(n):
        rid = start_id + i
        r = i % 10
        if r < 4 or not live:
            cid += 1
            live.append(cid)
            params = {"direction": "buy", "instrument_name": INST, "amount": 0.01,
                      "price": 64_000 + cid % 900, "client_order_id": cid, "post_only": True}
            frames.append(orjson.dumps({"method": "private/insert", "id": rid, "params": params}))
        elif r < 7:
            frames.append(orjson.dumps({"method": "private/cancel", "id": rid,
                                        "params": {"client_order_id": live.pop(0)}}))
        elif r < 9:
            frames.append(orjson.dumps({"method": "private/amend", "id": rid, "params": {
                "client_order_id": live[-1], "amount": 0.02, "price": 64_000 + (i % 900)}}))
        else:
            frames.append(orjson.dumps({"method": "public/ticker", "id": rid,
                                        "params": {"instrument_name": INST}}))
    return frames


async def _client(url: str, kid: str, key_path: str, n: int) -> None:
    async with connect(url, max_size=2**24, ping_interval=None) as ws:
        with open(key_path) as fh:
            token = make_login_token(kid, fh.read(), time.time())
        await ws.send(orjson.dumps({"method": "public/login", "id": 1, "params": {"token": token}}).decode())
        await ws.recv()
        await ws.send(orjson.dumps({"method": "private/set_cancel_on_disconnect", "id": 2,
                                    "params": {"timeout_secs": 60}}).decode())
        await ws.recv()
        ticker = [orjson.dumps({"method": "public/ticker", "id": 10 + i,
                                "params": {"instrument_name": INST}}) for i in range(n)]
        await _pipeline(ws, ticker[: n // 10])  # warm-up
        best = min([await _pipeline(ws, ticker) for _ in range(3)])
        print(f"public/ticker pipelined: {n} requests, best of 3: {n / best:,.0f} req/s")
        mix_best = float("inf")
        for rep in range(3):
            frames = _mix(n, 10_000_000 * (rep + 1))
            mix_best = min(mix_best, await _pipeline(ws, frames))
        print(f"trading mix (insert/cancel/amend/ticker) pipelined: {n} requests, best of 3: "
              f"{n / mix_best:,.0f} req/s")


async def _in_process(n: int, key_dir: str) -> float:
    """Best-of-3 requests/s of the trading mix handled in process (no sockets; see above)."""
    sim, _ = build_simulated_exchange(source=StaticSource(), key_dir=key_dir, rate_limits=HIGH,
                                      publish_interval_s=0.5)
    client = ClientConnection(ws=None, session_id="s1",  # type: ignore[arg-type]  # no socket
                              limiter=ConnectionRateLimiter(HIGH), account="MM")
    sim.engine.open_session(client.session_id, "MM")
    best = float("inf")
    for rep in range(3):
        frames = _mix(n, 10_000_000 * (rep + 1))
        t0 = time.perf_counter()
        for f in frames:
            await sim._on_frame(client, f)
        best = min(best, time.perf_counter() - t0)
        while not client.outbox.empty():
            client.outbox.get_nowait()
    return n / best


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    parent, child = mp.Pipe()
    with tempfile.TemporaryDirectory() as key_dir:
        proc = mp.get_context("spawn").Process(target=_serve, args=(child, key_dir), daemon=True)
        proc.start()
        url, kid, key_path = parent.recv()
        try:
            asyncio.run(_client(url, kid, key_path, n))
        finally:
            parent.send("stop")
            proc.join(10)
        rate = asyncio.run(_in_process(n, key_dir))
    print(f"trading mix handled in process (no sockets, responses queued): {rate:,.0f} req/s "
          f"({1e6 / rate:.1f} us per request)")
    print(f"  (server in its own process; CPU: {os.cpu_count()} cores; Python {sys.version.split()[0]})")


if __name__ == "__main__":
    main()
