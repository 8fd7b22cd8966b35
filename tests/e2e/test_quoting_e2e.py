"""End-to-end: quoting starts two-sided around fair value; fills move inventory and the skew."""

from __future__ import annotations

from e2e_harness import INSTRUMENT, SteppingSource, fast_config, run, running_bot

from thalex_mm.core.commands import InsertOrder
from thalex_mm.core.types import Side
from thalex_mm.sim.app import default_synthetic_params
from thalex_mm.sim.rate_limit import RateLimits


def test_quoting_starts_two_sided_around_fair_value() -> None:
    cfg = fast_config(order={"label": "E2E", "post_only": True, "sizes": (0.02,)})

    async def scenario() -> None:
        async with running_bot(cfg) as bot:
            await bot.until(bot.two_sided, 5.0, "one bid and one ask on the exchange")
            await bot.until(bot.in_sync, 2.0, "core and exchange to agree")
            fv = bot.core.status().fair_value
            assert fv is not None
            orders = {o.side: o for o in bot.exchange_orders()}
            bid, ask = orders[Side.BUY], orders[Side.SELL]
            # Fair value may have moved since these prices were set: allow the amend tolerance.
            tol = cfg.order.amend_tolerance_ticks * 1.0
            assert bid.price is not None and ask.price is not None
            assert bid.price < ask.price
            assert bid.price <= fv + tol, (bid.price, fv)
            assert ask.price >= fv - tol, (ask.price, fv)
            assert ask.price - bid.price >= cfg.quoting.min_spread_ticks * 1.0
            for o in (bid, ask):
                assert o.instrument == INSTRUMENT
                assert o.label == "E2E"
                assert o.amount == 0.02
                assert not o.persistent  # cancel-on-disconnect session
            inserts = [c for _, c, _ in bot.sent if isinstance(c, InsertOrder)]
            assert inserts, "no InsertOrder was sent"
            assert all(c.post_only and c.label == "E2E" for c in inserts)
            st = bot.core.status()
            assert st.trading_state == "active"
            assert st.our_bid is not None and st.our_ask is not None
            assert st.our_bid < st.fair_value < st.our_ask  # type: ignore[operator]

    run(scenario())


def test_fills_change_inventory_and_the_skew_follows() -> None:
    # A busy synthetic market (many small market orders, shallow decay) fills our quotes fast.
    cfg = fast_config(avellaneda={"gamma": 1.0})
    synthetic = default_synthetic_params(arrival_rate_per_s=20.0, k=0.15, background_offset_ticks=15)

    async def scenario() -> None:
        async with running_bot(cfg, seed=3, synthetic=synthetic) as bot:
            samples: list[tuple[float, float, float]] = []
            last = None

            def sample() -> bool:
                nonlocal last
                fig = bot.core.figures
                if fig is not None and fig is not last:
                    last = fig
                    st = bot.core.status()
                    if st.our_bid is not None and st.our_ask is not None:
                        centre = (st.our_bid + st.our_ask) / 2
                        samples.append((fig.q, fig.reservation_price - fig.fair_value, centre - fig.fair_value))
                return False

            def filled_and_agreed() -> bool:
                sample()
                pos = bot.exchange_position()
                return pos != 0 and abs(bot.core.status().position - pos) < 1e-9

            await bot.until(filled_and_agreed, 8.0, "a fill, with core and exchange positions equal")
            assert bot.core.status().fills >= 1
            await bot.until(lambda: sample() or any(q != 0 for q, _, _ in samples), 2.0, "a quote step with inventory")
            flat = [s for s in samples if s[0] == 0]
            long_ = [s for s in samples if s[0] > 0]
            short = [s for s in samples if s[0] < 0]
            assert long_ or short
            # No inventory: quotes centred on fair value (within rounding to the 1-USD tick).
            assert all(abs(r) < 1e-9 and abs(c) <= 1.0 for _, r, c in flat), flat[:5]
            # Long → reservation and quotes shift down; short → up (by more than a tick here).
            assert all(r < 0 and c < 0 for _, r, c in long_), long_[:5]
            assert all(r > 0 and c > 0 for _, r, c in short), short[:5]
            assert all(abs(c) > 1.0 for _, _, c in long_ + short), (long_ + short)[:5]

    run(scenario())


def test_requoting_on_every_update_never_doubles_an_order() -> None:
    """``min_requote_interval_ms = 0``: every market frame runs a quote step, often several
    before the quote task sends. Each step must see the previous one's commands as in flight:
    no second amend of an order already being amended (an InvalidTransition that used to kill
    the quote task), no second insert for a level."""
    cfg = fast_config(
        quoting={"min_requote_interval_ms": 0, "funding_adjust": False},
        order={"amend_tolerance_ticks": 0, "levels": 2, "sizes": (0.01, 0.01)},
        connection={"me_rate_cod_per_s": 100_000.0},
    )
    high = RateLimits(me_per_s=10**6, me_cod_per_s=10**6, cancels_per_s=10**6)

    async def scenario() -> None:
        async with running_bot(cfg, source=SteppingSource(), rate_limits=high, publish_interval_s=0.005) as bot:
            await bot.until(lambda: len(bot.exchange_orders()) == 4, 5.0, "two levels per side")
            sent = bot.quoter.stats.commands_sent

            def at_most_two_per_side() -> bool:
                sides = [o.side for o in bot.exchange_orders()]
                return sides.count(Side.BUY) <= 2 and sides.count(Side.SELL) <= 2

            await bot.holds_for(at_most_two_per_side, 1.5, "at most one order per side and level")
            st = bot.quoter.stats
            assert st.task_failures == 0 and st.connects == 1, list(st.errors)
            assert st.commands_sent - sent > 100  # it really requoted all along
            assert bot.core.status().rejects == 0
            await bot.until(bot.in_sync, 2.0, "core and exchange to agree")

    run(scenario())
