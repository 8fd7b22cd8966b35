"""The backtest's sink of the core's notices: counts them into the run report's counters.

Live and paper runs journal every notice (``drivers.session_log.SessionLog``); a backtest has
no journal, so what the report needs of them is counted here, under the summary's
``counters`` (always present, 0 when nothing happened): ``risk_events`` (trading-state
changes, as the journal-based report counts them), ``halts`` (changes into HALTED),
``quote_denials`` / ``order_denials`` (our risk gate / last-line check refused),
``position_discrepancies``. The trading-state changes and the exchange's refusals (not the
expected races) also go to the report's timeline (``reports.timeline``).
"""

from __future__ import annotations

from collections.abc import Sequence

from thalex_mm.core.order_records import OrderRejected
from thalex_mm.core.position import PositionDiscrepancy
from thalex_mm.core.reasons import OrderDenied, QuoteDenied, TradingState, TradingStateChanged
from thalex_mm.core.step import Notice
from thalex_mm.reports import RunRecorder
from thalex_mm.reports.timeline import error_event, state_change_event

__all__ = ["COUNTERS", "NoticeCounter"]

COUNTERS: tuple[str, ...] = ("risk_events", "halts", "quote_denials", "order_denials", "position_discrepancies")
"""The counter names this sink adds to a backtest's summary."""


class NoticeCounter:
    """Counts a backtest's notices into ``recorder``'s named counters (see the module doc)."""

    def __init__(self, recorder: RunRecorder) -> None:
        self._rec = recorder
        for name in COUNTERS:
            recorder.count(name, 0)

    def on_notices(self, notices: Sequence[Notice], ts_ns: int) -> None:
        count = self._rec.count
        for n in notices:
            if isinstance(n, TradingStateChanged):
                count("risk_events")
                self._rec.on_timeline(state_change_event(
                    n.local_ts_ns or ts_ns, n.state.value, n.previous.value, n.reason.value, n.detail))
                if n.state is TradingState.HALTED and n.previous is not TradingState.HALTED:
                    count("halts")
            elif isinstance(n, QuoteDenied):
                count("quote_denials")
            elif isinstance(n, OrderDenied):
                count("order_denials")
            elif isinstance(n, PositionDiscrepancy):
                count("position_discrepancies")
            elif isinstance(n, OrderRejected) and not n.expected:
                self._rec.on_timeline(error_event(ts_ns, "rejected", n.code,
                                                  f"{n.command_name}: {n.message}"))
