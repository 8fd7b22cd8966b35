"""Loopback tick-to-order latency: simulated exchange → bot → order request back at the exchange.

The simulated exchange and the quoter run in one process (as in ``thalex-mm paper``) over a
real WebSocket on 127.0.0.1. A market source moves the mid by ``--step`` ticks every
``--interval-ms`` (alternating up and down, background book of 5 levels each side), so every
book update forces a requote (``min_requote_interval_ms = 0``, ``amend_tolerance_ticks = 0``);
rate limits are raised on both sides so the message budget never binds.

Stamps (``time.perf_counter_ns``, one clock for both ends):

- *sent*: when the exchange publishes a book update (``MarketFeed.publish`` wrapped here: the
  frame is queued to the client's writer at that moment);
- *arrived*: when the first order request (insert/amend/mass quote) after that update reaches
  the exchange's frame handler (``SimExchange._on_frame`` wrapped here).

The latency of an update is arrived − sent (it includes the exchange's own writer task, the
socket both ways, decoding, the core's quote step and encoding). Updates after which no order
request arrived before the next update are counted as "no order".

    .venv/bin/python benchmarks/tick_to_order.py [--updates 1000] [--interval-ms 5] [--step 4]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import time

import numpy as np

from thalex_mm.config.models import BotConfig
from thalex_mm.config.secrets import Credentials, Secret
from thalex_mm.core.market_maker import MarketMakerCore
from thalex_mm.data.events import MARKET_EVENT_DTYPE, EventKind
from thalex_mm.drivers.quoter import AvellanedaQuoter
from thalex_mm.sim.app import running_simulated_exchange
from thalex_mm.sim.rate_limit import RateLimits

ORDER_METHODS = (b"private/insert", b"private/amend", b"private/buy", b"private/sell", b"private/mass_quote")
HIGH = RateLimits(me_per_s=10**9, me_cod_per_s=10**9, cancels_per_s=10**9)


class SteppingSource:
    """A book whose mid alternates between ``mid`` and ``mid + step`` ticks on every call."""

    def __init__(self, mid: float = 65_000.0, step: int = 4, levels: int = 5, size: float = 0.5) -> None:
        self.mid, self.step, self.levels, self.size = mid, step, levels, size
        self.up = False
        self.moves = 0
        self._live: set[tuple[int, float]] = set()

    def _book(self, mid: float) -> set[tuple[int, float]]:
        return {(s, mid + s * -(3 + i)) for s in (1, -1) for i in range(self.levels)}

    def due_until(self, now_ns: int) -> np.ndarray:
        mid = self.mid + (self.step if self.up else 0)
        self.up = not self.up
        self.moves += 1
        new = self._book(mid)
        rows = [(EventKind.BOOK_LEVEL, s, p, 0.0) for s, p in self._live - new]
        rows += [(EventKind.BOOK_LEVEL, s, p, self.size) for s, p in new - self._live]
        self._live = new
        out = np.zeros(len(rows), dtype=MARKET_EVENT_DTYPE)
        for i, (k, s, p, q) in enumerate(rows):
            out[i] = (k, s, now_ns, now_ns, p, q)
        return out


def bot_config() -> BotConfig:
    return BotConfig.model_validate(
        {
            "quoting": {"min_requote_interval_ms": 0, "funding_adjust": False},
            "order": {"amend_tolerance_ticks": 0},
            "avellaneda": {"estimate_intensity": False},
            "connection": {"me_rate_per_s": 1e9, "me_rate_cod_per_s": 1e9, "ping_interval_s": 1.0},
        }
    )


async def measure(updates: int, interval_ms: float, step: int, warmup: int) -> dict[str, float]:
    source = SteppingSource(step=step)
    sent: list[int] = []  # perf_counter_ns of each book update published
    latency: dict[int, int] = {}  # update index -> ns
    extra_orders = 0
    recording = False
    with tempfile.TemporaryDirectory(prefix="thalex-mm-bench-") as key_dir:
        async with running_simulated_exchange(
            source=source, key_dir=key_dir, rate_limits=HIGH, publish_interval_s=interval_ms / 1000
        ) as (sim, keys):
            publish = sim.feed.publish
            on_frame = sim._on_frame

            def stamped_publish(frames: dict[str, bytes]) -> None:
                if recording and any(name.startswith("book.") for name in frames):
                    sent.append(time.perf_counter_ns())
                publish(frames)

            async def stamped_on_frame(client, data) -> None:  # type: ignore[no-untyped-def]
                nonlocal extra_orders
                t = time.perf_counter_ns()
                raw = data if isinstance(data, bytes) else data.encode()
                if sent and any(m in raw for m in ORDER_METHODS):
                    i = len(sent) - 1
                    if i not in latency:
                        latency[i] = t - sent[i]
                    else:
                        extra_orders += 1
                await on_frame(client, data)

            sim.feed.publish = stamped_publish
            sim._on_frame = stamped_on_frame  # type: ignore[method-assign]
            cfg = bot_config()
            creds = Credentials(key_id=keys.kid, private_key=Secret(keys.private_key_pem()))
            core = MarketMakerCore(cfg)
            quoter = AvellanedaQuoter(cfg, sim.url, creds, core)
            runner = asyncio.create_task(quoter.run())
            deadline = time.monotonic() + 10
            while not (quoter.ready and len(sim.open_orders(keys.account)) == 2):
                if time.monotonic() > deadline or runner.done():
                    raise SystemExit(f"the quoter did not start quoting: {quoter.stats.last_error}")
                await asyncio.sleep(0.01)
            await asyncio.sleep(warmup * interval_ms / 1000)
            recording = True
            while len(sent) < updates + 1:
                await asyncio.sleep(interval_ms / 1000)
            recording = False
            quoter.request_stop("benchmark done")
            with contextlib.suppress(Exception):
                await asyncio.wait_for(runner, 5)
            left = len(sim.open_orders(keys.account))
    n = updates  # the last update may still be in flight: leave it out
    lat = np.array([latency[i] for i in range(n) if i in latency], dtype=np.float64) / 1e3
    return {
        "updates": float(n),
        "with_order": float(len(lat)),
        "no_order": float(n - len(lat)),
        "extra_orders": float(extra_orders),
        "p50_us": float(np.percentile(lat, 50)) if len(lat) else float("nan"),
        "p90_us": float(np.percentile(lat, 90)) if len(lat) else float("nan"),
        "p99_us": float(np.percentile(lat, 99)) if len(lat) else float("nan"),
        "max_us": float(lat.max()) if len(lat) else float("nan"),
        "mean_us": float(lat.mean()) if len(lat) else float("nan"),
        "open_orders_after": float(left),
        "commands_sent": float(quoter.stats.commands_sent),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--updates", type=int, default=1000, help="book updates measured (>= 1000 for the note)")
    ap.add_argument("--interval-ms", type=float, default=5.0, help="time between mid moves, ms")
    ap.add_argument("--step", type=int, default=4, help="mid move, ticks")
    ap.add_argument("--warmup", type=int, default=100, help="updates before measuring")
    args = ap.parse_args()
    r = asyncio.run(measure(args.updates, args.interval_ms, args.step, args.warmup))
    print(f"tick-to-order latency over loopback (one process), {int(r['updates'])} updates every {args.interval_ms} ms, mid ±{args.step} ticks")
    print(f"  updates with an order request   {int(r['with_order'])} (no order: {int(r['no_order'])}; later requests per update: {int(r['extra_orders'])})")
    print(f"  p50  {r['p50_us'] / 1000:8.3f} ms")
    print(f"  p90  {r['p90_us'] / 1000:8.3f} ms")
    print(f"  p99  {r['p99_us'] / 1000:8.3f} ms")
    print(f"  max  {r['max_us'] / 1000:8.3f} ms   mean {r['mean_us'] / 1000:.3f} ms")
    print(f"  commands sent {int(r['commands_sent'])}; open orders after shutdown {int(r['open_orders_after'])}")


if __name__ == "__main__":
    main()
