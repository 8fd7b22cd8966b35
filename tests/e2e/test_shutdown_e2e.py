"""End-to-end: shutdown leaves zero open orders on the exchange; a paper session with fills."""

from __future__ import annotations

import asyncio

from e2e_harness import fast_config, run, running_bot

from thalex_mm.core.commands import CancelSession
from thalex_mm.drivers.paper import run_paper
from thalex_mm.sim.app import default_synthetic_params


def test_request_stop_cancels_everything_and_run_returns() -> None:
    cfg = fast_config(order={"levels": 3, "sizes": (0.01, 0.01, 0.02)})

    async def scenario() -> None:
        async with running_bot(cfg) as bot:
            await bot.until(lambda: len(bot.exchange_orders()) == 6, 5.0, "three levels per side")
            reason = await bot.stop("operator stop")
            assert reason == "operator stop"
            assert bot.runner.done()
            assert bot.exchange_orders() == ()
            assert not bot.quoter.ready and not bot.quoter.stats.connected
            # Nothing is quoted after the stop.
            assert bot.core.status().our_bid is None and bot.core.status().our_ask is None
            sent = bot.quoter.stats.commands_sent
            await asyncio.sleep(0.2)
            assert bot.quoter.stats.commands_sent == sent

    run(scenario())


def test_stop_while_throttled_still_leaves_no_orders() -> None:
    """Order messages are refused (code 4) when the stop comes: cancel_session is a cancel,
    not a matching-engine message, and still clears the book."""

    async def scenario() -> None:
        async with running_bot() as bot:
            await bot.until(bot.two_sided, 5.0, "quoting")
            bot.sim.faults.throttle_everything = True
            assert await bot.stop() == "test end"
            assert bot.exchange_orders() == ()

    run(scenario())


def test_kill_switch_pulls_quotes_and_keeps_them_pulled() -> None:
    async def scenario() -> None:
        async with running_bot() as bot:
            await bot.until(bot.two_sided, 5.0, "quoting")
            bot.quoter.press_kill_switch("test")
            await bot.until(lambda: not bot.exchange_orders(), 2.0, "the quotes to be pulled")
            assert any(isinstance(c, CancelSession) for _, c, _ in bot.sent)
            await bot.holds_for(lambda: not bot.exchange_orders(), 0.5, "no quotes after the kill")
            assert bot.core.status().trading_state == "halted"

    run(scenario())


def test_run_paper_with_a_duration_fills_and_ends_flat_on_orders() -> None:
    cfg = fast_config(order={"sizes": (0.01,)})  # explicit: every fill is at least 0.01
    started: list[object] = []

    async def scenario():
        return await run_paper(
            cfg,
            duration_s=4.0,
            seed=5,
            show_status=False,
            status_interval_s=0.1,
            sim_kwargs={
                "synthetic": default_synthetic_params(arrival_rate_per_s=20.0, k=0.15, background_offset_ticks=15),
                "publish_interval_s": 0.02,
            },
            on_started=lambda sim, quoter: started.append((sim, quoter)),
        )

    result = run(scenario(), timeout_s=15.0)
    assert len(started) == 1
    assert result.exit_reason == "duration reached"
    assert 4.0 <= result.seconds < 8.0
    assert result.fills > 0
    assert result.volume >= 0.01 * result.fills - 1e-9
    assert result.inserts >= 2
    assert result.open_orders_after == 0
    assert result.reconnects == 0
