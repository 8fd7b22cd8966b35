"""The replay fast path for external level updates gives the same book, orders, accounts and
published deltas as the full engine call."""

from __future__ import annotations

import numpy as np

from thalex_mm.core.types import Side
from thalex_mm.sim.engine import EngineConfig, MatchingEngine
from thalex_mm.sim.market_feed import BTC_PERPETUAL, MarketFeed
from thalex_mm.sim.sources import SyntheticMarket, SyntheticParams

INST = BTC_PERPETUAL.name


def _run(rows: np.ndarray, fast: bool):
    engine = MatchingEngine(EngineConfig())
    engine.add_instrument(BTC_PERPETUAL)
    engine.open_session("s", "A")
    feed = MarketFeed(engine, source=None, trade_mode="sweep", fast_path=fast)
    deltas: list[dict] = []
    feed.publish_private = lambda out: feed.note_book_changes(out.book_changes, out.public_trades)
    for i, chunk in enumerate(np.array_split(rows, 40)):
        feed.apply(chunk)
        if i % 4 == 0:  # our orders at and around the market's levels
            bb, ba = engine.best_bid_ask(INST)
            ts = int(chunk["exch_ts"][-1])
            engine.insert("s", INST, Side.BUY, 0.05, bb, ts_ns=ts)
            engine.insert("s", INST, Side.SELL, 0.05, ba + 2, ts_ns=ts)
        deltas.append(dict(feed._book_changes))
        feed._book_changes.clear()
    return engine, deltas


def test_fast_path_matches_the_full_engine_call():
    params = SyntheticParams(arrival_rate_per_s=20.0, sigma=8.0, background_offset_ticks=1)
    rows = SyntheticMarket(params, seed=9).generate(60.0)
    assert (rows["kind"] == 2).sum() > 1000
    fast_engine, fast_deltas = _run(rows, fast=True)
    slow_engine, slow_deltas = _run(rows, fast=False)
    assert fast_deltas == slow_deltas
    assert fast_engine.book_levels(INST, None) == slow_engine.book_levels(INST, None)
    assert fast_engine.open_orders(account="A") == slow_engine.open_orders(account="A")
    assert fast_engine.portfolio("A") == slow_engine.portfolio("A")
    assert any(e.position != 0 for e in fast_engine.portfolio("A"))  # our orders did trade
