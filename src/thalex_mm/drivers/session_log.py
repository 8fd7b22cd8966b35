"""Turns what the core and the quoter report into journal rows and summary figures.

Kept apart from the quoter so the same bookkeeping serves paper and live runs: it is the one
sink of the core's notices (the quoter calls ``on_notices`` after every step that has any) and
observes commands and events (``on_command`` / ``on_event``); the status loop calls
``sample(status)``; the run's end calls ``finish(now_ns)``.

Fills: an order report's fill has no fee (thalex_protocol.md §5.3); the fee comes with the
``account.trade_history`` Trade of the same ``trade_id`` (§5.4), as the position tracker sees
it. A fill is therefore journaled once, with the Trade's fee and maker/taker flag: at once when
the Trade came first, else when it arrives. A fill whose Trade has not come ``fee_grace_s``
after its notice (or by ``finish``) is journaled with fee 0 (fee unknown).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from thalex_mm.core.commands import AmendOrder, CancelOrder, Command, InsertOrder, MassQuote
from thalex_mm.core.events import (
    AccountTrade,
    AccountTradesReceived,
    ErrorReceived,
    Event,
    OrdersUpdated,
)
from thalex_mm.core.flatten import FlattenReport
from thalex_mm.core.market_maker import CoreStatus
from thalex_mm.core.order_records import (
    FillRecorded,
    LeftoverOrderFound,
    OrderRejected,
    OrderStateAnomaly,
    UnknownOrderReported,
)
from thalex_mm.core.position import PositionDiscrepancy
from thalex_mm.core.reasons import OrderDenied, Reason, TradingState, TradingStateChanged
from thalex_mm.core.risk import RunBaseline
from thalex_mm.core.step import Notice
from thalex_mm.drivers.run_outcome import RunOutcome
from thalex_mm.reports.timeline import INFO_SOURCE

__all__ = ["INFO_SOURCE", "SessionLog", "SessionTotals"]

#: Error texts kept in ``SessionTotals.errors`` (the dashboard shows the latest ones).
_ERRORS_KEPT = 50
#: Journaled trade ids remembered (dedup of late Trades); bounded for long sessions.
_TRADE_IDS_KEPT = 100_000


@dataclass
class SessionTotals:
    """Counters for the end-of-run summary. Amounts in contracts, PnL in quote currency.

    ``errors`` holds the latest exchange errors and rejections (newest last, at most 50); the
    dashboard bridge shows them as its recent errors.
    """

    inserts: int = 0
    amends: int = 0
    cancels: int = 0
    mass_quotes: int = 0
    rejects: int = 0
    fills: int = 0
    volume: float = 0.0
    max_abs_position: float = 0.0
    errors: list[str] = field(default_factory=list)


log = logging.getLogger("thalex_mm.session")

# records journaled as one error row each (their repr names every field)
_JOURNALED_AS_ERROR = (OrderDenied, UnknownOrderReported, PositionDiscrepancy, OrderStateAnomaly, LeftoverOrderFound)


class SessionLog:
    """Bookkeeping of one run; ``journal`` may be None (nothing is written then).

    Args:
        journal: a ``thalex_mm.store`` journal (or None).
        run_id: the journal's run id.
        quote_sample_interval_s: journal a quote sample at most this often.
        hub: the dashboard's status hub (fills are marked on its price chart, exchange errors
            and rejections go to its recent errors via ``on_error``), or None.
        instrument: the traded instrument; fills and Trades of others are not journaled (None =
            learnt from the first ``sample``; until then all are).
        fee_grace_s: how long a noticed fill waits for its Trade (and fee) before it is
            journaled with fee 0, seconds of the core's clock.
    """

    def __init__(
        self,
        journal: Any | None,
        run_id: str | None,
        *,
        quote_sample_interval_s: float = 1.0,
        hub: Any | None = None,
        instrument: str | None = None,
        fee_grace_s: float = 5.0,
    ) -> None:
        self.journal = journal
        self.hub = hub
        self.run_id = run_id
        self.instrument = instrument
        self.totals = SessionTotals()
        self.outcome = RunOutcome()
        self._after_disconnect = False  # the last state change was a disconnect halt
        self._sample_ns = int(quote_sample_interval_s * 1e9)
        self._last_sample_ns = 0
        self._grace_ns = int(fee_grace_s * 1e9)
        self._pending: dict[str, tuple[FillRecorded, int]] = {}
        self._journaled: set[str] = set()
        self._journaled_order: deque[str] = deque()

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
            if isinstance(cmd, MassQuote) and self._journal_mass_quote(request_id, cmd, ts_ns):
                return
            self.journal.order(
                self.run_id, ts_ns=ts_ns, event=f"sent:{kind}",
                client_order_id=getattr(cmd, "client_order_id", None),
                side=getattr(getattr(cmd, "side", None), "value", None),
                price=getattr(cmd, "price", None), amount=getattr(cmd, "amount", None),
                detail=f"request {request_id}",
            )

    def on_event(self, event: Event) -> None:
        # An error answering one of our requests comes back from the core as a record with the
        # request's context (OrderRejected, UnknownOrderReported) and is noted once, there.
        answered = isinstance(event, ErrorReceived) and event.request_id is not None
        if isinstance(event, ErrorReceived) and not answered:
            self._note_error(f"exchange error {event.code}: {event.message}")
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
        elif isinstance(event, AccountTradesReceived):
            for trade in event.trades:
                self._on_trade(trade, event.local_ts_ns)
        elif isinstance(event, ErrorReceived) and not answered:
            self.journal.error(self.run_id, ts_ns=event.local_ts_ns, source="exchange", code=event.code, message=event.message)

    def on_notices(self, notices: Sequence[Notice], now_ns: int) -> None:
        """Journal the core's notices (fills, state changes, denials, rejections)."""
        t = self.totals
        j = self.journal
        self.outcome.observe(notices)
        for rec in notices:
            if isinstance(rec, FillRecorded):
                t.fills += 1
                t.volume += rec.amount
                if self.hub is not None:
                    self.hub.on_fill(rec.ts_ns or now_ns, rec.side.value, rec.price, rec.amount)
                if j is not None and self._ours(rec.instrument) and rec.trade_id not in self._journaled:
                    if rec.fee is not None:
                        self._journal_fill(rec, rec.fee, rec.maker_taker, None, now_ns)
                    else:
                        self._pending[rec.trade_id] = (rec, now_ns)
            elif isinstance(rec, OrderRejected) and rec.expected:
                # a race the venue produces (amend/cancel of an order that just filled): info
                if j is not None:
                    j.error(self.run_id, ts_ns=now_ns, source=INFO_SOURCE, code=rec.code,
                            message=f"{rec.command_name}: {rec.message} (order already filled or cancelled)")
            elif isinstance(rec, OrderRejected):
                t.rejects += 1
                self._note_error(f"rejected {rec.command_name} (code {rec.code}): {rec.message}")
                if j is not None:
                    j.error(self.run_id, ts_ns=now_ns, source="rejected", code=rec.code, message=f"{rec.command_name}: {rec.message}")
            elif isinstance(rec, TradingStateChanged):
                self._console_state_line(rec)
                if j is not None:
                    j.risk_event(self.run_id, ts_ns=rec.local_ts_ns or now_ns, state=rec.state.value,
                                 previous=rec.previous.value, reason=rec.reason.value, detail=rec.detail)
            elif isinstance(rec, UnknownOrderReported):
                self._note_error(f"unmatched reply: {rec.detail}")
                if j is not None:
                    j.error(self.run_id, ts_ns=now_ns, source=type(rec).__name__, message=repr(rec)[:500])
            elif isinstance(rec, FlattenReport):
                log.warning("%s", rec.line())
                if j is not None:
                    j.error(self.run_id, ts_ns=rec.ts_ns or now_ns, source="FlattenReport", message=rec.line())
            elif isinstance(rec, RunBaseline):
                # the start-up summary's last line: a warning (and journaled) only when the run
                # inherited something a trader must know about (a position, a loss, a halt)
                if rec.inherited_nothing:
                    log.info("%s", rec.line())
                else:
                    log.warning("%s", rec.line())
                    if j is not None:
                        j.error(self.run_id, ts_ns=rec.ts_ns or now_ns, source="RunBaseline",
                                message=rec.line())
            elif isinstance(rec, _JOURNALED_AS_ERROR) and j is not None:
                j.error(self.run_id, ts_ns=now_ns, source=type(rec).__name__, message=repr(rec)[:500])
        self._flush_pending(now_ns - self._grace_ns, now_ns)

    def _console_state_line(self, rec: TradingStateChanged) -> None:
        """One console line per trading-state change (halt, reduce, resume), with its reason.
        A disconnect and the resume after it are the quoter's connection lines ("connection
        lost", "reconnected"): not printed twice (still journaled)."""
        if rec.reason is Reason.DISCONNECTED:
            self._after_disconnect = True
            return
        if self._after_disconnect and rec.state is TradingState.ACTIVE:
            self._after_disconnect = False
            return
        self._after_disconnect = False
        verb = {TradingState.HALTED: "halted", TradingState.REDUCING: "reducing", TradingState.ACTIVE: "resumed"}[rec.state]
        detail = f" ({rec.detail})" if rec.detail else ""
        log.warning("trading %s: %s%s [was %s]", verb, rec.reason.value, detail, rec.previous.value)

    def finish(self, now_ns: int) -> None:
        """End of the run: journal the fills still waiting for their fee (with fee 0)."""
        self._flush_pending(None, now_ns)

    # -- helpers ---------------------------------------------------------------------------

    def _ours(self, instrument: str) -> bool:
        return self.instrument is None or instrument == self.instrument

    def _note_error(self, text: str) -> None:
        errors = self.totals.errors
        errors.append(text)
        if len(errors) > _ERRORS_KEPT:
            del errors[: len(errors) - _ERRORS_KEPT]
        if self.hub is not None:
            self.hub.on_error(text)

    def _remember(self, trade_id: str) -> None:
        self._journaled.add(trade_id)
        self._journaled_order.append(trade_id)
        if len(self._journaled_order) > _TRADE_IDS_KEPT:
            self._journaled.discard(self._journaled_order.popleft())

    def _journal_fill(
        self, rec: FillRecorded, fee: float, maker_taker: str | None, position_after: float | None, now_ns: int
    ) -> None:
        self._remember(rec.trade_id)
        assert self.journal is not None
        self.journal.fill(
            self.run_id, ts_ns=rec.ts_ns or now_ns, trade_id=rec.trade_id, side=rec.side.value,
            price=rec.price, amount=rec.amount, fee=fee, maker_taker=maker_taker,
            client_order_id=rec.client_order_id, order_id=rec.order_id, position_after=position_after,
        )

    def _on_trade(self, trade: AccountTrade, local_ts_ns: int) -> None:
        """A Trade (with its fee): journal its fill now, with the fee (once per trade id)."""
        if not self._ours(trade.instrument) or trade.trade_id in self._journaled:
            return
        waiting = self._pending.pop(trade.trade_id, None)
        rec = waiting[0] if waiting is not None else FillRecorded(
            client_order_id=trade.client_order_id, order_id=trade.order_id, instrument=trade.instrument,
            side=trade.side, trade_id=trade.trade_id, price=trade.price, amount=trade.amount,
            ts_ns=trade.ts_ns, maker_taker=trade.maker_taker,
        )
        self._journal_fill(rec, trade.fee, trade.maker_taker or rec.maker_taker, trade.position_after, local_ts_ns)

    def _flush_pending(self, seen_before_ns: int | None, now_ns: int) -> None:
        """Journal (fee 0) the waiting fills noticed at or before ``seen_before_ns`` (None: all)."""
        if self.journal is None or not self._pending:
            return
        for trade_id, (rec, seen_ns) in list(self._pending.items()):
            if seen_before_ns is None or seen_ns <= seen_before_ns:
                del self._pending[trade_id]
                self._journal_fill(rec, 0.0, rec.maker_taker, None, now_ns)

    def _journal_mass_quote(self, request_id: int, cmd: MassQuote, ts_ns: int) -> bool:
        """One ``sent:mass_quote`` row per quote level (a cleared side: one row, no price).

        All rows of one request share ``ts_ns`` and the detail prefix ``request N``. Returns
        False when the mass quote has no side at all (the caller writes one bare row).
        """
        assert self.journal is not None
        wrote = False
        for q in cmd.quotes:
            for side, levels in (("buy", q.bids), ("sell", q.asks)):
                if levels is None:
                    continue
                wrote = True
                if not levels:
                    self.journal.order(self.run_id, ts_ns=ts_ns, event="sent:mass_quote", side=side,
                                       detail=f"request {request_id} {q.instrument} {side} side cleared")
                for i, (price, amount) in enumerate(levels):
                    self.journal.order(self.run_id, ts_ns=ts_ns, event="sent:mass_quote", side=side,
                                       price=price, amount=amount,
                                       detail=f"request {request_id} {q.instrument} level {i}")
        return wrote

    def sample(self, s: CoreStatus) -> None:
        """Periodic status: max |position|, journal quote and PnL samples, and the fills that
        waited ``fee_grace_s`` for their Trade in vain (journaled with fee 0)."""
        self._flush_pending(s.ts_ns - self._grace_ns, s.ts_ns)
        t = self.totals
        t.max_abs_position = max(t.max_abs_position, abs(s.position))
        if self.instrument is None and s.instrument:
            self.instrument = s.instrument
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

