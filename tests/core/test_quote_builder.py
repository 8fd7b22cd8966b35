"""QuoteBuilder: levels, rounding, no-cross clamps, spread bounds, fees, shaping, one-sided."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thalex_mm.config.models import AvellanedaConfig, HorizonMode, OrderConfig, QuotingConfig
from thalex_mm.core.model import as_quote, glft_quote
from thalex_mm.core.quote_builder import QuoteBuilder
from thalex_mm.core.types import Instrument, Side

S = 1_000_000_000
BTC = Instrument(name="BTC-PERPETUAL", product="FBTCUSD", tick_size=1.0, volume_tick_size=0.001, min_order_amount=0.001, underlying="BTCUSD")
FINE = Instrument(name="X", product="P", tick_size=0.5, volume_tick_size=0.01, min_order_amount=0.05, underlying="U")


def builder(inst=BTC, av=None, quoting=None, order=None):
    # the former absolute defaults, explicit (the relative ones are resolved by the core)
    return QuoteBuilder(inst, av or AvellanedaConfig(gamma=0.1, unit_size=0.01), quoting or QuotingConfig(),
                        order or OrderConfig(sizes=(0.01,)))


def test_quote_builder_when_rolling_as_prices_are_model_rounded_outward():
    av = AvellanedaConfig(horizon=HorizonMode.ROLLING, horizon_s=60.0, gamma=0.01, k=0.2, unit_size=0.01)
    b = builder(FINE, av=av, order=OrderConfig(sizes=(0.1,)))
    wq, fig = b.build(ts_ns=0, fair_value=1000.0, sigma=0.5, A=1.0, k=0.2, position=0.02)
    mq = as_quote(1000.0, 2.0, 0.01, 0.5, 60.0, 0.2)
    assert fig.model == "as" and fig.tau_s == 60.0 and fig.q == pytest.approx(2.0)
    assert fig.reservation_price == pytest.approx(mq.center)
    (bid,), (ask,) = wq.bids, wq.asks
    assert bid.price == math.floor(mq.bid / 0.5) * 0.5
    assert ask.price == math.ceil(mq.ask / 0.5) * 0.5
    assert bid.price <= mq.bid and ask.price >= mq.ask
    assert (bid.side, ask.side, bid.level, ask.level) == (Side.BUY, Side.SELL, 0, 0)


def test_quote_builder_when_glft_uses_multipliers_and_reports_figures():
    av = AvellanedaConfig(horizon=HorizonMode.INFINITE, gamma=0.05, half_spread_multiplier=1.5, skew_multiplier=2.0)
    b = builder(av=av)
    wq, fig = b.build(ts_ns=0, fair_value=50_000.0, sigma=20.0, A=2.0, k=0.05, position=0.03)
    mq = glft_quote(50_000.0, 3.0, 0.05, 20.0, 0.05, 2.0, half_spread_multiplier=1.5, skew_multiplier=2.0)
    assert fig.model == "glft" and fig.tau_s == math.inf
    assert fig.half_spread == pytest.approx(mq.half_spread)
    assert fig.skew == pytest.approx(mq.skew)
    assert wq.bids[0].price == math.floor(mq.bid)
    assert wq.asks[0].price == math.ceil(mq.ask)


def test_quote_builder_when_glft_order_size_is_several_units_uses_lot_size_delta():
    # quotes of 0.03 contracts with unit_size 0.01: each fill moves q by Δ = 3 units
    av = AvellanedaConfig(horizon=HorizonMode.INFINITE, gamma=0.05, unit_size=0.01)
    b = builder(av=av, order=OrderConfig(sizes=(0.03,)))
    _, fig = b.build(ts_ns=0, fair_value=50_000.0, sigma=20.0, A=2.0, k=0.05, position=0.03)
    mq = glft_quote(50_000.0, 3.0, 0.05, 20.0, 0.05, 2.0, delta=3.0)
    one = glft_quote(50_000.0, 3.0, 0.05, 20.0, 0.05, 2.0, delta=1.0)
    assert fig.half_spread == pytest.approx(mq.half_spread) and mq.half_spread > one.half_spread
    assert fig.skew == pytest.approx(mq.skew)


def test_quote_builder_when_finite_horizon_tau_counts_down_to_session_end():
    av = AvellanedaConfig(horizon=HorizonMode.FINITE, session_end_utc="08:00")
    b = builder(av=av)
    day = 1_716_163_200 * S
    _, fig = b.build(ts_ns=day + 7 * 3600 * S, fair_value=100.0, sigma=0.1, A=1.0, k=1.5, position=0.0)
    assert fig.tau_s == 3600.0


def test_quote_builder_when_three_levels_spaced_in_ticks_and_fraction():
    order = OrderConfig(sizes=(0.01, 0.02, 0.03), levels=3, level_spacing_ticks=5)
    b = builder(order=order)
    wq, _ = b.build(ts_ns=0, fair_value=50_000.0, sigma=5.0, A=2.0, k=0.5, position=0.0)
    bp = [lv.price for lv in wq.bids]
    ap = [lv.price for lv in wq.asks]
    assert [bp[0] - p for p in bp] == [0.0, 5.0, 10.0]
    assert [p - ap[0] for p in ap] == [0.0, 5.0, 10.0]
    assert [lv.amount for lv in wq.bids] == [0.01, 0.02, 0.03]
    assert [lv.level for lv in wq.asks] == [0, 1, 2]
    frac = builder(order=OrderConfig(sizes=(0.01,), levels=3, level_spacing_fraction=1.0))
    wq2, fig = frac.build(ts_ns=0, fair_value=50_000.0, sigma=5.0, A=2.0, k=0.5, position=0.0)
    gaps = [wq2.asks[i + 1].price - wq2.asks[i].price for i in range(2)]
    assert all(abs(g - fig.half_spread) <= 1.0 for g in gaps)


def test_quote_builder_when_model_spread_tiny_widens_to_min_spread_ticks():
    b = builder(quoting=QuotingConfig(min_spread_ticks=10))
    wq, fig = b.build(ts_ns=0, fair_value=100.0, sigma=1e-6, A=100.0, k=1000.0, position=0.0)
    assert fig.half_spread == pytest.approx(5.0)
    assert wq.asks[0].price - wq.bids[0].price == 10.0


def test_quote_builder_when_model_spread_huge_caps_at_max_spread_ticks():
    b = builder(quoting=QuotingConfig(max_spread_ticks=40))
    _, fig = b.build(ts_ns=0, fair_value=100.0, sigma=50.0, A=0.01, k=0.001, position=0.0)
    assert fig.half_spread == pytest.approx(20.0)


def test_quote_builder_when_maker_fee_positive_half_spread_covers_fee():
    av = AvellanedaConfig(maker_fee_rate=0.0002)
    b = builder(av=av, quoting=QuotingConfig(min_spread_ticks=1))
    _, fig = b.build(ts_ns=0, fair_value=50_000.0, sigma=1e-3, A=100.0, k=100.0, position=0.0)
    assert fig.half_spread == pytest.approx(10.0)  # 0.0002 · 50,000
    rebate = builder(av=AvellanedaConfig(maker_fee_rate=-0.0002), quoting=QuotingConfig(min_spread_ticks=1))
    _, fig2 = rebate.build(ts_ns=0, fair_value=50_000.0, sigma=1e-3, A=100.0, k=100.0, position=0.0)
    assert fig2.half_spread < 10.0


def test_quote_builder_when_long_with_eta_shrinks_bid_sizes_only():
    av = AvellanedaConfig(eta=0.1, unit_size=0.01)
    b = builder(av=av, order=OrderConfig(sizes=(0.1,)))
    wq, _ = b.build(ts_ns=0, fair_value=50_000.0, sigma=5.0, A=2.0, k=0.5, position=0.05)
    assert wq.bids[0].amount == math.floor(0.1 * math.exp(-0.5) * 1000) / 1000  # q = 5
    assert wq.asks[0].amount == 0.1
    wq_s, _ = b.build(ts_ns=0, fair_value=50_000.0, sigma=5.0, A=2.0, k=0.5, position=-0.05)
    assert wq_s.asks[0].amount < 0.1 and wq_s.bids[0].amount == 0.1


def test_quote_builder_when_size_below_min_order_amount_drops_level():
    av = AvellanedaConfig(eta=1.0, unit_size=0.01)
    b = builder(FINE, av=av, order=OrderConfig(sizes=(0.1,)))
    wq, _ = b.build(ts_ns=0, fair_value=100.0, sigma=0.5, A=2.0, k=0.5, position=0.03)
    # 0.1 · e^(−3) = 0.005 < min 0.05
    assert wq.bids == () and len(wq.asks) == 1


def test_quote_builder_when_at_position_limit_quotes_only_reducing_side():
    b = builder(quoting=QuotingConfig(one_sided_at_limit=True))
    wq, _ = b.build(ts_ns=0, fair_value=100.0, sigma=0.5, A=2.0, k=0.5, position=0.05, position_limit=0.05)
    assert wq.bids == () and wq.asks
    wq, _ = b.build(ts_ns=0, fair_value=100.0, sigma=0.5, A=2.0, k=0.5, position=-0.06, position_limit=0.05)
    assert wq.asks == () and wq.bids
    wq, _ = b.build(ts_ns=0, fair_value=100.0, sigma=0.5, A=2.0, k=0.5, position=0.0, allow_ask=False)
    assert wq.asks == () and wq.bids


def test_quote_builder_when_reservation_above_best_ask_clamps_bid_one_tick_below():
    av = AvellanedaConfig(horizon=HorizonMode.ROLLING, horizon_s=3600.0, gamma=0.1, unit_size=0.01)
    b = builder(av=av, order=OrderConfig(sizes=(0.01,), levels=2, level_spacing_ticks=1))
    # very short → reservation far above mid
    wq, fig = b.build(ts_ns=0, fair_value=100.0, sigma=0.5, A=2.0, k=0.5, position=-0.1, best_bid=99.0, best_ask=101.0)
    assert fig.reservation_price - fig.half_spread > 101.0
    assert [lv.price for lv in wq.bids] == [100.0, 99.0]
    crossing = builder(av=av, quoting=QuotingConfig(allow_cross=True))
    wq2, _ = crossing.build(ts_ns=0, fair_value=100.0, sigma=0.5, A=2.0, k=0.5, position=-0.1, best_bid=99.0, best_ask=101.0)
    assert wq2.bids[0].price > 101.0


@settings(max_examples=200, deadline=None)
@given(
    fv=st.floats(50.0, 200.0),
    pos=st.floats(-0.2, 0.2),
    sigma=st.floats(0.01, 5.0),
    k=st.floats(0.1, 10.0),
    mid_off=st.floats(-5.0, 5.0),
    spread_ticks=st.integers(1, 20),
    levels=st.integers(1, 4),
    finite=st.booleans(),
)
def test_quote_builder_when_random_inputs_never_crosses_and_stays_aligned(fv, pos, sigma, k, mid_off, spread_ticks, levels, finite):
    tick = 0.5
    av = AvellanedaConfig(horizon=HorizonMode.ROLLING if finite else HorizonMode.INFINITE, horizon_s=300.0, gamma=0.05)
    b = builder(FINE, av=av, order=OrderConfig(sizes=(0.1,), levels=levels, level_spacing_ticks=1))
    best_bid = math.floor((fv + mid_off) / tick) * tick
    best_ask = best_bid + spread_ticks * tick
    wq, _ = b.build(ts_ns=0, fair_value=fv, sigma=sigma, A=2.0, k=k, position=pos, best_bid=best_bid, best_ask=best_ask)
    for lv in wq.bids:
        assert lv.price < best_ask
        assert lv.price / tick == pytest.approx(round(lv.price / tick), abs=1e-9)
    for lv in wq.asks:
        assert lv.price > best_bid
        assert lv.price / tick == pytest.approx(round(lv.price / tick), abs=1e-9)
    bp = [lv.price for lv in wq.bids]
    ap = [lv.price for lv in wq.asks]
    assert bp == sorted(bp, reverse=True) and len(set(bp)) == len(bp)
    assert ap == sorted(ap) and len(set(ap)) == len(ap)
    if bp and ap:
        assert bp[0] < ap[0]
    for lv in (*wq.bids, *wq.asks):
        assert lv.amount >= FINE.min_order_amount


def test_quote_pipeline_when_book_and_trades_given_quotes_inside_collar_and_around_fair_value():
    """MarketState → FairValueModel → TechnicalAnalysis → IntensityEstimator → QuoteBuilder."""
    from thalex_mm.config.models import TechnicalConfig
    from thalex_mm.core.events import BookSnapshotReceived
    from thalex_mm.core.fair_value import FairValueModel
    from thalex_mm.core.intensity import IntensityEstimator
    from thalex_mm.core.market_state import MarketState
    from thalex_mm.core.technical import TechnicalAnalysis

    ms = MarketState("BTC-PERPETUAL", "BTCUSD")
    ms.apply(BookSnapshotReceived(instrument="BTC-PERPETUAL", bids=((64_990.0, 1.0),), asks=((65_010.0, 1.0),), local_ts_ns=S))
    fv = FairValueModel(QuotingConfig()).compute(mid=ms.book.mid, microprice=ms.book.microprice)
    ta = TechnicalAnalysis(TechnicalConfig(sigma_prior_per_sqrt_s=5.0))
    ta.update(S, ms.book.mid)
    vol = ta.volatility()
    av = AvellanedaConfig()
    intensity = IntensityEstimator(av)
    intensity.maybe_recalibrate(S)
    ak = intensity.current
    wq, fig = builder(av=av).build(
        ts_ns=S, fair_value=fv.price, sigma=vol.sigma_price_per_sqrt_s, A=ak.A, k=ak.k, position=0.0,
        best_bid=ms.book.best_bid, best_ask=ms.book.best_ask,
    )
    assert not vol.warm and fig.sigma == 5.0 and (fig.A, fig.k) == (av.A, av.k)  # thin market: defaults
    assert wq.bids[0].price < 65_000.0 < wq.asks[0].price
    assert wq.bids[0].price == 65_000.0 - math.ceil(fig.half_spread)


def test_quote_builder_when_guard_widens_one_side_moves_only_that_side_out():
    b = builder()
    base, fig = b.build(ts_ns=0, fair_value=65_000.0, sigma=1.0, A=1.0, k=0.5, position=0.0)
    wide, _ = b.build(ts_ns=0, fair_value=65_000.0, sigma=1.0, A=1.0, k=0.5, position=0.0,
                      widen_bid=0.0, widen_ask=7.0)
    assert wide.bids[0].price == base.bids[0].price
    assert wide.asks[0].price == math.ceil(round(fig.reservation_price + fig.half_spread + 7.0, 8))


def test_quote_builder_when_near_the_position_limit_caps_the_growing_side_to_the_room_left():
    b = builder(order=OrderConfig(sizes=(0.01,)))
    wq, _ = b.build(ts_ns=0, fair_value=65_000.0, sigma=1.0, A=1.0, k=0.5, position=0.046,
                    position_limit=0.05)
    assert wq.bids[0].amount == pytest.approx(0.004)  # 0.046 + 0.004 = the limit, not 0.056
    assert wq.asks[0].amount == pytest.approx(0.01)
    short, _ = b.build(ts_ns=0, fair_value=65_000.0, sigma=1.0, A=1.0, k=0.5, position=-0.0495,
                       position_limit=0.05)
    assert short.asks == ()  # room 0.0005 is below the 0.001 minimum: no ask
    assert short.bids[0].amount == pytest.approx(0.01)
