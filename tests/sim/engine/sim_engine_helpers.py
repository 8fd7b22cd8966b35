"""Shared helpers for the matching-engine tests: one BTC perp, tick 1 USD, volume tick 0.001."""

from __future__ import annotations

from thalex_mm.core.types import Instrument
from thalex_mm.sim.engine import EngineConfig, MatchingEngine

PERP = "BTC-PERPETUAL"
PRODUCT = "FBTCUSD"


def make_instrument(name: str = PERP, product: str = PRODUCT) -> Instrument:
    return Instrument(
        name=name,
        product=product,
        tick_size=1.0,
        volume_tick_size=0.001,
        min_order_amount=0.001,
        underlying="BTCUSD",
    )


def make_engine(config: EngineConfig | None = None) -> MatchingEngine:
    """Engine with PERP, sessions s1 (account A), s2 (account B), s3 (account A)."""
    e = MatchingEngine(config)
    e.add_instrument(make_instrument())
    e.open_session("s1", "A")
    e.open_session("s2", "B")
    e.open_session("s3", "A")
    return e
