"""Adverse-selection guard: toxicity skew/widen, fade on the filled side, markout monitor."""

from __future__ import annotations

import math

import pytest

from thalex_mm.config.models import QuotingConfig
from thalex_mm.core.adverse_selection import AdverseSelectionGuard
from thalex_mm.core.types import Side

S = 1_000_000_000


def test_guard_when_everything_off_adjusts_nothing():
    off = QuotingConfig(toxicity_enabled=False, fade_enabled=False, markout_monitor_enabled=False)
    g = AdverseSelectionGuard(off)
    assert not g.enabled
    g.on_public_trade(S, 5.0, Side.BUY)
    g.on_fill(S, Side.BUY, 100.0)
    adj = g.adjust(2 * S, 1.0, 100.0)
    assert (adj.center_shift, adj.widen_bid, adj.widen_ask) == (0.0, 0.0, 0.0)


def test_guard_when_buyers_press_skews_up_and_widens_the_ask():
    cfg = QuotingConfig(toxicity_enabled=True, toxicity_skew=1.0, toxicity_widen=2.0, toxicity_halflife_s=2.0)
    g = AdverseSelectionGuard(cfg)
    g.on_public_trade(S, 3.0, Side.BUY)
    g.on_public_trade(S, 1.0, Side.SELL)
    adj = g.adjust(S, 0.5, None)
    assert adj.toxicity == pytest.approx(0.5)
    assert adj.center_shift == pytest.approx(0.25)  # skew · I · half-spread
    assert adj.widen_ask == pytest.approx(0.5) and adj.widen_bid == 0.0


def test_guard_when_flow_is_old_imbalance_keeps_sign_but_new_flow_dominates():
    cfg = QuotingConfig(toxicity_enabled=True, toxicity_halflife_s=1.0)
    g = AdverseSelectionGuard(cfg)
    g.on_public_trade(0, 8.0, Side.BUY)
    g.on_public_trade(3 * S, 2.0, Side.SELL)  # the buy weighs 8 · 2^-3 = 1 by now
    assert g.toxicity(3 * S) == pytest.approx((1.0 - 2.0) / 3.0)


def test_guard_when_bid_filled_fades_the_bid_and_decays():
    cfg = QuotingConfig(fade_enabled=True, fade_halfspreads=1.0, fade_halflife_s=5.0)
    g = AdverseSelectionGuard(cfg)
    g.on_fill(0, Side.BUY, 100.0)
    g.on_fill(0, Side.BUY, 99.0)
    now = g.adjust(0, 2.0, None)
    assert now.widen_bid == pytest.approx(4.0) and now.widen_ask == 0.0
    later = g.adjust(5 * S, 2.0, None)
    assert later.widen_bid == pytest.approx(2.0)


def test_guard_when_own_fills_mark_out_badly_widens_both_sides_by_the_loss():
    cfg = QuotingConfig(markout_monitor_enabled=True, markout_horizon_s=5.0, markout_widen=1.0)
    g = AdverseSelectionGuard(cfg)
    g.on_fill(0, Side.BUY, 100.0)
    assert g.adjust(4 * S, 1.0, 90.0).widen_bid == 0.0  # not yet marked
    assert math.isnan(g.markout())
    adj = g.adjust(5 * S, 1.0, 97.0)  # bought at 100, mid 97 five seconds later
    assert adj.markout == pytest.approx(-3.0)
    assert adj.widen_bid == pytest.approx(3.0) and adj.widen_ask == pytest.approx(3.0)


def test_guard_when_own_fills_mark_out_well_does_not_widen():
    cfg = QuotingConfig(markout_monitor_enabled=True, markout_horizon_s=1.0)
    g = AdverseSelectionGuard(cfg)
    g.on_fill(0, Side.SELL, 100.0)
    adj = g.adjust(2 * S, 1.0, 99.0)
    assert adj.markout == pytest.approx(1.0)
    assert (adj.widen_bid, adj.widen_ask) == (0.0, 0.0)
