"""Helpers for the end-to-end tests: a fast BOT_CONFIG, a running exchange + quoter, polling.

Every test is a plain sync test that calls :func:`run` (pytest-asyncio is not installed)::

    def test_x():
        async def scenario():
            async with running_bot(fast_config()) as bot:
                await bot.until(lambda: bot.quoter.ready, 3.0, "ready")
        run(scenario())

Conditions are polled with a deadline (:meth:`RunningBot.until`), never waited for with
fixed sleeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from thalex_mm.config.models import BotConfig
from thalex_mm.config.secrets import Credentials, Secret
from thalex_mm.core.commands import Command
from thalex_mm.core.events import OrderReport
from thalex_mm.core.market_maker import MarketMakerCore
from thalex_mm.core.order_records import TrackedOrder
from thalex_mm.core.types import Side
from thalex_mm.drivers.quoter import AvellanedaQuoter
from thalex_mm.sim.app import SimKeys, running_simulated_exchange
from thalex_mm.sim.server import SimExchange

__all__ = ["INSTRUMENT", "RunningBot", "SteppingSource", "fast_config", "run", "running_bot"]

INSTRUMENT = "BTC-PERPETUAL"

#: Settings that make a scenario play out in seconds: quick requotes, pings, COD, reconnects.
FAST: dict[str, dict[str, Any]] = {
    "quoting": {"min_requote_interval_ms": 20},
    "connection": {
        "ping_interval_s": 0.5,
        "cancel_on_disconnect_timeout_s": 2,
        "reconnect_initial_s": 0.05,
        "reconnect_cap_s": 0.5,
        "request_timeout_s": 2.0,
        "throttle_cooldown_initial_s": 0.2,
        "throttle_cooldown_cap_s": 1.0,
        "stale_reconnect_s": 30.0,
    },
    "risk": {"stale_data_timeout_s": 1.0},
    "avellaneda": {"estimate_intensity": False},
}


def fast_config(**sections: dict[str, Any]) -> BotConfig:
    """BOT_CONFIG with :data:`FAST` settings; keyword arguments override keys per section,
    e.g. ``fast_config(risk={"stale_data_timeout_s": 0.5})``."""
    merged: dict[str, dict[str, Any]] = {k: dict(v) for k, v in FAST.items()}
    for name, values in sections.items():
        merged.setdefault(name, {}).update(values)
    return BotConfig.model_validate(merged)


def run(coro: Coroutine[Any, Any, Any], timeout_s: float = 20.0) -> Any:
    """Run one scenario on a fresh event loop, bounded by ``timeout_s`` seconds."""
    return asyncio.run(asyncio.wait_for(coro, timeout_s))


@dataclass
class RunningBot:
    """A simulated exchange and a quoter logged in to it (``runner`` runs ``quoter.run()``)."""

    sim: SimExchange
    keys: SimKeys
    config: BotConfig
    core: MarketMakerCore
    quoter: AvellanedaQuoter
    runner: asyncio.Task[str]
    sent: list[tuple[int, Command, int]] = field(default_factory=list)

    async def until(self, condition: Callable[[], bool], timeout_s: float, what: str) -> None:
        """Poll ``condition`` every 10 ms until true; fail naming ``what`` after ``timeout_s``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while not condition():
            if self.runner.done():
                exc = self.runner.exception() if not self.runner.cancelled() else None
                raise AssertionError(f"quoter ended while waiting for {what}: {exc or self.runner.result()!r}")
            if loop.time() >= deadline:
                raise AssertionError(f"timed out after {timeout_s} s waiting for {what}; {self.describe()}")
            await asyncio.sleep(0.01)

    async def holds_for(self, condition: Callable[[], bool], duration_s: float, what: str) -> None:
        """Fail as soon as ``condition`` turns false within ``duration_s`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + duration_s
        while loop.time() < deadline:
            if not condition():
                raise AssertionError(f"{what} stopped holding; {self.describe()}")
            await asyncio.sleep(0.01)

    def exchange_orders(self) -> tuple[OrderReport, ...]:
        """The exchange's live orders of our account."""
        return tuple(self.sim.open_orders(self.keys.account))

    def core_orders(self) -> list[TrackedOrder]:
        """The core's non-terminal orders (live or in flight)."""
        return self.core.orders.active_orders(INSTRUMENT)

    def two_sided(self) -> bool:
        """The exchange holds exactly one bid and one ask of ours."""
        sides = sorted(o.side.value for o in self.exchange_orders())
        return sides == [Side.BUY.value, Side.SELL.value]

    def exchange_position(self) -> float:
        return self.sim.position(self.keys.account, INSTRUMENT)

    def in_sync(self) -> bool:
        """The exchange's open orders and the core's live orders are the same set (no orphan,
        nothing in flight), by order id, side and price."""
        ex = {(o.order_id, o.side, o.price) for o in self.exchange_orders()}
        core = {(o.order_id, o.side, o.price) for o in self.core_orders() if o.pending_price is None}
        return len(self.core_orders()) == len(core) and ex == core

    def describe(self) -> str:
        s = self.core.status()
        ex = [(o.side.value, o.price, o.remaining_amount) for o in self.exchange_orders()]
        st = self.quoter.stats
        return (
            f"state={s.trading_state}:{s.state_reason} ready={self.quoter.ready} connects={st.connects} "
            f"last_error={st.last_error!r} fv={s.fair_value} exchange_orders={ex} core_orders={s.open_orders} "
            f"position={s.position} throttles={s.throttles}"
        )

    async def stop(self, reason: str = "test end", timeout_s: float = 5.0) -> str:
        """``request_stop`` and wait for ``run()`` to return; returns its exit reason."""
        self.quoter.request_stop(reason)
        return await asyncio.wait_for(asyncio.shield(self.runner), timeout_s)


