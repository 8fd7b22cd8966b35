"""The simulated exchange's matching engine: pure, deterministic, Thalex-faithful.

Per instrument a price-time priority limit order book holding our accounts' orders and the
other participants' aggregate size per level (from a market source), with post-only,
reduce-only, amend, cancel, mass quotes, market-maker protection, self-trade prevention,
accounts (positions, PnL, fees, funding) and queue-position models. Every operation takes
``ts_ns`` and returns an :class:`EngineOutput` (response + notifications); nothing reads a
clock, logs or draws random numbers, so one input sequence gives one output sequence.

Where the rules live (each module's docstring documents its choices):

* ``engine``: sessions, insert/amend/cancel/cancel_all/cancel_session/disconnect, collar,
  read side.
* ``quoting``: mass quote and market-maker protection. ``market``: external levels, external
  market orders, recorded prints (replay), crossing updates, funding.
* ``book``: levels and queues (``queue_ahead``); ``queue_models``: RiskAverse / PowerProb /
  LogProb. ``accounts``: PnL, fee and funding formulas. ``outputs``: the result records.

Typical use (the protocol server or the backtester)::

    engine = MatchingEngine(EngineConfig(maker_fee_rate=0.0, taker_fee_rate=0.0005))
    engine.add_instrument(instrument)
    engine.open_session("conn-1", "acct-1")
    engine.set_mark("BTC-PERPETUAL", 65000.0)
    out = engine.insert("conn-1", "BTC-PERPETUAL", Side.BUY, 0.1, 64990.0, ts_ns=now_ns)
    out.response / out.error / out.order_updates / out.book_changes ...
"""

from thalex_mm.sim.engine.core import EXTERNAL_ACCOUNT, Collar, EngineConfig
from thalex_mm.sim.engine.engine import MatchingEngine
from thalex_mm.sim.engine.mmp import MmpReason
from thalex_mm.sim.engine.outputs import (
    AccountTradeUpdate,
    BookLevelChange,
    EngineError,
    EngineOutput,
    MassQuoteError,
    MassQuoteResult,
    MmpUpdate,
    OrderUpdate,
    PortfolioUpdate,
)
from thalex_mm.sim.engine.queue_models import (
    LogProbQueue,
    PowerProbQueue,
    QueueModel,
    RiskAverseQueue,
)

__all__ = [
    "EXTERNAL_ACCOUNT",
    "AccountTradeUpdate",
    "BookLevelChange",
    "Collar",
    "EngineConfig",
    "EngineError",
    "EngineOutput",
    "LogProbQueue",
    "MassQuoteError",
    "MassQuoteResult",
    "MatchingEngine",
    "MmpReason",
    "MmpUpdate",
    "OrderUpdate",
    "PortfolioUpdate",
    "PowerProbQueue",
    "QueueModel",
    "RiskAverseQueue",
]
