"""Chaos scenarios (issue 9 item 1): each injects one fault into the simulated exchange while
the real quoter trades on it over loopback, then checks the invariants against the exchange's
own state (``thalex_mm.testing.chaos.check_invariants`` + shutdown with zero open orders)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from chaos_helpers import external_session, hit_our_order, run_scenario

from thalex_mm.core.commands import AmendOrder, InsertOrder
from thalex_mm.core.types import OrderType, Side, TimeInForce
from thalex_mm.protocol import server_codec as sc
from thalex_mm.sim.app import default_synthetic_params
from thalex_mm.testing import ChaosHarness, chaos_config

# The outside trader must reach our orders: keep the background book far from the mid so
# our quotes are the best prices (default background starts 3 ticks out, inside our spread).
WIDE_BOOK = {"synthetic": default_synthetic_params(background_offset_ticks=40)}


def _assert_clean(res: Any) -> None:
    assert res.violations == [], res.violations
    assert res.report.resume_s is not None


def _client(h: ChaosHarness) -> Any:
    return next(iter(h.sim._clients.values()))


@pytest.mark.parametrize("when", ["before_exchange", "after_exchange"])
@pytest.mark.parametrize("kind", [InsertOrder, AmendOrder])
def test_disconnect_during_order_request(kind: type, when: str) -> None:
    """The connection drops with an insert/amend in flight: either the exchange never saw it,
    or it executed and its answer was lost. COD deletes our orders; the bot resyncs."""

    async def inject(h: ChaosHarness, notes: dict[str, Any]) -> None:
        fired = asyncio.Event()

        def action(cmd: Any) -> None:
            notes["cid"] = cmd.client_order_id
            if when == "before_exchange":
                client = _client(h)
                h.sim.faults.drop_after_messages = client.requests_seen  # the next frame drops
            else:
                h.sim.faults.response_delay_s = 1.0  # executed; the answer never arrives
                asyncio.get_running_loop().call_later(0.2, lambda: asyncio.ensure_future(h.sim.drop_all_connections()))
            fired.set()

        connects = h.quoter.stats.connects
        h.on_next(lambda c: isinstance(c, kind), action)
        if kind is InsertOrder:
            # Inserts follow fills: an outside trader takes one of our orders.
            hit_our_order(h, next(o.client_order_id for o in h.exchange_orders()), 1.0)
        await asyncio.wait_for(fired.wait(), 5.0)
        assert await h.wait_for(lambda: h.quoter.stats.connects > connects, 5.0)
        h.sim.faults.reset()

    res = run_scenario(inject, sim_kwargs=WIDE_BOOK)
    _assert_clean(res)
    assert res.connects >= 2


def test_server_restart_keeps_persistent_orders_and_drops_ours() -> None:
    async def inject(h: ChaosHarness, notes: dict[str, Any]) -> None:
        sess = external_session(h)
        mid = h.core.market.book.mid
        out = h.sim.engine.insert(sess, h.instrument, Side.BUY, 0.5, float(round(mid - 2000)),
                                  ts_ns=h.sim._clock_ns(), order_type=OrderType.LIMIT,
                                  time_in_force=TimeInForce.GTC)
        h.sim._fan_out(out)
        persistent_id = out.response.order_id
        assert h.exchange_orders(), "bot should be quoting before the restart"
        await h.sim.restart(keep_persistent=True)
        notes["ours_after"] = len(h.exchange_orders())
        ext = h.sim.engine.open_orders(account="A-EXTERNAL")
        notes["persistent_kept"] = [o.order_id for o in ext] == [persistent_id]

    res = run_scenario(inject)
    _assert_clean(res)
    assert res.notes["ours_after"] == 0  # the bot's orders are COD (non-persistent): gone
    assert res.notes["persistent_kept"] is True
    assert res.connects >= 2


def test_responses_delayed_two_seconds() -> None:
    async def inject(h: ChaosHarness, notes: dict[str, Any]) -> None:
        sent = len(h.sent)
        h.sim.faults.response_delay_s = 2.0
        await asyncio.sleep(4.0)
        notes["sent_during"] = len(h.sent) - sent

    res = run_scenario(inject, settle_s=4.0)
    _assert_clean(res)
    assert res.notes["sent_during"] > 0


def test_responses_reordered() -> None:
    async def inject(h: ChaosHarness, notes: dict[str, Any]) -> None:
        h.sim.faults.reorder_responses = True
        await asyncio.sleep(3.0)

    res = run_scenario(inject)
    _assert_clean(res)


def test_twenty_percent_of_requests_fail() -> None:
    async def inject(h: ChaosHarness, notes: dict[str, Any]) -> None:
        rejects = h.core.status().rejects
        h.sim.faults.error_share = 0.2
        await asyncio.sleep(3.0)
        # Hold the fault until a few requests did fail (20 % of a few requests a second).
        notes["failed"] = await h.wait_for(lambda: h.core.status().rejects > rejects, 8.0)

    res = run_scenario(inject)
    _assert_clean(res)
    assert res.notes["failed"] is True


def test_throttling_storm() -> None:
    async def inject(h: ChaosHarness, notes: dict[str, Any]) -> None:
        h.sim.faults.throttle_everything = True
        await asyncio.sleep(3.0)
        notes["throttles"] = h.core.status().throttles

    res = run_scenario(inject)
    _assert_clean(res)
    assert res.notes["throttles"] > 0


def test_malformed_frames() -> None:
    async def inject(h: ChaosHarness, notes: dict[str, Any]) -> None:
        h.sim.faults.malformed_share = 0.3
        await asyncio.sleep(3.0)

    res = run_scenario(inject)
    _assert_clean(res)


def test_duplicated_notifications() -> None:
    async def inject(h: ChaosHarness, notes: dict[str, Any]) -> None:
        h.sim.faults.duplicate_notifications = True
        # Force fills, so duplicated trade/order notifications would double-count them.
        for _ in range(3):
            cid = next((o.client_order_id for o in h.exchange_orders()), None)
            notes["hit"] = notes.get("hit", 0.0) + hit_our_order(h, cid, 0.5)
            await asyncio.sleep(0.8)

    res = run_scenario(inject, sim_kwargs=WIDE_BOOK)
    _assert_clean(res)
    assert res.notes["hit"] > 0


def test_stale_market_feed_pulls_quotes_then_resumes() -> None:
    async def inject(h: ChaosHarness, notes: dict[str, Any]) -> None:
        h.sim.faults.freeze_market = True
        # stale_data_timeout_s = 1: quotes must be gone within ~2 s.
        notes["pulled"] = await h.wait_for(lambda: not h.exchange_orders(), 2.5)
        await asyncio.sleep(3.0)

    res = run_scenario(inject)
    _assert_clean(res)
    assert res.notes["pulled"] is True


def test_system_reconnect_event() -> None:
    async def inject(h: ChaosHarness, notes: dict[str, Any]) -> None:
        connects = h.quoter.stats.connects
        await h.sim.announce_reconnect()
        notes["reconnected"] = await h.wait_for(lambda: h.quoter.stats.connects > connects, 5.0)

    res = run_scenario(inject)
    _assert_clean(res)
    assert res.notes["reconnected"] is True


def test_exchange_side_cancellation() -> None:
    async def inject(h: ChaosHarness, notes: dict[str, Any]) -> None:
        notes["cancelled"] = h.sim.admin_cancel(h.account)
        notes["gone"] = not h.exchange_orders()

    res = run_scenario(inject)
    _assert_clean(res)
    assert res.notes["cancelled"] > 0 and res.notes["gone"]


@pytest.mark.parametrize("fraction", [0.5, 1.0])
def test_fill_while_amend_in_flight(fraction: float) -> None:
    """Responses are slow; as the bot sends an amend, the market trades through the order."""

    async def inject(h: ChaosHarness, notes: dict[str, Any]) -> None:
        h.sim.faults.response_delay_s = 1.0
        fired = asyncio.Event()

        def action(cmd: Any) -> None:
            notes["hit"] = hit_our_order(h, cmd.client_order_id, fraction)
            fired.set()

        for _ in range(5):
            h.on_next(lambda c: isinstance(c, AmendOrder), action)
            await asyncio.wait_for(fired.wait(), 5.0)
            if notes["hit"] > 0:
                break
            fired.clear()
        await asyncio.sleep(1.5)

    res = run_scenario(inject, sim_kwargs=WIDE_BOOK)
    _assert_clean(res)
    assert res.notes["hit"] > 0
    assert res.fills >= 1


def test_market_maker_protection_trips_and_rearms() -> None:
    cfg = chaos_config(order={"use_mass_quote": True, "mmp_trade_amount": 0.005, "mmp_quote_amount": 0.01})

    async def inject(h: ChaosHarness, notes: dict[str, Any]) -> None:
        def best_bid() -> Any:
            return max((o for o in h.exchange_orders() if o.side is Side.BUY), key=lambda o: o.price, default=None)

        # The market itself may have tripped the group (or a slow machine made a feed stale)
        # during warm-up: wait until a bid rests again before striking.
        assert await h.wait_for(lambda: best_bid() is not None, 10.0), "no bid of ours rested within 10 s"
        bid = best_bid()
        arms = h.counts.get("SetMmp", 0)
        # An outside trader takes 0.005 of our best bid: the MMP group trips, the exchange
        # pulls every quote of it; the bot must re-arm and quote again.
        sess = external_session(h)
        out = h.sim.engine.insert(sess, h.instrument, Side.SELL, 0.005, bid.price, ts_ns=h.sim._clock_ns(),
                                  order_type=OrderType.LIMIT, time_in_force=TimeInForce.IOC)
        h.sim._fan_out(out)
        notes["pulled"] = not h.exchange_orders()
        notes["rearmed"] = await h.wait_for(lambda: h.counts.get("SetMmp", 0) > arms, 3.0)

    res = run_scenario(inject, config=cfg, sim_kwargs=WIDE_BOOK)
    _assert_clean(res)
    assert res.notes["pulled"] is True
    assert res.notes["rearmed"] is True
    assert res.counts.get("MassQuote", 0) > 0 and res.counts.get("SetMmp", 0) >= 2
    assert res.counts.get("InsertOrder", 0) == 0


def test_position_room_is_kept_under_one_sided_flow() -> None:
    """Tight limits, two levels; an outside seller keeps hitting our bids. No command may ever
    let position + same-side open size exceed the hard limit."""
    cfg = chaos_config(
        risk={"position_soft_limit": 0.02, "position_hard_limit": 0.03, "max_order_size": 0.01},
        order={"levels": 2, "sizes": [0.01]},
    )

    async def inject(h: ChaosHarness, notes: dict[str, Any]) -> None:
        hit = 0.0
        for _ in range(15):
            bids = [o for o in h.exchange_orders() if o.side is Side.BUY]
            if bids:
                hit += hit_our_order(h, max(bids, key=lambda o: o.price).client_order_id, 1.0)
            await asyncio.sleep(0.2)
        notes["hit"] = hit
        notes["max_pos"] = h.exchange_position()

    res = run_scenario(inject, config=cfg, sim_kwargs=WIDE_BOOK)
    _assert_clean(res)
    assert res.notes["hit"] >= 0.02


def test_lost_private_notification_resynchronises() -> None:
    """The exchange cancels our orders and every notification of it arrives malformed. With a
    wide amend tolerance nothing else would tell the bot: it must resynchronise on the
    undecodable private frame, or it keeps 'quoting' orders that no longer exist."""
    cfg = chaos_config(order={"amend_tolerance_ticks": 200})

    async def inject(h: ChaosHarness, notes: dict[str, Any]) -> None:
        connects = h.quoter.stats.connects
        h.sim.faults.malformed_share = 1.0
        notes["cancelled"] = h.sim.admin_cancel(h.account)
        notes["resynced"] = await h.wait_for(lambda: h.quoter.stats.connects > connects, 3.0)

    res = run_scenario(inject, config=cfg, resume_within_s=4.0)
    _assert_clean(res)
    assert res.notes["cancelled"] > 0 and res.notes["resynced"] is True


def test_unanswered_request_resynchronises() -> None:
    """Mass quoting: MMP trips and the bot re-arms, but the exchange never answers that
    SetMmp (responses are held back). The bot must not wait for ever: after the request
    timeout it resynchronises, and quotes again once the exchange behaves."""
    cfg = chaos_config(order={"use_mass_quote": True, "mmp_trade_amount": 0.005, "mmp_quote_amount": 0.01})

    async def inject(h: ChaosHarness, notes: dict[str, Any]) -> None:
        connects = h.quoter.stats.connects
        h.sim.faults.reorder_responses = True
        assert await h.wait_for(lambda: bool(h.exchange_orders()), 2.0)
        quote = h.exchange_orders()[0]
        notes["hit"] = h.hit_order(None, order_id=quote.order_id, amount=0.005)
        notes["resynced"] = await h.wait_for(lambda: h.quoter.stats.connects > connects, 6.0)

    res = run_scenario(inject, config=cfg, sim_kwargs=WIDE_BOOK)
    _assert_clean(res)
    assert res.notes["hit"] > 0 and res.notes["resynced"] is True


class _QuietSource:
    """A market source with nothing more to say: only our own orders change the book."""

    def due_until(self, now_ns: int) -> tuple:
        return ()


def test_short_freeze_then_book_matches_the_exchange() -> None:
    """A freeze shorter than stale_reconnect_s (no reconnect): when the feed resumes, the
    bot's book must equal the exchange's again (deltas published while frozen were lost).

    To compare without racing the feed, the market goes quiet after the freeze; the books must
    then agree level for level and stay agreed. A lost resync leaves deleted levels behind in
    the bot's book for good, so a quiet market makes that failure deterministic."""

    def top(levels: Any) -> tuple:
        return tuple((round(p, 8), round(q, 8)) for p, q in levels)

    def same_book(h: ChaosHarness) -> bool:
        book = h.core.market.book
        bids, asks = h.sim.engine.book_levels(h.instrument, 5)
        return top(book.levels(Side.BUY, 5)) == top(bids) and top(book.levels(Side.SELL, 5)) == top(asks)

    async def inject(h: ChaosHarness, notes: dict[str, Any]) -> None:
        connects = h.quoter.stats.connects
        h.sim.faults.freeze_market = True
        await asyncio.sleep(1.5)  # the market keeps moving; its deltas never go out
        h.sim.faults.freeze_market = False
        feed = h.sim.feed
        source, feed.source = feed.source, _QuietSource()
        try:
            agreed_for = 0
            for _ in range(200):  # up to 10 s for 20 agreeing samples in a row (1 s)
                await asyncio.sleep(0.05)
                agreed_for = agreed_for + 1 if same_book(h) else 0
                if agreed_for >= 20:
                    break
            notes["agreed_for"] = agreed_for
        finally:
            feed.source = source
        notes["reconnected"] = h.quoter.stats.connects > connects

    res = run_scenario(inject)
    _assert_clean(res)
    assert res.notes["reconnected"] is False
    assert res.notes["agreed_for"] >= 20, res.notes


