"""End-to-end: an exception inside a quoter task (a bug in the core, say) pulls the quotes,
is reported with its traceback, and the quoter restarts; a fault that keeps coming ends the
run as fatal with nothing left working at the exchange.

The fault is injected by wrapping the real core: ``handle`` raises while armed.
"""

from __future__ import annotations

import asyncio
from typing import Any

from e2e_harness import RunningBot, fast_config, run, running_bot

from thalex_mm.core.events import Event, OrdersUpdated
from thalex_mm.core.market_maker import MarketMakerCore
from thalex_mm.sim.app import default_synthetic_params

#: An abandoned (unclosed) socket stays up for 20+ s: the client's keepalive gives up after
#: 10 s + 20 s, the exchange's cancel-on-disconnect after 30 s without pongs.
SLOW_PINGS: dict[str, Any] = {"ping_interval_s": 10.0, "cancel_on_disconnect_timeout_s": 30}


def _quiet_market() -> Any:
    """A synthetic market with no trades and a still mid: our quotes never fill, so only a
    cancel (cancel-on-disconnect when the socket closes) takes them off the exchange."""
    return default_synthetic_params(arrival_rate_per_s=1e-9, sigma=0.0)


class InjectedFault(RuntimeError):
    """The bug the tests plant in the core."""


class FaultyCore:
    """Delegates to a real core; ``handle`` raises :class:`InjectedFault` while armed.

    Also records every open-orders snapshot (``open_orders`` answer, ``session.orders``
    subscription snapshot) that arrives after the first fault: what the exchange still held
    of ours when the new connection started.
    """

    def __init__(self, core: MarketMakerCore) -> None:
        self._core = core
        self._raises_left = 0  # -1: for ever
        self.raised = 0
        self.order_snapshots: list[tuple[Any, ...]] = []

    def fail(self, times: int) -> None:
        """Raise on the next ``times`` events (-1: on every event from now on)."""
        self._raises_left = times

    def handle(self, event: Event) -> Any:
        if self.raised and isinstance(event, OrdersUpdated) and event.snapshot:
            self.order_snapshots.append(event.orders)
        if self._raises_left:
            self._raises_left -= 1 if self._raises_left > 0 else 0
            self.raised += 1
            raise InjectedFault(f"injected core fault #{self.raised} on {type(event).__name__}")
        return self._core.handle(event)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._core, name)


def _install(bot: RunningBot) -> FaultyCore:
    faulty = FaultyCore(bot.core)
    bot.quoter.core = faulty  # type: ignore[assignment]
    return faulty


async def _eventually(condition: Any, timeout_s: float, what: str) -> None:
    """Poll ``condition`` (10 ms) until true, also after the quoter has ended."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not condition():
        if loop.time() >= deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        await asyncio.sleep(0.01)


def test_one_off_task_fault_pulls_quotes_reports_traceback_and_quoting_resumes() -> None:
    async def scenario() -> None:
        async with running_bot(fast_config()) as bot:
            faulty = _install(bot)
            await bot.until(bot.two_sided, 5.0, "quoting")
            before = {o.order_id for o in bot.exchange_orders()}
            assert len(before) == 2
            faulty.fail(1)
            await bot.until(lambda: bot.quoter.stats.task_failures == 1, 5.0, "the task failure")
            await bot.until(lambda: bot.quoter.ready and bot.two_sided(), 5.0, "quoting to resume")
            # The failed connection was closed before the restart, so cancel-on-disconnect had
            # pulled both quotes: the exchange's open orders at the resync held none of ours.
            assert faulty.order_snapshots and all(o == () for o in faulty.order_snapshots)
            assert not before & {o.order_id for o in bot.exchange_orders()}
            stats = bot.quoter.stats
            assert faulty.raised == 1
            assert stats.reconnects == 1 and stats.task_failures == 1
            assert stats.consecutive_task_failures == 1
            assert any(e.startswith("InjectedFault: injected core fault #1") for e in stats.errors)
            (tb,) = stats.tracebacks
            assert tb.startswith("Traceback (most recent call last):")
            assert "in handle" in tb and "InjectedFault: injected core fault #1" in tb
            assert bot.in_sync()
            assert await bot.stop() == "test end"
            assert bot.exchange_orders() == ()

    run(scenario())


def test_persistent_task_fault_ends_fatal_with_no_order_left_at_the_exchange() -> None:
    """The core raises on every event, Disconnected included: each connection must still be
    closed (cancel-on-disconnect), or the old socket keeps pinging and the quotes stay up.
    Pings and the cancel-on-disconnect timeout are slow (:data:`SLOW_PINGS`), so only a closed
    socket pulls the quotes in time: an abandoned one would be dropped only after 20-30 s."""
    cfg = fast_config(connection={"max_task_failures": 2, **SLOW_PINGS})

    async def scenario() -> None:
        async with running_bot(cfg, synthetic=_quiet_market()) as bot:
            faulty = _install(bot)
            await bot.until(bot.two_sided, 5.0, "quoting")
            faulty.fail(-1)
            reason = await asyncio.wait_for(asyncio.shield(bot.runner), 10.0)
            assert reason.startswith("fatal: InjectedFault: injected core fault"), reason
            stats = bot.quoter.stats
            assert stats.task_failures == 3 and stats.consecutive_task_failures == 3
            assert len(stats.tracebacks) == 3
            assert not stats.connected and not bot.quoter.ready
            await _eventually(lambda: bot.exchange_orders() == (), 3.0, "the exchange to hold no order of ours")

    run(scenario())


def test_task_failure_limit_resets_after_a_stable_connection() -> None:
    """``max_task_failures = 1``: two failures in a row are fatal, but failures each after a
    connection that stayed up ``stable_reset_s`` are isolated and never add up."""
    now = [1000.0]
    cfg = fast_config(connection={"max_task_failures": 1, "stable_reset_s": 60.0, **SLOW_PINGS})

    async def scenario() -> None:
        async with running_bot(cfg, synthetic=_quiet_market(), quoter_kwargs={"monotonic_s": lambda: now[0]}) as bot:
            faulty = _install(bot)
            for n in range(1, 4):
                await bot.until(lambda: bot.quoter.ready and bot.two_sided(), 5.0, f"quoting before fault {n}")
                now[0] += 61.0  # this connection has been up longer than stable_reset_s
                faulty.fail(1)
                await bot.until(lambda n=n: bot.quoter.stats.task_failures == n, 5.0, f"task failure {n}")
                assert bot.quoter.stats.consecutive_task_failures == 1
            await bot.until(lambda: bot.quoter.ready and bot.two_sided(), 5.0, "quoting after three faults")
            assert not bot.runner.done()
            # A fault that keeps coming, no stable period since the last one: the next is fatal.
            faulty.fail(-1)
            reason = await asyncio.wait_for(asyncio.shield(bot.runner), 10.0)
            assert reason.startswith("fatal: InjectedFault"), reason
            assert bot.quoter.stats.task_failures == 4  # the third fault had not been followed by a stable period
            assert bot.quoter.stats.consecutive_task_failures == 2
            await _eventually(lambda: bot.exchange_orders() == (), 3.0, "the exchange to hold no order of ours")

    run(scenario())