@contextlib.asynccontextmanager
async def running_bot(
    config: BotConfig | None = None,
    *,
    seed: int = 1,
    wait_ready_s: float | None = 5.0,
    quoter_kwargs: dict[str, Any] | None = None,
    **sim_kwargs: Any,
) -> AsyncIterator[RunningBot]:
    """Start a simulated exchange (fast public feed by default) and a quoter against it.

    Args:
        config: BOT_CONFIG (default :func:`fast_config`).
        seed: seed of the synthetic market.
        wait_ready_s: wait this long for the quoter to be synchronised (None: don't wait).
        quoter_kwargs: more keyword arguments for ``AvellanedaQuoter`` (e.g. ``monotonic_s``).
        sim_kwargs: more arguments for ``build_simulated_exchange`` (faults, rate_limits,
            synthetic, publish_interval_s ...).
    """
    config = config or fast_config()
    sim_kwargs.setdefault("publish_interval_s", 0.02)
    sim_kwargs.setdefault("ping_interval_s", 0.25)
    with tempfile.TemporaryDirectory(prefix="thalex-mm-e2e-") as key_dir:
        async with running_simulated_exchange(seed=seed, key_dir=key_dir, **sim_kwargs) as (sim, keys):
            creds = Credentials(key_id=keys.kid, private_key=Secret(keys.private_key_pem()))
            core = MarketMakerCore(config)
            sent: list[tuple[int, Command, int]] = []
            quoter = AvellanedaQuoter(
                config, sim.url, creds, core, on_command=lambda rid, cmd, ts: sent.append((rid, cmd, ts)),
                **(quoter_kwargs or {}),
            )
            runner = asyncio.create_task(quoter.run(), name="quoter")
            bot = RunningBot(sim=sim, keys=keys, config=config, core=core, quoter=quoter, runner=runner, sent=sent)
            try:
                if wait_ready_s is not None:
                    await bot.until(lambda: quoter.ready, wait_ready_s, "the quoter to synchronise")
                yield bot
            finally:
                if not runner.done():
                    quoter.request_stop("test end")
                    with contextlib.suppress(Exception, asyncio.CancelledError):
                        await asyncio.wait_for(runner, 5.0)
                if not runner.done():
                    runner.cancel()
                    with contextlib.suppress(BaseException):
                        await runner


class SteppingSource:
    """A market source whose mid alternates between ``mid`` and ``mid + step`` (ticks of 1 USD)
    on every publish cycle: each update forces a requote. Background book of ``levels`` levels
    each side from 3 ticks outside the mid."""

    def __init__(self, mid: float = 65_000.0, step: int = 4, levels: int = 5, size: float = 0.5) -> None:
        self.mid, self.step, self.levels, self.size = mid, step, levels, size
        self.up = False
        self._live: set[tuple[int, float]] = set()

    def due_until(self, now_ns: int) -> Any:
        import numpy as np

        from thalex_mm.data.events import MARKET_EVENT_DTYPE, EventKind

        mid = self.mid + (self.step if self.up else 0)
        self.up = not self.up
        new = {(s, mid - s * (3 + i)) for s in (1, -1) for i in range(self.levels)}
        rows = [(EventKind.BOOK_LEVEL, s, p, 0.0) for s, p in self._live - new]
        rows += [(EventKind.BOOK_LEVEL, s, p, self.size) for s, p in new - self._live]
        self._live = new
        out = np.zeros(len(rows), dtype=MARKET_EVENT_DTYPE)
        for i, (k, s, p, q) in enumerate(rows):
            out[i] = (k, s, now_ns, now_ns, p, q)
        return out