def test_corrupt_book_delta_resynchronises() -> None:
    """The book feed delivers a bid level the exchange never had, above the best ask (what a
    lost delta looks like; the feed has no sequence numbers to notice). Risk halts quoting on
    the crossed book; the bot must resynchronise (fresh snapshot) and quote again."""

    async def inject(h: ChaosHarness, notes: dict[str, Any]) -> None:
        connects = h.quoter.stats.connects
        _bid, ask = h.sim.engine.best_bid_ask(h.instrument)
        channel = next(c for c in _client(h).subscriptions if c.startswith("book."))
        payload = sc.book_to_wire([(ask + 50.0, 0.3)], [], (), 0.0, 0.0, time.time())
        _client(h).send_nowait(sc.encode_notification(channel, payload))
        notes["crossed"] = await h.wait_for(lambda: h.core.book_crossed_for_s(time.time_ns()) > 0, 2.0)
        notes["resynced"] = await h.wait_for(lambda: h.quoter.stats.connects > connects, 6.0)

    res = run_scenario(inject, resume_within_s=6.0)
    _assert_clean(res)
    assert res.notes["crossed"] is True and res.notes["resynced"] is True


def test_session_error_on_an_order_reconnects_and_quoting_resumes() -> None:
    """Error 11 (not logged in) on an order request means the session itself is bad: the bot
    must start over (reconnect, log in again), not keep sending on it."""

    async def inject(h: ChaosHarness, notes: dict[str, Any]) -> None:
        connects = h.quoter.stats.connects
        h.sim.faults.error_code = 11
        h.sim.faults.error_share = 1.0
        notes["reconnected"] = await h.wait_for(lambda: h.quoter.stats.connects > connects, 8.0)
        h.sim.faults.reset()

    res = run_scenario(inject, sim_kwargs=WIDE_BOOK)
    _assert_clean(res)
    assert res.notes["reconnected"] is True
