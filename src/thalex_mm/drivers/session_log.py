"""Turns what the core and the quoter report into journal rows and summary figures.

Kept apart from the quoter so the same bookkeeping serves paper and live runs: the quoter calls
``on_command`` / ``on_event``; the status loop calls ``sample(status)`` and ``drain(core)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from thalex_mm.core.commands import AmendOrder, CancelOrder, Command, InsertOrder, MassQuote
from thalex_mm.core.events import ErrorReceived, Event, OrdersUpdated
from thalex_mm.core.market_maker import CoreStatus
from thalex_mm.core.order_records import FillRecorded, OrderRejected, UnknownOrderReported
from thalex_mm.core.position import PositionDiscrepancy
from thalex_mm.core.reasons import OrderDenied, TradingStateChanged

__all__ = ["SessionLog", "SessionTotals"]


@dataclass
class SessionTotals:
    """Counters for the end-of-run summary. Amounts in contracts, PnL in quote currency."""

    inserts: int = 0
    amends: int = 0
    cancels: int = 0
    mass_quotes: int = 0
    rejects: int = 0
    fills: int = 0
    volume: float = 0.0
    max_abs_position: float = 0.0
    errors: list[str] = field(default_factory=list)


class SessionLog:
    """Bookkeeping of one run; ``journal`` may be None (nothing is written then).

    Args:
        journal: a ``thalex_mm.store`` journal (or None).
        hub: the dashboard's status hub (fills are marked on its price chart), or None.
        run_id: the journal's run id.
        quote_sample_interval_s: journal a quote sample at most this often.
    """

    def __init__(self, journal: Any | None, run_id: str | None, *, quote_sample_interval_s: float = 1.0, hub: Any | None = None) -> None:
        self.journal = journal
        self.hub = hub
        self.run_id = run_id
        self.totals = SessionTotals()
        self._sample_ns = int(quote_sample_interval_s * 1e9)
        self._last_sample_ns = 0

    def on_command(self, request_id: int, cmd: Command, ts_ns: int) -> None:
        t = self.totals
        if isinstance(cmd, InsertOrder):
            t.inserts += 1
            kind = "insert"
        elif isinstance(cmd, AmendOrder):
            t.amends += 1
            kind = "amend"
        elif isinstance(cmd, CancelOrder):
            t.cancels += 1
            kind = "cancel"
        elif isinstance(cmd, MassQuote):
            t.mass_quotes += 1
            kind = "mass_quote"
        else:
            kind = type(cmd).__name__
        if self.journal is not None:
            self.journal.order(
                self.run_id, ts_ns=ts_ns, event=f"sent:{kind}",
                client_order_id=getattr(cmd, "client_order_id", None),
                side=getattr(getattr(cmd, "side", None), "value", None),
                price=getattr(cmd, "price", None), amount=getattr(cmd, "amount", None),
                detail=f"request {request_id}",
            )

    def on_event(self, event: Event) -> None:
        if self.journal is None:
            return
        if isinstance(event, OrdersUpdated):
            for r in event.orders:
                self.journal.order(
                    self.run_id, ts_ns=event.local_ts_ns, event="update", client_order_id=r.client_order_id,
                    order_id=r.order_id, side=r.side.value, price=r.price, amount=r.amount,
                    filled_amount=r.filled_amount, status=r.status.value, change_reason=r.change_reason.value,
                    delete_reason=r.delete_reason.value if r.delete_reason else None,
                )
        elif isinstance(event, ErrorReceived):
            self.journal.error(self.run_id, ts_ns=event.local_ts_ns, source="exchange", code=event.code, message=event.message)

    def drain(self, records: list[Any], now_ns: int) -> None:
        """Journal the core's records (fills, state changes, denials, rejections)."""
        t = self.totals
        j = self.journal
        for rec in records:
            if isinstance(rec, FillRecorded):
                t.fills += 1
                t.volume += rec.amount
                if self.hub is not None:
                    self.hub.on_fill(rec.ts_ns or now_ns, rec.side.value, rec.price, rec.amount)
                if j is not None:
                    j.fill(self.run_id, ts_ns=rec.ts_ns or now_ns, trade_id=rec.trade_id, side=rec.side.value,
                           price=rec.price, amount=rec.amount, client_order_id=rec.client_order_id, order_id=rec.order_id)
            elif isinstance(rec, OrderRejected):
                t.rejects += 1
                if j is not None:
                    j.error(self.run_id, ts_ns=now_ns, source="rejected", code=rec.code, message=f"{rec.command}: {rec.message}")
            elif isinstance(rec, TradingStateChanged):
                if j is not None:
                    j.risk_event(self.run_id, ts_ns=rec.local_ts_ns or now_ns, state=rec.state.value,
                                 previous=rec.previous.value, reason=rec.reason.value, detail=rec.detail)
            elif isinstance(rec, OrderDenied | UnknownOrderReported | PositionDiscrepancy) and j is not None:
                j.error(self.run_id, ts_ns=now_ns, source=type(rec).__name__, message=repr(rec)[:500])

    def sample(self, s: CoreStatus) -> None:
        """Periodic status: max |position|, journal quote and PnL samples."""
        t = self.totals
        t.max_abs_position = max(t.max_abs_position, abs(s.position))
        if self.journal is None or s.ts_ns - self._last_sample_ns < self._sample_ns:
            return
        self._last_sample_ns = s.ts_ns
        self.journal.quote(
            self.run_id, ts_ns=s.ts_ns, mid=s.mid, fair_value=s.fair_value, reservation=s.reservation,
            bid=s.our_bid, ask=s.our_ask, bid_size=s.our_bid_size, ask_size=s.our_ask_size,
            sigma=s.sigma, A=s.A, k=s.k, gamma=s.gamma,
        )
        self.journal.pnl(
            self.run_id, ts_ns=s.ts_ns, position=s.position, avg_price=s.average_price, mark=s.mark,
            realised=s.pnl_realised, unrealised=s.pnl_unrealised, fees=s.fees, funding=s.funding,
            equity=s.pnl_total,
        )
