"""Instrument-relative defaults: sizes, limits and γ follow the instrument; explicit values win."""

from __future__ import annotations

import pytest

from thalex_mm.config import BotConfig
from thalex_mm.core.commands import InsertOrder
from thalex_mm.core.events import BookSnapshotReceived, Connected, InstrumentsUpdated, TickerUpdated
from thalex_mm.core.instrument_scale import resolve_for_instrument
from thalex_mm.core.market_maker import MarketMakerCore
from thalex_mm.core.quote_builder import QuoteBuilder
from thalex_mm.core.types import Instrument, Side

T0 = 1_700_000_000_000_000_000
# a cheap coin: price ~2 USD, tick 0.0001, whole units
CHEAP = Instrument(name="XRP-PERPETUAL", product="FXRPUSD", tick_size=0.0001, volume_tick_size=1.0,
                   min_order_amount=1.0, underlying="XRPUSD")
BTC = Instrument(name="BTC-PERPETUAL", product="FBTCUSD", tick_size=1.0, volume_tick_size=0.001,
                 min_order_amount=0.001, underlying="BTCUSD")


def test_resolve_when_defaults_on_a_2_usd_instrument_sizes_limits_and_gamma_follow_it():
    cfg = resolve_for_instrument(BotConfig(), CHEAP, 2.0)
    size = cfg.order.sizes[0]
    assert size == pytest.approx(250.0)  # 500 USD of notional at 2 USD, whole units
    assert cfg.risk.position_soft_limit == pytest.approx(5 * size)
    assert cfg.risk.position_hard_limit == pytest.approx(10 * size)
    assert cfg.risk.max_order_size == pytest.approx(10 * size)
    assert cfg.avellaneda.unit_size == pytest.approx(size)
    assert cfg.avellaneda.gamma == pytest.approx(0.01 / 0.0001)


def test_resolve_when_values_explicit_they_win_and_the_rest_stays_relative():
    raw = BotConfig.model_validate({
        "order": {"size_notional": 100.0},
        "risk": {"max_order_size": 20.0, "position_soft_limit": 30.0, "position_hard_limit": 60.0},
        "avellaneda": {"gamma": 0.5},
    })
    cfg = resolve_for_instrument(raw, CHEAP, 2.0)
    assert cfg.order.sizes == (20.0,)  # 100 USD / 2 = 50 units, capped by the explicit max order size
    assert (cfg.risk.position_soft_limit, cfg.risk.position_hard_limit) == (30.0, 60.0)
    assert cfg.avellaneda.gamma == 0.5 and cfg.avellaneda.unit_size == 20.0
    explicit = BotConfig.model_validate({"order": {"sizes": [0.02]}})
    cfg = resolve_for_instrument(explicit, BTC, float("nan"))  # no price needed
    assert cfg.order.sizes == (0.02,) and cfg.risk.position_soft_limit == pytest.approx(0.1)


def test_resolve_when_notional_below_one_lot_quotes_the_minimum_amount():
    cfg = resolve_for_instrument(BotConfig.model_validate({"order": {"size_notional": 0.5}}), CHEAP, 2.0)
    assert cfg.order.sizes == (1.0,)


def test_resolve_when_price_unknown_and_sizes_relative_raises_naming_the_price():
    with pytest.raises(ValueError, match="price"):
        resolve_for_instrument(BotConfig(), CHEAP, 0.0)


def _start(core: MarketMakerCore, inst: Instrument, mid: float, half_ticks: int = 2) -> tuple:
    h = half_ticks * inst.tick_size
    core.handle(InstrumentsUpdated(local_ts_ns=T0, added=(inst,), snapshot=True))
    core.handle(Connected(local_ts_ns=T0, cancel_on_disconnect=True))
    core.handle(TickerUpdated(local_ts_ns=T0 + 1, instrument=inst.name, mark_price=mid, index_price=mid))
    return core.handle(BookSnapshotReceived(
        local_ts_ns=T0 + 2, instrument=inst.name,
        bids=((mid - h, 5000.0), (mid - 2 * h, 9000.0)), asks=((mid + h, 5000.0), (mid + 2 * h, 9000.0))))


def test_core_when_default_config_on_a_2_usd_instrument_quotes_two_sided_with_sane_sizes():
    core = MarketMakerCore(BotConfig.model_validate({"market": {"instrument": CHEAP.name, "underlying": "XRPUSD"}}))
    inserts = [c for c in _start(core, CHEAP, 2.0).commands if isinstance(c, InsertOrder)]
    assert {c.side for c in inserts} == {Side.BUY, Side.SELL}
    for c in inserts:
        assert c.amount == pytest.approx(250.0)  # not 0.01 units (below the minimum amount)
        assert abs(c.price - 2.0) < 0.01  # within 1 % of the price: ticks, not dollars
    bid = next(c for c in inserts if c.side is Side.BUY)
    ask = next(c for c in inserts if c.side is Side.SELL)
    assert bid.price < 2.0 < ask.price
    assert core.config.risk.position_soft_limit == pytest.approx(1250.0)
    assert core.status().gamma == pytest.approx(100.0)


def test_quote_builder_when_price_level_scales_skew_at_soft_limit_is_the_same_in_ticks():
    # the same market in ticks (σ, k, spreads) at 2 USD and at 20 000 USD: resolved defaults
    # give the same inventory skew in ticks at the soft limit
    skews = []
    for inst, price in ((CHEAP, 2.0), (BTC, 20_000.0)):
        scale = inst.tick_size
        cfg = resolve_for_instrument(BotConfig(), inst, price)
        qb = QuoteBuilder(inst, cfg.avellaneda, cfg.quoting, cfg.order)
        soft = cfg.risk.position_soft_limit
        _, fig = qb.build(ts_ns=T0, fair_value=price, sigma=3.0 * scale, A=1.0, k=0.2 / scale, position=soft)
        skews.append((fig.fair_value - fig.reservation_price) / scale)
    assert skews[0] == pytest.approx(skews[1], rel=1e-6)
    assert 0.5 < skews[0] < 200  # a sensible number of ticks, not 0 and not the whole book
