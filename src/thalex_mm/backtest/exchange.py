"""The exchange side of a backtest: the matching engine fed only with the rows that matter.

The engine (``thalex_mm.sim.engine``) holds our orders and, at the prices that matter, the
other participants' size. It runs on the exchange clock. Market rows reach it through
:meth:`SimExchange.advance`, which selects with a few vectorised comparisons the only rows
that can change anything for our resting orders (per row, numbers precomputed in the tape):

* level rows on our side at ticks in ``[lowest, highest]`` of our orders on that side (queue
  position: the queue model sees every size change at our prices);
* opposite level rows with size that reach or cross our best price (the book moved through
  us: the engine fills us completely at our own price);
* prints at or through our prices (sell prints at ≤ our highest bid, buy prints at ≥ our
  lowest ask): the engine consumes the queue ahead of us first, then fills us.

All other rows only update the *truth*: a dense array of the recorded book, advanced in bulk
(one numpy assignment per call). Before each order operation the engine is synced with the
truth at the order's price (so a new order queues behind exactly the recorded size there) and
on the opposite side up to the order's price (so post-only repricing and taker matching see
the real book, and stale sizes the engine kept from earlier rows are corrected).

Fills are honest: our orders fill only through the engine's queue model and its crossing
rules; nothing fills on a price merely touching ours.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from collections.abc import Callable

import numpy as np

from thalex_mm.backtest.tape import BIG, MarketTape
from thalex_mm.core.commands import (
    AmendOrder,
    CancelAll,
    CancelMassQuote,
    CancelOrder,
    CancelSession,
    Command,
    InsertOrder,
    MassQuote,
    SetMmp,
)
from thalex_mm.core.events import (
    AccountTradesReceived,
    ErrorReceived,
    Event,
    OrderReport,
    OrdersUpdated,
    PortfolioUpdated,
    ResponseReceived,
)
from thalex_mm.core.types import Instrument, OrderStatus, Side
from thalex_mm.data.events import EventKind
from thalex_mm.protocol.error_codes import error_kind
from thalex_mm.sim.engine import EngineConfig, EngineOutput, MassQuoteResult, MatchingEngine

__all__ = ["ACCOUNT", "SESSION", "SimExchange"]

SESSION = "backtest"
ACCOUNT = "backtest-account"

_BUY = Side.BUY
_SELL = Side.SELL
_LIVE = (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED)
_LEVEL = int(EventKind.BOOK_LEVEL)  # plain ints: compared per row on the hot path
_TRADE = int(EventKind.TRADE)
_IBIG = int(BIG)
_CROSS_WINDOW = 4096  # ticks scanned for recorded levels crossing a new order
_WINDOW_ROWS = 4096  # rows selected per vectorised pass in advance()

FillSink = Callable[[int, object], None]


class SimExchange:
    """Matching engine + recorded-book truth + the queue of events going back to the core.

    Args:
        tape: the session's precomputed market tape.
        instrument: the instrument we trade (its tick must be the tape's).
        engine_config: fees, queue model, collar.
        on_trade: called ``(ts_ns, AccountTrade)`` for each of our fills (the recorder).
        on_orders: called ``(ts_ns, reports)`` whenever our live orders change.
    """

    def __init__(
        self,
        tape: MarketTape,
        instrument: Instrument,
        engine_config: EngineConfig,
        *,
        on_trade: FillSink,
        on_orders: Callable[[int], None],
    ) -> None:
        self.tape = tape
        self.instrument = instrument
        self.name = instrument.name
        self.engine = MatchingEngine(engine_config)
        self.engine.add_instrument(instrument)
        self.engine.open_session(SESSION, ACCOUNT)
        self._on_trade = on_trade
        self._on_orders = on_orders
        # events for the core: (deliver_ts_ns, event); filled by the caller's latency
        self.outbox: deque[tuple[int, Event]] = deque()
        self.response_latency: Callable[[], int] = lambda: 0
        self._last_out_ts = 0
        self.cursor = 0  # next row the engine has not seen
        # the recorded book's sizes, one slot per dense-book slot that some row writes (a
        # session has ~10-20k; the dense range ``2 * width`` can be millions: 100 MB of
        # zeros for the 2024 BTCUSDT session); ``_slots`` sorted, the dummy slot last
        self._slots: np.ndarray = np.unique(np.r_[tape.slot, 2 * tape.width])
        self._row_slot: np.ndarray = np.searchsorted(self._slots, tape.slot)
        self._slot_index: dict[int, int] = {s: i for i, s in enumerate(self._slots.tolist())}
        self._truth = np.zeros(self._slots.size)
        self._truth_cursor = 0
        self._zero_from = 0  # first row whose slot may be non-zero in the truth
        self.live: dict[str, tuple[int, int]] = {}  # order_id -> (side sign, ticks)
        self._cid_side: dict[int, Side] = {}  # client order id -> side
        self._bmin = self._amin = _IBIG
        self._bmax = self._amax = -_IBIG
        # cached selection of _rows_that_matter: (first row, end row, bounds, hit rows)
        self._win: tuple[int, int, tuple[int, int, int, int], list[int]] | None = None
        self.rows_to_engine = 0
        self.engine_ops = 0
        # our commands the engine refused (an error reply; for a mass quote, each failed
        # level counts): the core sees these as ErrorReceived / n_fail
        self.rejects = 0

    # ------------------------------------------------------------ market rows

    def advance(self, t_ns: int) -> bool:
        """Let the engine see every market row with ``exch_ts <= t_ns``.

        Returns:
            True when it stopped early after a row that filled us (the caller re-plans: the
            fill's notifications may be due before ``t_ns``); False when all rows were seen.
        """
        tape = self.tape
        c = self.cursor
        j = int(tape.exch_ts.searchsorted(t_ns, "right"))  # the method: no dispatch wrapper
        if j <= c:
            return False
        if not self.live:
            self.cursor = j
            return False
        rows = self._rows_that_matter(c, j)
        if not rows:
            self.cursor = j
            return False
        kind, side, qty, ts = tape.kind, tape.side, tape.qty, tape.exch_ts
        eng = self.engine
        name = self.name
        tick = tape.tick_size
        ticks = tape.ticks
        for i in rows:
            self.rows_to_engine += 1
            k = kind[i]
            t = int(ts[i])
            px = round(int(ticks[i]) * tick, 10)
            if k == _LEVEL:
                out = eng.set_external_level(name, _BUY if side[i] > 0 else _SELL, px,
                                             float(qty[i]), ts_ns=t)
            elif k == _TRADE:
                out = eng.external_trade(name, _BUY if side[i] > 0 else _SELL, px,
                                         float(qty[i]), ts_ns=t)
            else:
                continue
            if out.order_updates or out.account_trades:
                self._notify(t, out)
                self.cursor = i + 1
                return True
        self.cursor = j
        return False

    def _rows_that_matter(self, c: int, j: int) -> list[int]:
        """Rows in ``[c, j)`` that can touch our resting orders (see the module docstring).

        The selection depends only on our order bounds, so it is computed for a window of at
        least ``_WINDOW_ROWS`` rows ahead and reused (bisect) until the bounds change or the
        cursor leaves the window: one vectorised pass per window instead of per call.
        """
        key = (self._bmin, self._bmax, self._amin, self._amax)
        win = self._win
        if win is None or win[2] != key or c < win[0] or j > win[1]:
            tape = self.tape
            hi = min(max(j, c + _WINDOW_ROWS), tape.kind.size)
            bmin, bmax, amin, amax = key
            m = tape.low_threat[c:hi] <= bmax
            m |= tape.high_threat[c:hi] >= amin
            if bmax > -_IBIG:
                bl = tape.bid_level_ticks[c:hi]
                m |= (bl >= bmin) & (bl <= bmax)
            if amin < _IBIG:
                al = tape.ask_level_ticks[c:hi]
                m |= (al >= amin) & (al <= amax)
            win = self._win = (c, hi, key, (np.flatnonzero(m) + c).tolist())
        hits = win[3]
        if not hits:
            return hits
        return hits[bisect_left(hits, c):bisect_left(hits, j)]

    def _sync_truth(self) -> None:
        """Bring the dense recorded book up to the engine cursor."""
        tape = self.tape
        c, j = self._truth_cursor, self.cursor
        if j <= c:
            return
        clears = tape.clear_rows
        if clears.size:
            inside = clears[(clears >= c) & (clears < j)]
            if inside.size:
                # zero only the slots written since the last clear (every non-zero slot was
                # written by one of those rows): the array spans the session's whole price
                # range (millions of slots), the rows are far fewer
                self._truth[self._row_slot[self._zero_from:c]] = 0.0
                c = self._zero_from = int(inside[-1])
        sl = slice(c, j)
        self._truth[self._row_slot[sl]] = tape.qty[sl]
        self._truth[-1] = 0.0
        self._truth_cursor = j

    def _true_qty(self, side_sign: int, ticks: int) -> float:
        tape = self.tape
        i = ticks - tape.base_tick
        if i < 0 or i >= tape.width:
            return 0.0
        k = self._slot_index.get((0 if side_sign > 0 else tape.width) + i)
        return 0.0 if k is None else float(self._truth[k])

    def _nonzero_levels(self, lo: int, hi: int) -> list[tuple[int, float]]:
        """``(dense slot, size)`` of the recorded levels with a size in slots ``[lo, hi)``,
        ascending."""
        slots = self._slots
        a = int(np.searchsorted(slots, lo))
        b = int(np.searchsorted(slots, hi)) if hi > lo else a
        nz = np.flatnonzero(self._truth[a:b]) + a
        return list(zip(slots[nz].tolist(), self._truth[nz].tolist(), strict=True))

    def _sync_for_order(self, side: Side, price: float, ts_ns: int) -> None:
        """Set the engine's external size at ``price`` and on the opposite side up to it."""
        self._sync_truth()
        tape = self.tape
        eng = self.engine
        name = self.name
        t = round(price / tape.tick_size)
        sgn = 1 if side is _BUY else -1
        eng.set_external_level(name, side, price, self._true_qty(sgn, t), ts_ns=ts_ns)
        w = tape.width
        i = t - tape.base_tick
        # recorded levels crossing our price: a crossed book beyond _CROSS_WINDOW ticks
        # would be a broken capture, so only that window is scanned
        if side is _BUY:
            lo = max(0, i - _CROSS_WINDOW)
            cross = self._nonzero_levels(w + lo, w + max(lo, min(i + 1, w)))
            off = w
            opp = _SELL
        else:
            lo = max(0, i)
            cross = self._nonzero_levels(lo, min(w, lo + _CROSS_WINDOW))
            off = 0
            opp = _BUY
        stale = []
        best_bid, best_ask = eng.best_bid_ask(name)
        if side is _BUY and best_ask is not None and best_ask <= price + 1e-9:
            stale = [p for p, _ in eng.book_levels(name, 10_000)[1] if p <= price + 1e-9]
        elif side is _SELL and best_bid is not None and best_bid >= price - 1e-9:
            stale = [p for p, _ in eng.book_levels(name, 10_000)[0] if p >= price - 1e-9]
        for p in stale:
            pt = round(p / tape.tick_size)
            eng.set_external_level(name, opp, p, self._true_qty(-sgn, pt), ts_ns=ts_ns)
        for slot, qty in cross:
            p = round((slot - off + tape.base_tick) * tape.tick_size, 10)
            eng.set_external_level(name, opp, p, qty, ts_ns=ts_ns)

    # ------------------------------------------------------------ commands

    def execute(self, request_id: int, cmd: Command, t_ns: int) -> None:
        """Run one command at exchange time ``t_ns`` (after :meth:`advance` to ``t_ns``)."""
        eng = self.engine
        self.engine_ops += 1
        if isinstance(cmd, AmendOrder):
            o = self._order_side(cmd)
            if o is not None:
                self._sync_for_order(o, cmd.price, t_ns)
            out = eng.amend(SESSION, cmd.amount, cmd.price, ts_ns=t_ns, order_id=cmd.order_id,
                            client_order_id=None if cmd.order_id else cmd.client_order_id)
        elif isinstance(cmd, InsertOrder):
            if cmd.price is not None:
                self._sync_for_order(cmd.side, cmd.price, t_ns)
            out = eng.insert(
                SESSION, cmd.instrument, cmd.side, cmd.amount, cmd.price, ts_ns=t_ns,
                order_type=cmd.order_type, time_in_force=cmd.time_in_force,
                client_order_id=cmd.client_order_id, label=cmd.label, post_only=cmd.post_only,
                reject_post_only=cmd.reject_post_only, reduce_only=cmd.reduce_only,
            )
        elif isinstance(cmd, CancelOrder):
            out = eng.cancel(SESSION, ts_ns=t_ns, order_id=cmd.order_id,
                             client_order_id=None if cmd.order_id else cmd.client_order_id)
        elif isinstance(cmd, CancelAll):
            out = eng.cancel_all(SESSION, ts_ns=t_ns)
        elif isinstance(cmd, CancelSession):
            out = eng.cancel_session(SESSION, ts_ns=t_ns)
        elif isinstance(cmd, MassQuote):
            items = []
            for q in cmd.quotes:
                for lv_side, levels in ((_BUY, q.bids), (_SELL, q.asks)):
                    for p, _a in levels or ():
                        self._sync_for_order(lv_side, p, t_ns)
                items.append((q.instrument, q.bids, q.asks))
            out = eng.mass_quote(SESSION, items, ts_ns=t_ns, label=cmd.label,
                                 post_only=cmd.post_only, reject_post_only=cmd.reject_post_only)
        elif isinstance(cmd, CancelMassQuote):
            out = eng.cancel_mass_quote(SESSION, cmd.product, ts_ns=t_ns)
        elif isinstance(cmd, SetMmp):
            out = eng.set_mmp(SESSION, cmd.product, cmd.trade_amount, cmd.quote_amount,
                              ts_ns=t_ns)
        else:
            return  # Halt and unknown commands never reach the exchange
        self._respond(request_id, t_ns, out)

    def _order_side(self, cmd: AmendOrder) -> Side | None:
        if cmd.order_id is not None and cmd.order_id in self.live:
            return _BUY if self.live[cmd.order_id][0] > 0 else _SELL
        if cmd.client_order_id is not None:
            return self._cid_side.get(cmd.client_order_id)
        return None

    def _due(self, t_ns: int) -> int:
        d = t_ns + self.response_latency()
        if d < self._last_out_ts:  # one ordered connection: no overtaking
            d = self._last_out_ts
        self._last_out_ts = d
        return d

    def _respond(self, request_id: int, t_ns: int, out: EngineOutput) -> None:
        d = self._due(t_ns)
        if out.error is not None:
            self.rejects += 1
            code = int(out.error.code)
            self.outbox.append((d, ErrorReceived(exchange_ts_ns=t_ns, local_ts_ns=d,
                                                 request_id=request_id, kind=error_kind(code),
                                                 code=code, message=out.error.message)))
        else:
            if type(out.response) is MassQuoteResult and out.response.n_fail:
                self.rejects += out.response.n_fail
            report = out.response if type(out.response) is OrderReport else None
            self.outbox.append((d, ResponseReceived(exchange_ts_ns=t_ns, local_ts_ns=d,
                                                    request_id=request_id, report=report)))
        self._notify(t_ns, out, d)

    def _notify(self, t_ns: int, out: EngineOutput, d: int | None = None) -> None:
        """Queue the order, trade and portfolio notifications of ``out`` for the core."""
        if d is None:
            d = self._due(t_ns)
        reports = tuple(u.report for u in out.order_updates if u.session == SESSION)
        if reports:
            changed = False
            live = self.live
            for r in reports:
                if r.status in _LIVE and r.price is not None:
                    sgn = 1 if r.side is _BUY else -1
                    v = (sgn, round(r.price / self.tape.tick_size))
                    if live.get(r.order_id) != v:
                        live[r.order_id] = v
                        changed = True
                    if r.client_order_id is not None:
                        self._cid_side[r.client_order_id] = r.side
                elif r.order_id in live:
                    del live[r.order_id]
                    changed = True
            if changed:
                self._bounds()
                self._on_orders(t_ns)
            self.outbox.append((d, OrdersUpdated(exchange_ts_ns=t_ns, local_ts_ns=d,
                                                 orders=reports, scope="session")))
        trades = tuple(u.trade for u in out.account_trades if u.account == ACCOUNT)
        if trades:
            for tr in trades:
                self._on_trade(t_ns, tr)
            self.outbox.append((d, AccountTradesReceived(exchange_ts_ns=t_ns, local_ts_ns=d,
                                                         trades=trades)))
        entries = tuple(u.entry for u in out.portfolio_changes if u.account == ACCOUNT)
        if trades and not entries:
            entries = (self.engine.ledger.entry(ACCOUNT, self.name),)
        if entries:
            self.outbox.append((d, PortfolioUpdated(exchange_ts_ns=t_ns, local_ts_ns=d,
                                                    entries=entries)))

    def _bounds(self) -> None:
        bmin = amin = _IBIG
        bmax = amax = -_IBIG
        for sgn, t in self.live.values():
            if sgn > 0:
                bmin = min(bmin, t)
                bmax = max(bmax, t)
            else:
                amin = min(amin, t)
                amax = max(amax, t)
        self._bmin, self._bmax, self._amin, self._amax = bmin, bmax, amin, amax

    def our_quotes(self) -> tuple[float | None, float | None]:
        """Our best live bid and ask prices (None for a side without orders)."""
        tick = self.tape.tick_size
        b = round(self._bmax * tick, 10) if self._bmax > -_IBIG else None
        a = round(self._amin * tick, 10) if self._amin < _IBIG else None
        return b, a

