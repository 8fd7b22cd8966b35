"""End-to-end: injected disconnects, the ``system`` reconnect event, leftovers at start-up.

After every reconnect the quoter must log in again, resubscribe, snapshot and reconcile, and
then the exchange's open orders and the core's live orders must be the same set: no duplicate
(at most one order per side and level), no orphan (every exchange order known to the core).
The bot runs with cancel-on-disconnect, so the dropped session's orders are gone.
"""

from __future__ import annotations

from collections import Counter

import pytest
from e2e_harness import INSTRUMENT, RunningBot, fast_config, run, running_bot

from thalex_mm.core.types import Side
from thalex_mm.sim.faults import FaultPlan


def _at_most_per_side(bot: RunningBot, n: int) -> bool:
    counts = Counter(o.side for o in bot.exchange_orders())
    return all(c <= n for c in counts.values())


def _quoting(bot: RunningBot, levels: int) -> bool:
    counts = Counter(o.side for o in bot.exchange_orders())
    return counts[Side.BUY] == levels and counts[Side.SELL] == levels


@pytest.mark.parametrize("how", ["drop_all_connections", "drop_after_messages"])
def test_disconnect_relogin_resubscribe_reconcile_no_duplicate_no_orphan(how: str) -> None:
    levels = 2
    cfg = fast_config(order={"levels": levels, "sizes": (0.01, 0.02)})
    # drop_after_messages: the 16th request of the first connection is not processed (an order
    # command in flight is lost with the connection).
    faults = FaultPlan(drop_after_messages=15) if how == "drop_after_messages" else FaultPlan()

    async def scenario() -> None:
        async with running_bot(cfg, faults=faults) as bot:
            if how == "drop_all_connections":
                await bot.until(lambda: _quoting(bot, levels), 5.0, "two levels per side")
                await bot.until(bot.in_sync, 2.0, "core and exchange to agree before the drop")
                first_session = {o.order_id for o in bot.exchange_orders()}
                await bot.sim.drop_all_connections()
            else:
                first_session = set()
                await bot.until(lambda: bot.quoter.stats.connects >= 2, 5.0, "the injected drop")
            await bot.until(lambda: bot.quoter.stats.connects == 2 and bot.quoter.ready, 5.0, "reconnect")
            assert bot.quoter.stats.reconnects == 1
            await bot.until(lambda: _quoting(bot, levels) and bot.in_sync(), 5.0, "quoting to resume, in sync")
            # Cancel-on-disconnect: nothing of the dropped session survived.
            assert not first_session & {o.order_id for o in bot.exchange_orders()}
            # The new orders belong to the new session only, and keep agreeing with the core.
            await bot.holds_for(lambda: _at_most_per_side(bot, levels), 1.0, "at most one order per side/level")
            # A fill can take a level away for one requote interval: wait for full, agreeing books.
            await bot.until(lambda: bot.in_sync() and _quoting(bot, levels), 2.0, "core and exchange to agree after quoting on")
            core_ids = {o.order_id for o in bot.core_orders()}
            assert core_ids == {o.order_id for o in bot.exchange_orders()}
            assert len(core_ids) == 2 * levels
            assert bot.quoter.stats.connects == 2
            assert bot.quoter.stats.task_failures == 0, list(bot.quoter.stats.errors)
            assert await bot.stop() == "test end"
            assert bot.exchange_orders() == ()

    run(scenario())


def test_system_reconnect_event_reconnects_early_and_cleanly() -> None:
    async def scenario() -> None:
        async with running_bot() as bot:
            await bot.until(bot.two_sided, 5.0, "quoting")
            await bot.sim.announce_reconnect()
            await bot.until(lambda: bot.quoter.stats.connects == 2 and bot.quoter.ready, 3.0, "the early reconnect")
            await bot.until(lambda: bot.two_sided() and bot.in_sync(), 3.0, "quoting to resume, in sync")
            st = bot.quoter.stats
            assert st.last_error == "" and st.task_failures == 0, (st.last_error, list(st.errors))
            assert await bot.stop() == "test end"
            assert bot.exchange_orders() == ()

    run(scenario())


def test_leftover_persistent_order_is_reconciled_at_start_up() -> None:
    """An order left by an earlier process (persistent session) is on the exchange before the
    bot logs in: the open-orders snapshot adopts it and the bot cancels or reuses it; it is
    never left unknown to the core."""

    async def scenario() -> None:
        async with running_bot(wait_ready_s=None) as bot:
            eng, acct = bot.sim.engine, bot.keys.account
            eng.open_session("old-process", acct, persistent=True)
            out = eng.insert("old-process", INSTRUMENT, Side.BUY, 0.03, 60_000.0, ts_ns=1, label="AS")
            assert out.error is None
            old_id = out.response.order_id
            await bot.until(lambda: bot.quoter.ready, 5.0, "ready")
            await bot.until(lambda: bot.two_sided() and bot.in_sync(), 5.0, "quoting, in sync")
            assert old_id not in {o.order_id for o in bot.exchange_orders()} or old_id in {
                o.order_id for o in bot.core_orders()
            }

    run(scenario())


@pytest.mark.parametrize("drop_after", [1, 2, 3, 4, 5, 6, 7])
def test_drop_during_the_start_up_sequence_is_a_plain_reconnect(drop_after: int) -> None:
    """The connection closes while a start-up request waits for its answer (login, COD,
    instruments, subscriptions, snapshots): a transient failure, retried, never fatal."""

    async def scenario() -> None:
        async with running_bot(faults=FaultPlan(drop_after_messages=drop_after)) as bot:
            await bot.until(lambda: bot.two_sided() and bot.in_sync(), 5.0, "quoting after the retry")
            st = bot.quoter.stats
            assert st.connects == 2 and st.reconnects == 1
            assert st.task_failures == 0, list(st.errors)

    run(scenario())
