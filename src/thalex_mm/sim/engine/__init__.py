"""The simulated exchange's matching engine: pure, deterministic, Thalex-faithful.

Per instrument a price-time priority limit order book holding our accounts' orders and the
other participants' aggregate size per level (from a market source), with post-only,
reduce-only, amend, cancel, mass quotes, market-maker protection, self-trade prevention,
accounts (positions, PnL, fees, funding) and queue-position models. Every operation takes
``ts_ns`` and returns an :class:`EngineOutput` (response + notifications).
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
