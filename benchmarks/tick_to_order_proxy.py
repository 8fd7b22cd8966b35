"""Tick-to-order measured from outside: a transparent WebSocket proxy between bot and simulator.

Three independent parts, three processes' worth of separation:

- ``thalex-mm sim`` (a subprocess; synthetic market, ``--seed``) on 127.0.0.1;
- this script's proxy on 127.0.0.1: it forwards every frame unchanged in both directions and
  stamps (``time.perf_counter_ns``) market-data frames from the simulator and order requests
  from the bot;
- the bot as a user runs it, ``thalex-mm live --url ws://127.0.0.1:<proxy>`` (a subprocess;
  the default config unless ``--config``; dashboard off, journal in a temp directory).

The bot's code is whatever ``thalex_mm`` the subprocess imports: run this script with
``PYTHONPATH=/path/to/other/checkout/src`` to measure another version with the same proxy.

What is measured, per side of our quote (the proxy follows our orders from the requests and
from ``session.orders``, and the public mid from the book channel): the *tick* of a side is
the first book frame that moved the public mid since the bot's last order request on that
side (the same definition as the quoter's own tick-to-order, per side); its latency is the
time from that frame to the bot's next order request on that side. The request says what the
tick needed:

- *retreat needed*: the request moves that side away from the market (a cancel, an amend to
  a lower bid / higher ask);
- *advance*: it moves that side toward the market (an insert, an amend to a higher bid /
  lower ask). Size-only amends are not counted.

    .venv/bin/python benchmarks/tick_to_order_proxy.py [--duration 60] [--seed 3] [--config F]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

import numpy as np
import orjson
import websockets

_ORDER_METHODS = {"private/insert", "private/buy", "private/sell", "private/amend", "private/cancel"}


@dataclass
class Tracker:
    """Our orders (from the bot's requests and ``session.orders``) and the public mid."""

    bids: dict[float, float] = field(default_factory=dict)
    asks: dict[float, float] = field(default_factory=dict)
    mid: float | None = None
    by_cid: dict[int, tuple[str, float]] = field(default_factory=dict)  # cid -> (direction, price)
    by_oid: dict[str, int | str] = field(default_factory=dict)  # order id -> key in by_cid/oids
    oids: dict[str, tuple[str, float]] = field(default_factory=dict)  # orders known by order id only
    rest: dict[int | str, float] = field(default_factory=dict)  # key -> remaining amount resting
    tick_ns: dict[str, int | None] = field(default_factory=lambda: {"buy": None, "sell": None})
    latencies: dict[str, list[int]] = field(default_factory=lambda: {"retreat": [], "advance": []})
    recording: bool = False

    # ------------------------------------------------------------ simulator -> bot

    def on_server_frame(self, t_ns: int, raw: bytes | str) -> None:
        msg = orjson.loads(raw)
        channel = msg.get("channel_name") if isinstance(msg, dict) else None
        if channel is None:
            self._on_result(msg)
            return
        note = msg.get("notification")
        if channel.startswith("book."):
            self._on_book(t_ns, note)
        elif channel == "session.orders":
            for o in note or ():
                self._on_order_status(o)

    def _on_result(self, msg: dict) -> None:
        res = msg.get("result") if isinstance(msg, dict) else None
        if isinstance(res, dict) and "order_id" in res:
            self._on_order_status(res)

    def _on_order_status(self, o: dict) -> None:
        cid, oid = o.get("client_order_id"), o.get("order_id")
        key: int | str = cid if cid is not None else oid
        live = o.get("status") in ("open", "partially_filled")
        if oid is not None:
            self.by_oid[oid] = key
        if not live:
            self.by_cid.pop(key, None) if isinstance(key, int) else self.oids.pop(key, None)
            self.rest.pop(key, None)
        elif o.get("price") is not None:
            self.rest[key] = float(o.get("remaining_amount") or 0.0)
            entry = (o["direction"], float(o["price"]))
            if isinstance(key, int):
                self.by_cid[key] = entry
            else:
                self.oids[key] = entry

    def _on_book(self, t_ns: int, note: dict) -> None:
        for side, book in (("bid_changes", self.bids), ("ask_changes", self.asks)):
            for level in note.get(side, ()):
                price, amount = float(level[0]), float(level[1])
                if amount > 0:
                    book[price] = amount
                else:
                    book.pop(price, None)
        # the market's mid: the public book less our own resting size (our quotes at the touch
        # must not count as the market moving)
        own: dict[tuple[str, float], float] = {}
        for key, amount in self.rest.items():
            entry = self.by_cid.get(key) if isinstance(key, int) else self.oids.get(key)
            if entry is not None:
                own[entry] = own.get(entry, 0.0) + amount
        bids = [p for p, a in self.bids.items() if a - own.get(("buy", p), 0.0) > 1e-9]
        asks = [p for p, a in self.asks.items() if a - own.get(("sell", p), 0.0) > 1e-9]
        if not bids or not asks:
            return
        mid = 0.5 * (max(bids) + min(asks))
        before, self.mid = self.mid, mid
        if before is None or mid == before or not self.recording:
            return
        for direction, since in self.tick_ns.items():
            if since is None:
                self.tick_ns[direction] = t_ns

    # ------------------------------------------------------------ bot -> simulator

    def on_client_frame(self, t_ns: int, raw: bytes | str) -> None:
        msg = orjson.loads(raw)
        if not isinstance(msg, dict) or msg.get("method") not in _ORDER_METHODS:
            return
        p = msg.get("params") or {}
        method = msg["method"]
        if method in ("private/insert", "private/buy", "private/sell"):
            direction = p.get("direction") or method.split("/")[1]
            price = float(p.get("price") or 0.0)
            if p.get("client_order_id") is not None:
                self.by_cid[int(p["client_order_id"])] = (direction, price)
            self._hit(t_ns, direction, "advance")
            return
        entry = self._lookup(p)
        if entry is None:
            return
        direction, old = entry
        if method == "private/cancel":
            self._hit(t_ns, direction, "retreat")
            return
        new = float(p.get("price") or old)
        away = new < old if direction == "buy" else new > old
        if new != old:
            self._hit(t_ns, direction, "retreat" if away else "advance")
        else:
            self.tick_ns[direction] = None  # answered (a size change): not a price move
        self._store(p, (direction, new))

    def _lookup(self, p: dict) -> tuple[str, float] | None:
        if p.get("client_order_id") is not None:
            return self.by_cid.get(int(p["client_order_id"]))
        key = self.by_oid.get(p.get("order_id"))
        if isinstance(key, int):
            return self.by_cid.get(key)
        return self.oids.get(p.get("order_id"))

    def _store(self, p: dict, entry: tuple[str, float]) -> None:
        if p.get("client_order_id") is not None:
            self.by_cid[int(p["client_order_id"])] = entry
        elif p.get("order_id") is not None:
            self.oids[p["order_id"]] = entry

    def _hit(self, t_ns: int, direction: str, kind: str) -> None:
        since = self.tick_ns[direction]
        if since is not None and self.recording:
            self.latencies[kind].append(t_ns - since)
        self.tick_ns[direction] = None


async def run_proxy(upstream: str, tracker: Tracker) -> tuple[websockets.Server, int]:
    """Serve on 127.0.0.1 (an ephemeral port), one upstream connection per client."""

    async def handler(client: websockets.ServerConnection) -> None:
        async with websockets.connect(upstream, max_size=None, ping_interval=None) as server:

            async def down() -> None:
                async for frame in server:
                    t = time.perf_counter_ns()
                    await client.send(frame)
                    tracker.on_server_frame(t, frame)

            async def up() -> None:
                async for frame in client:
                    t = time.perf_counter_ns()
                    await server.send(frame)
                    tracker.on_client_frame(t, frame)

            tasks = [asyncio.create_task(down()), asyncio.create_task(up())]
            with contextlib.suppress(Exception):
                await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for t in tasks:
                t.cancel()

    server = await websockets.serve(handler, "127.0.0.1", 0, max_size=None, ping_interval=None)
    port = next(iter(server.sockets)).getsockname()[1]
    return server, port


def _start_sim(seed: int, key_dir: str) -> tuple[subprocess.Popen, dict[str, str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "thalex_mm", "sim", "--port", "0", "--seed", str(seed), "--key-dir", key_dir],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    info: dict[str, str] = {}
    assert proc.stdout is not None
    while len(info) < 3:
        line = proc.stdout.readline()
        if not line:
            raise SystemExit("thalex-mm sim did not start")
        key, _, value = line.strip().partition(" ")
        info[key] = value
    return proc, info


def _percentiles(ns: list[int]) -> str:
    if not ns:
        return "n = 0"
    ms = np.array(ns, dtype=np.float64) / 1e6
    return f"n = {len(ms):5d}   p50 {np.percentile(ms, 50):8.2f} ms   p99 {np.percentile(ms, 99):8.2f} ms"


async def main_async(args: argparse.Namespace) -> None:
    tracker = Tracker()
    with tempfile.TemporaryDirectory(prefix="thalex-mm-proxy-") as tmp:
        sim, info = _start_sim(args.seed, tmp)
        bot = None
        try:
            server, port = await run_proxy(info["URL"], tracker)
            env = {
                **os.environ,
                "THALEX_KEY_ID": info["KEY_ID"],
                "THALEX_PRIVATE_KEY_FILE": info["PRIVATE_KEY_FILE"],
                "THALEX_MM__MONITORING__DASHBOARD_ENABLED": "false",
            }
            cmd = [sys.executable, "-m", "thalex_mm", "live", "--network", "test",
                   "--url", f"ws://127.0.0.1:{port}", "--db", os.path.join(tmp, "journal.sqlite"),
                   "--duration", str(args.duration + args.warmup)]
            if args.config:
                cmd += ["--config", args.config]
            bot = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            await asyncio.sleep(args.warmup)
            tracker.recording = True
            await asyncio.sleep(args.duration)
            tracker.recording = False
            await asyncio.get_running_loop().run_in_executor(None, bot.wait)
            server.close()
        finally:
            for proc in (bot, sim):
                if proc is not None and proc.poll() is None:
                    proc.terminate()
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        proc.wait(timeout=10)
    print(f"tick-to-order through a transparent proxy, {args.duration:.0f} s of the synthetic market (seed {args.seed}), "
          f"{'config ' + args.config if args.config else 'default config'}")
    print(f"  retreat needed  {_percentiles(tracker.latencies['retreat'])}")
    print(f"  advance         {_percentiles(tracker.latencies['advance'])}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=60.0, help="seconds measured")
    ap.add_argument("--warmup", type=float, default=10.0, help="seconds before measuring (start-up, first quotes)")
    ap.add_argument("--seed", type=int, default=3, help="seed of the simulator's synthetic market")
    ap.add_argument("--config", help="the bot's TOML config (default: the default config)")
    asyncio.run(main_async(ap.parse_args()))


if __name__ == "__main__":
    main()
