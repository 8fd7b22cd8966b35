"""On the synthetic Avellaneda–Stoikov market the inventory strategy beats the symmetric one
on risk: lower PnL dispersion and lower inventory (AS 2008's qualitative result)."""

from __future__ import annotations

import numpy as np

from thalex_mm.backtest.api import run_backtest
from thalex_mm.backtest.runner import BacktestSettings
from thalex_mm.backtest.sweep import apply_overrides
from thalex_mm.config.models import BotConfig


def _stats(skew: float) -> tuple[float, float]:
    cfg = apply_overrides(BotConfig(), {"avellaneda.skew_multiplier": skew})
    pnl, inv = [], []
    for seed in range(4):
        s = run_backtest([f"synthetic:120:{seed}"], cfg, BacktestSettings()).summary
        pnl.append(s["pnl_total"])
        inv.append(s["time_weighted_abs_position"])
    return float(np.std(pnl)), float(np.mean(inv))


def test_inventory_strategy_has_lower_pnl_and_inventory_dispersion_than_symmetric():
    pnl_sd_inv, inv_inv = _stats(1.0)
    pnl_sd_sym, inv_sym = _stats(0.0)
    assert inv_inv < inv_sym
    assert pnl_sd_inv < pnl_sd_sym
