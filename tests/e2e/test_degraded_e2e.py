"""End-to-end: a throttle storm gives a cooldown, not a crash; a stale feed pulls the quotes
and, if it lasts, forces a reconnect; quoting resumes when the exchange is healthy again."""

from __future__ import annotations

import asyncio

from e2e_harness import fast_config, run, running_bot

from thalex_mm.core.types import Side


def test_throttle_storm_gives_cooldown_not_a_crash() -> None:
    cfg = fast_config(
        connection={"throttle_cooldown_initial_s": 0.2, "throttle_cooldown_cap_s": 0.8},
        # Requote on every small move so the storm meets many order messages.
        order={"amend_tolerance_ticks": 0},
    )

    async def scenario() -> None:
        async with running_bot(cfg) as bot:
            await bot.until(lambda: bot.two_sided() and bot.in_sync(), 5.0, "quoting")
            sent_before = bot.quoter.stats.commands_sent
            bot.sim.faults.throttle_everything = True
            core = bot.core
            seen_cooldown = False

            def cooling() -> bool:
                nonlocal seen_cooldown
                seen_cooldown = seen_cooldown or core.budget.in_cooldown(core.status().ts_ns)
                return core.status().throttles > 0 and seen_cooldown

            await bot.until(cooling, 4.0, "a throttle and the budget in cooldown")
            await asyncio.sleep(2.0)  # let the storm last
            throttles = core.status().throttles
            sent_in_storm = bot.quoter.stats.commands_sent - sent_before
            bot.sim.faults.throttle_everything = False
            # The cooldown backs off: far fewer messages than the 50/s COD budget allows.
            assert throttles >= 1
            assert sent_in_storm < 40, sent_in_storm
            assert bot.quoter.stats.connects == 1 and bot.quoter.stats.task_failures == 0
            await bot.until(lambda: bot.two_sided() and bot.in_sync(), 5.0, "quoting to resume")
            assert not bot.runner.done()
            assert await bot.stop() == "test end"
            assert bot.exchange_orders() == ()

    run(scenario())


def test_stale_feed_pulls_quotes_and_quoting_resumes() -> None:
    stale_s = 0.6
    cfg = fast_config(risk={"stale_data_timeout_s": stale_s}, connection={"stale_reconnect_s": 30.0})

    async def scenario() -> None:
        async with running_bot(cfg) as bot:
            await bot.until(lambda: bot.two_sided() and bot.in_sync(), 5.0, "quoting")
            loop_time = bot.runner.get_loop().time
            bot.sim.faults.freeze_market = True
            frozen_at = loop_time()
            await bot.until(lambda: not bot.exchange_orders(), stale_s + 1.0, "the quotes to be pulled")
            pulled_after = loop_time() - frozen_at
            assert pulled_after >= stale_s * 0.8, pulled_after  # not before the data is stale
            st = bot.core.status()
            assert (st.trading_state, st.state_reason) != ("active", "resumed")
            assert st.state_reason == "stale_data", st
            await bot.holds_for(lambda: not bot.exchange_orders(), 0.5, "no quotes while stale")
            bot.sim.faults.freeze_market = False
            await bot.until(lambda: bot.two_sided() and bot.in_sync(), 3.0, "quoting to resume")
            assert bot.quoter.stats.connects == 1  # short staleness: no reconnect
            assert bot.core.status().trading_state == "active"

    run(scenario())


def test_lasting_stale_feed_forces_a_reconnect() -> None:
    cfg = fast_config(risk={"stale_data_timeout_s": 0.5}, connection={"stale_reconnect_s": 1.5})

    async def scenario() -> None:
        async with running_bot(cfg) as bot:
            await bot.until(bot.two_sided, 5.0, "quoting")
            bot.sim.faults.freeze_market = True
            await bot.until(lambda: bot.quoter.stats.connects >= 2, 5.0, "a forced reconnect")
            assert "stale" in bot.quoter.stats.last_error
            bot.sim.faults.freeze_market = False
            await bot.until(lambda: bot.quoter.ready and bot.two_sided() and bot.in_sync(), 5.0, "quoting again")
            sides = sorted(o.side for o in bot.exchange_orders())
            assert sides == [Side.BUY, Side.SELL]

    run(scenario())
