"""End-to-end: the Prometheus latency histograms and the reconnect counter are fed by the real
driver path (paper session against the simulated exchange), not only by unit tests."""

from __future__ import annotations

from e2e_harness import fast_config, run, running_bot

from thalex_mm.drivers.paper import run_paper
from thalex_mm.monitoring.bridge import CoreStatusHub


def _sample(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in the exposition")


def test_paper_session_feeds_round_trip_and_tick_to_order_histograms() -> None:
    hub = CoreStatusHub()

    async def scenario():
        return await run_paper(
            fast_config(), duration_s=2.5, seed=3, show_status=False, status_interval_s=0.1,
            hub=hub, sim_kwargs={"publish_interval_s": 0.02},
        )

    result = run(scenario())
    m = hub.metrics
    orders = result.inserts + result.amends + result.cancels
    assert orders > 0, result
    # Every order request is answered (the last few may be cut by the shutdown); the start-up
    # calls (login, subscriptions, snapshots) add a handful more.
    assert m.round_trip.count >= 0.9 * orders, (m.round_trip.count, orders)
    # One tick-to-order sample per market frame that caused orders: at least one, never more
    # than the order requests sent.
    assert 0 < m.tick_to_order.count <= orders, (m.tick_to_order.count, orders)
    for hist in (m.round_trip, m.tick_to_order):
        mean = hist.sum_s / hist.count
        assert 0.0 < mean < 1.0, mean
    text = m.render()
    for name in ("thalex_mm_tick_to_order_seconds", "thalex_mm_request_round_trip_seconds"):
        count = _sample(text, name + "_count")
        assert count > 0 and 0.0 < _sample(text, name + "_sum") / count < 1.0


def test_forced_resync_counts_as_a_reconnect_on_stats_and_metrics() -> None:
    """The ``system`` reconnect event forces an immediate reconnect (no backoff wait): it is a
    reconnect all the same, on the quoter's stats and on /metrics."""

    async def scenario() -> None:
        async with running_bot() as bot:
            await bot.until(bot.two_sided, 5.0, "quoting")
            for n in (2, 3):
                await bot.sim.announce_reconnect()
                await bot.until(lambda n=n: bot.quoter.stats.connects == n and bot.quoter.ready, 3.0,
                                "the early reconnect")
            st = bot.quoter.stats
            assert (st.connects, st.reconnects, st.backoff_waits) == (3, 2, 0)
            hub = CoreStatusHub()
            hub.publish(bot.core.status(), st, None)
            assert hub.metrics.reconnects == 2
            assert _sample(hub.metrics.render(), "thalex_mm_reconnects_total") == 2
            assert hub.status()["reconnects"] == 2

    run(scenario())


def test_dropped_connection_counts_one_reconnect_and_one_backoff_wait() -> None:
    async def scenario() -> None:
        async with running_bot() as bot:
            await bot.until(bot.two_sided, 5.0, "quoting")
            await bot.sim.drop_all_connections()
            await bot.until(lambda: bot.quoter.stats.connects == 2 and bot.quoter.ready, 5.0, "reconnect")
            st = bot.quoter.stats
            assert (st.reconnects, st.backoff_waits) == (1, 1)

    run(scenario())
