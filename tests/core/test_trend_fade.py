"""Trend fade: the quote centre leans against the recent trend of the price."""

from __future__ import annotations

import pytest

from thalex_mm.config.models import QuotingConfig

S = 1_000_000_000


def test_trend_fade_shift_when_trend_rises_moves_centre_down_by_the_move_over_fade_seconds():
    from thalex_mm.core.signals import TrendReading
    from thalex_mm.core.trend_fade import trend_fade_shift

    up = TrendReading(slope_logret_per_s=1e-6, t_stat=2.0, n_eff=30.0)
    assert trend_fade_shift(up, 50_000.0, 10.0) == pytest.approx(-0.5)  # −1e-6/s · 50 000 · 10 s
    down = TrendReading(slope_logret_per_s=-2e-6, t_stat=-2.0, n_eff=30.0)
    assert trend_fade_shift(down, 100.0, 5.0) == pytest.approx(1e-3)
    assert trend_fade_shift(up, 50_000.0, -10.0) == pytest.approx(0.5)  # negative: follows the trend
    assert trend_fade_shift(None, 100.0, 10.0) == 0.0  # warm-up: no shift


def test_trend_fade_config_when_default_is_on_with_five_seconds():
    cfg = QuotingConfig()
    assert cfg.trend_fade_enabled is True and cfg.trend_fade_s == 5.0


def _core_after_fall(fade: bool):
    from thalex_mm.config.models import AvellanedaConfig, BotConfig, OrderConfig, RiskConfig
    from thalex_mm.core.events import BookSnapshotReceived
    from thalex_mm.core.market_maker import MarketMakerCore

    from .core_harness import MID, PERP, T0, feed, start_up

    cfg = BotConfig(
        avellaneda=AvellanedaConfig(estimate_intensity=False, k=0.5, A=2.0, gamma=0.1),
        order=OrderConfig(sizes=(0.01,)),
        risk=RiskConfig(position_soft_limit=0.05, position_hard_limit=0.1, price_band_bps=1000.0,
                        mark_mid_divergence_bps=1000.0),
        quoting=QuotingConfig(trend_fade_enabled=fade, trend_fade_s=5.0, toxicity_enabled=False,
                              markout_monitor_enabled=False, tape_markout_enabled=False),
    )
    core = MarketMakerCore(cfg)
    sent: list = []
    start_up(core, sent)
    for i in range(1, 121):  # the mid falls 2 USD a second for two minutes
        mid = MID - 2.0 * i
        feed(core, BookSnapshotReceived(local_ts_ns=T0 + i * S, instrument=PERP.name,
                                        bids=((mid - 5, 1.0),), asks=((mid + 5, 1.0),)), sent)
    return core.figures


def test_core_when_trend_fade_on_and_market_falls_lifts_the_centre_against_the_trend():
    off = _core_after_fall(False)
    on = _core_after_fall(True)
    assert off is not None and on is not None
    lift = on.reservation_price - off.reservation_price
    assert 5.0 < lift < 15.0  # ≈ 2 USD/s · 5 s, the trend's EMA still catching up
