"""Inventory half-life control: the centre moves toward the reducing side as a position ages."""

from __future__ import annotations

import pytest

from thalex_mm.config.models import QuotingConfig
from thalex_mm.core.inventory_age import InventoryAge

S = 1_000_000_000


def test_inventory_age_when_long_shifts_centre_down_growing_with_age_up_to_the_horizon():
    a = InventoryAge(horizon_s=10.0, skew_halfspreads=2.0)
    a.update(0, 0.5)
    assert a.center_shift(0, 1.0) == 0.0  # just opened
    a.update(5 * S, 0.7)  # same sign: the age keeps running
    assert a.center_shift(5 * S, 1.0) == pytest.approx(-1.0)  # half the horizon: half of 2 h
    assert a.center_shift(30 * S, 1.0) == pytest.approx(-2.0)  # capped at the full shift


def test_inventory_age_when_short_shifts_centre_up():
    a = InventoryAge(horizon_s=4.0, skew_halfspreads=1.0)
    a.update(0, -0.1)
    assert a.center_shift(2 * S, 0.5) == pytest.approx(0.25)


def test_inventory_age_when_flat_or_sign_flips_restarts_the_age():
    a = InventoryAge(horizon_s=10.0, skew_halfspreads=1.0)
    a.update(0, 1.0)
    a.update(20 * S, 0.0)
    assert a.age_s(20 * S) == 0.0 and a.center_shift(20 * S, 1.0) == 0.0
    a.update(21 * S, 1.0)
    a.update(25 * S, -1.0)  # flipped short: a new position, age from 25 s
    assert a.age_s(30 * S) == pytest.approx(5.0)
    assert a.center_shift(30 * S, 1.0) == pytest.approx(0.5)


def test_inventory_age_config_when_default_is_off_with_a_ten_second_horizon():
    cfg = QuotingConfig()
    assert cfg.inventory_age_enabled is False
    assert cfg.inventory_age_horizon_s == 10.0 and cfg.inventory_age_skew == 1.0


def _core_long_after(age_s: float, enabled: bool):
    from thalex_mm.config.models import AvellanedaConfig, BotConfig, OrderConfig, RiskConfig
    from thalex_mm.core.events import BookSnapshotReceived
    from thalex_mm.core.market_maker import MarketMakerCore

    from .core_harness import MID, PERP, T0, feed, start_up

    cfg = BotConfig(
        avellaneda=AvellanedaConfig(estimate_intensity=False, k=0.5, A=2.0, gamma=0.1),
        order=OrderConfig(sizes=(0.01,)),
        risk=RiskConfig(position_soft_limit=0.05, position_hard_limit=0.1),
        quoting=QuotingConfig(inventory_age_enabled=enabled, inventory_age_horizon_s=10.0, inventory_age_skew=1.0,
                              toxicity_enabled=False, markout_monitor_enabled=False, tape_markout_enabled=False,
                              trend_fade_enabled=False),
    )
    core = MarketMakerCore(cfg)
    sent: list = []
    start_up(core, sent, position=0.01, average_price=MID)
    feed(core, BookSnapshotReceived(local_ts_ns=T0 + int(age_s * S), instrument=PERP.name,
                                    bids=((MID - 5, 1.0), (MID - 10, 2.0)), asks=((MID + 5, 1.0), (MID + 10, 2.0))), sent)
    return core.figures


def test_core_when_inventory_age_on_and_long_held_past_horizon_moves_the_centre_down_one_half_spread():
    off = _core_long_after(20.0, enabled=False)
    on = _core_long_after(20.0, enabled=True)
    assert off is not None and on is not None
    shift = off.reservation_price - on.reservation_price
    assert 0.5 * off.half_spread < shift < 2.0 * off.half_spread  # one (previous-step) half-spread down
