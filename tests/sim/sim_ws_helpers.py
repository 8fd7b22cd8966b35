"""A small raw JSON-RPC WebSocket client for simulator tests, and a runner for async bodies."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from thalex_mm.protocol.auth import IatSequencer, make_login_token
from thalex_mm.sim.app import SimKeys, build_simulated_exchange
from thalex_mm.sim.server import SimExchange
from thalex_mm.sim.static_source import StaticSource

IATS = IatSequencer()
FAST = {"ping_interval_s": 0.1, "publish_interval_s": 0.02}


class Client:
    """Send requests, collect responses by id and notifications in arrival order."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.responses: dict[Any, dict] = {}
        self.notes: list[dict] = []
        self.raw: list[str] = []
        self.order: list[Any] = []  # response ids in arrival order
        self._next_id = 1000

    @classmethod
    async def open(cls, url: str) -> Client:
        return cls(await connect(url, ping_interval=None, close_timeout=1))

    async def send(self, method: str, params: dict | None = None, rid: Any = None) -> Any:
        if rid is None:
            self._next_id += 1
            rid = self._next_id
        frame: dict[str, Any] = {"method": method, "id": rid}
        if params is not None:
            frame["params"] = params
        await self.ws.send(orjson.dumps(frame).decode())
        return rid

    async def _read_one(self, timeout: float) -> None:
        data = await asyncio.wait_for(self.ws.recv(), timeout)
        self.raw.append(data)
        try:
            msg = orjson.loads(data)
        except orjson.JSONDecodeError:
            return
        if "channel_name" in msg:
            self.notes.append(msg)
        else:
            self.responses[msg.get("id")] = msg
            self.order.append(msg.get("id"))

    async def response(self, rid: Any, timeout: float = 3.0) -> dict:
        loop = asyncio.get_running_loop()
        until = loop.time() + timeout
        while rid not in self.responses:
            await self._read_one(max(0.01, until - loop.time()))
        return self.responses[rid]

    async def call(self, method: str, params: dict | None = None, timeout: float = 3.0) -> dict:
        if params is None:
            params = {}
        return await self.response(await self.send(method, params), timeout)

    async def note(self, pred: Callable[[dict], bool], timeout: float = 2.0) -> dict:
        """The first notification (already received or arriving) matching ``pred``."""
        loop = asyncio.get_running_loop()
        until = loop.time() + timeout
        seen = 0
        while True:
            for n in self.notes[seen:]:
                if pred(n):
                    return n
            seen = len(self.notes)
            await self._read_one(max(0.01, until - loop.time()))

    async def drain(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        until = loop.time() + seconds
        while (left := until - loop.time()) > 0:
            try:
                await self._read_one(left)
            except (TimeoutError, ConnectionClosed):
                return

    async def login(self, keys: SimKeys) -> dict:
        token = make_login_token(keys.kid, keys.private_key_pem(), IATS.next_iat(keys.kid, time.time()))
        return await self.call("public/login", {"token": token})

    async def close(self) -> None:
        await self.ws.close()


def run_sim(body: Callable[[SimExchange, SimKeys], Awaitable[None]], tmp_path, **kwargs: Any) -> None:
    """Build an exchange (a static market unless a source/synthetic is given), start it, run
    ``body(sim, keys)``, stop it."""
    opts: dict[str, Any] = {**FAST, "key_dir": tmp_path}
    if "synthetic" not in kwargs and "source" not in kwargs:
        opts["source"] = StaticSource()
    opts.update(kwargs)

    async def main() -> None:
        sim, keys = build_simulated_exchange(**opts)
        await sim.start()
        try:
            await body(sim, keys)
        finally:
            await sim.stop()

    asyncio.run(main())


def order_params(price: float, amount: float = 0.01, direction: str = "buy", **kw: Any) -> dict:
    return {"direction": direction, "instrument_name": "BTC-PERPETUAL", "amount": amount,
            "price": price, "order_type": "limit", **kw}
