"""Market sources for the simulated exchange and the backtester.

Each source hands out ``MARKET_EVENT_DTYPE`` rows (``thalex_mm.data.events``) through
``due_until(now_ns)``; none reads a clock, sleeps or draws unseeded randomness.
"""

from thalex_mm.sim.sources.replay import ReplaySource
from thalex_mm.sim.sources.synthetic import SyntheticMarket, SyntheticParams

__all__ = ["ReplaySource", "SyntheticMarket", "SyntheticParams"]
