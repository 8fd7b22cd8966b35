"""The matching engine's public API: sessions, orders, read side.

Behaviour follows thalex_protocol.md §3, §5 and §6; choices where the sources are silent are
documented on each method. The engine is pure: every operation takes ``ts_ns`` (ns since epoch)
and returns an :class:`~thalex_mm.sim.engine.outputs.EngineOutput`.

Collar: the reference is the mark set by :meth:`MatchingEngine.set_mark`; ``collar_low =
mark * (1 - band)`` checks asks, ``collar_high = mark * (1 + band)`` checks bids. Without a mark
limit orders are not collar-checked and market orders are refused (UNBOUNDED_MARKET_ORDER).
Market orders execute as IOC bounded by the collar price (``reject`` and ``clamp`` alike).
"""

from __future__ import annotations

import math

from thalex_mm.core.events import AccountSummaryUpdated, OrderReport, PortfolioEntry
from thalex_mm.core.types import (
    ChangeReason,
    DeleteReason,
    Instrument,
    OrderType,
    Side,
    TimeInForce,
)
from thalex_mm.protocol.error_codes import ErrorCode
from thalex_mm.sim.engine.book import Book, RestingOrder
from thalex_mm.sim.engine.core import Collar, EngineConfig, _Op, _resting_price, _Session
from thalex_mm.sim.engine.mmp import MmpReason
from thalex_mm.sim.engine.outputs import EngineError, EngineOutput
from thalex_mm.sim.engine.quoting import _QuotingMixin
from thalex_mm.sim.engine.validation import check_amount, check_price

__all__ = ["MatchingEngine"]

# enum members as module constants: a class attribute lookup per check is costly
_BUY = Side.BUY
_GTC = TimeInForce.GTC
_IOC = TimeInForce.IOC
_MARKET = OrderType.MARKET


class MatchingEngine(_QuotingMixin):
    """Price-time priority books for several instruments, accounts and sessions.

    Args:
        config: fees, collar band, queue model, self-trade prevention.
    """

    def __init__(self, config: EngineConfig | None = None) -> None:
        super().__init__(config)

    # ------------------------------------------------------------ setup

    def add_instrument(self, instrument: Instrument) -> None:
        """Make ``instrument`` tradable (an empty book)."""
        self._instruments[instrument.name] = instrument
        if instrument.name not in self._books:
            self._books[instrument.name] = Book(instrument.name, instrument.tick_size)

    def open_session(self, session: str, account: str, *, persistent: bool = True) -> None:
        """Register a (logged-in) session of ``account``. Sessions start persistent (§3)."""
        self._sessions[session] = _Session(account, persistent)
        self.ledger.ensure_account(account)

    def set_session_persistent(self, session: str, persistent: bool) -> None:
        """``set_cancel_on_disconnect`` makes a session non-persistent (§3).

        Only orders inserted afterwards take the new flag.
        """
        self._session(session).persistent = persistent

    def set_mark(self, instrument: str, mark_price: float) -> None:
        """Set the mark (collar reference and unrealised-PnL price), USD."""
        self.ledger.marks[instrument] = mark_price
        inst = self._instruments[instrument]
        band = self.config.collar_band_fraction
        low, high = mark_price * (1.0 - band), mark_price * (1.0 + band)
        # bids may go up to floor(high), asks down to ceil(low), in ticks
        self._collar[instrument] = (
            math.ceil(round(low / inst.tick_size, 8)),
            math.floor(round(high / inst.tick_size, 8)),
        )

    def collar_bounds(self, instrument: str) -> tuple[float, float] | None:
        """``(collar_low, collar_high)`` for the ticker, or None without a mark."""
        mark = self.ledger.marks.get(instrument)
        if mark is None:
            return None
        band = self.config.collar_band_fraction
        return mark * (1.0 - band), mark * (1.0 + band)

    # ------------------------------------------------------------ insert

    def insert(
        self,
        session: str,
        instrument: str,
        side: Side,
        amount: float,
        price: float | None = None,
        *,
        ts_ns: int,
        order_type: OrderType = OrderType.LIMIT,
        time_in_force: TimeInForce | None = None,
        client_order_id: int | None = None,
        label: str | None = None,
        post_only: bool = False,
        reject_post_only: bool = False,
        reduce_only: bool = False,
        collar: Collar | None = None,
    ) -> EngineOutput:
        """``private/insert`` (§5.2). Response: the OrderReport (``change_reason=insert``).

        ``reject_post_only`` only acts together with ``post_only``. Reduce-only orders are cut
        to the open position when inserted; resting ones are not trimmed later.
        """
        s = self._sessions.get(session) or self._session(session)
        inst = self._instruments.get(instrument)
        if inst is None:
            return self._error(ErrorCode.UNKNOWN_INSTRUMENT, f"unknown instrument {instrument!r}")
        is_market = order_type is _MARKET
        tif = time_in_force or (_IOC if is_market else _GTC)
        if is_market and tif is _GTC:
            return self._error(ErrorCode.INVALID_TIME_IN_FORCE, "market orders must be IOC")
        if post_only and (tif is _IOC):
            return self._error(ErrorCode.INVALID_TIME_IN_FORCE, "post_only cannot be IOC")
        a = check_amount(inst, amount)
        if isinstance(a, EngineError):
            return EngineOutput(error=a)
        ticks = 0
        px: float | None = None
        if not is_market:
            checked = check_price(inst, price)
            if isinstance(checked, EngineError):
                return EngineOutput(error=checked)
            ticks, px = checked
        if client_order_id is not None and client_order_id in s.by_cid:
            return self._error(
                ErrorCode.DUPLICATE_ORDER_ID,
                f"client_order_id {client_order_id} is already used by a live order",
            )
        if reduce_only:
            pos = self.ledger.position(s.account, instrument)
            if pos == 0.0 or (pos > 0.0) == (side is _BUY):
                return self._error(
                    ErrorCode.REDUCE_ONLY_MODE,
                    f"reduce_only {side} would not reduce position {pos}",
                )
            a = min(a, abs(pos))
        # collar
        bounds = self._collar.get(instrument)
        if is_market:
            if collar is Collar.IGNORE:
                return self._error(ErrorCode.INVALID_REQUEST, "collar=ignore is not allowed "
                                   "on market orders")
            if bounds is None:
                return self._error(ErrorCode.UNBOUNDED_MARKET_ORDER,
                                   "no mark price to bound the market order")
            limit_ticks = bounds[1] if side is _BUY else bounds[0]
        else:
            if bounds is not None and collar is not Collar.IGNORE and (
                ticks > bounds[1] if side is _BUY else ticks < bounds[0]
            ):
                res = self._apply_collar(inst, side, ticks, bounds, collar or Collar.REJECT)
                if isinstance(res, EngineError):
                    return EngineOutput(error=res)
                ticks = res
                px = round(ticks * inst.tick_size, 8)
            limit_ticks = ticks
        self._order_seq += 1
        o = RestingOrder(
            f"{self._order_seq:016X}", session, s.account, instrument, side, px, ticks, a,
            client_order_id, label, s.persistent, reduce_only, post_only, False, order_type,
            tif, ts_ns,
        )
        op = self._begin(ts_ns)
        report = self._place(op, o, limit_ticks, ChangeReason.INSERT, reject_post_only)
        return self._finish(op, report)

    def _apply_collar(
        self, inst: Instrument, side: Side, ticks: int, bounds: tuple[int, int] | None,
        mode: Collar,
    ) -> int | EngineError:
        """Return the (possibly clamped) ticks, or PRICE_COLLAR_BREACH.

        Args:
            bounds: ``(lowest ask, highest bid)`` allowed, in ticks; None without a mark.
        """
        if bounds is None or mode is Collar.IGNORE:
            return ticks
        bound = bounds[1] if side is _BUY else bounds[0]
        breach = ticks > bound if side is _BUY else ticks < bound
        if not breach:
            return ticks
        if mode is Collar.CLAMP:
            return bound
        low, high = self.collar_bounds(inst.name) or (0.0, 0.0)
        what = f"above collar_high {high}" if side is _BUY else f"below collar_low {low}"
        return EngineError(ErrorCode.PRICE_COLLAR_BREACH,
                           f"{side} price {ticks * inst.tick_size} is {what}")

    # ------------------------------------------------------------ amend / cancel

    def _find(
        self, s_name: str, order_id: str | None, client_order_id: int | None
    ) -> RestingOrder | EngineError:
        s = self._session(s_name)
        if (order_id is None) == (client_order_id is None):
            return EngineError(ErrorCode.INVALID_REQUEST,
                               "give exactly one of order_id and client_order_id")
        if order_id is not None:
            o = self._orders.get(order_id)
            if o is None or o.account != s.account:
                return EngineError(ErrorCode.ORDER_NOT_FOUND, f"order {order_id} not found")
            return o
        o = s.by_cid.get(client_order_id) if client_order_id is not None else None
        if o is None:
            return EngineError(ErrorCode.ORDER_NOT_FOUND,
                               f"client_order_id {client_order_id} not found in this session")
        return o

    def amend(
        self,
        session: str,
        amount: float,
        price: float,
        *,
        ts_ns: int,
        order_id: str | None = None,
        client_order_id: int | None = None,
        collar: Collar | None = None,
    ) -> EngineOutput:
        """``private/amend`` (§5.2): new price and new *original* amount (volume-safe).

        An amount ≤ the filled amount deletes the order (``client_cancel``). The same price
        with an amount ≤ the current amount keeps queue priority; anything else sends the
        order to the back of the new level (it may trade if it now crosses). A post-only
        order that would cross is moved one tick from the opposite best.
        """
        o = self._find(session, order_id, client_order_id)
        if isinstance(o, EngineError):
            return EngineOutput(error=o)
        inst = self._instruments[o.instrument]
        a = check_amount(inst, amount)
        if isinstance(a, EngineError):
            return EngineOutput(error=a)
        checked = check_price(inst, price)
        if isinstance(checked, EngineError):
            return EngineOutput(error=checked)
        ticks, px = checked
        res = self._apply_collar(inst, o.side, ticks, self._collar.get(o.instrument),
                                 collar or Collar.REJECT)
        if isinstance(res, EngineError):
            return EngineOutput(error=res)
        if res != ticks:
            ticks, px = res, round(res * inst.tick_size, 8)
        op = self._begin(ts_ns)
        if a <= o.filled + 1e-12:
            report = self._delete(op, o, DeleteReason.CLIENT_CANCEL, ChangeReason.AMEND)
            return self._finish(op, report)
        if ticks == o.ticks and a <= o.amount:
            o.amount = a
            o.remaining = round(a - o.filled, 10)
            op.touched[(o.instrument, o.side, o.ticks)] = _resting_price(o)
            report = self._emit(op, o, self._report(o, ChangeReason.AMEND))
            return self._finish(op, report)
        self._detach(op, o)
        self._unlink(o)
        o.ticks, o.price, o.amount = ticks, px, a
        o.remaining = round(a - o.filled, 10)
        report = self._place(op, o, ticks, ChangeReason.AMEND)
        return self._finish(op, report)

    def cancel(
        self, session: str, *, ts_ns: int, order_id: str | None = None,
        client_order_id: int | None = None,
    ) -> EngineOutput:
        """``private/cancel`` (§5.2): by order_id (any of the account's orders) or by
        client_order_id (this session's only). Response: the OrderReport (``client_cancel``)."""
        o = self._find(session, order_id, client_order_id)
        if isinstance(o, EngineError):
            return EngineOutput(error=o)
        op = self._begin(ts_ns)
        return self._finish(op, self._delete(op, o, DeleteReason.CLIENT_CANCEL))

    def cancel_all(self, session: str, *, ts_ns: int) -> EngineOutput:
        """``private/cancel_all``: every live order of the session's account (mass quotes
        included), ``client_bulk_cancel``. Response: the number deleted."""
        account = self._session(session).account
        op = self._begin(ts_ns)
        victims = [o for o in self._orders.values() if o.account == account]
        for o in victims:
            self._delete(op, o, DeleteReason.CLIENT_BULK_CANCEL)
        return self._finish(op, len(victims))

    def _end_session_orders(self, op: _Op, session: str) -> None:
        for o in [o for o in self._orders.values() if o.session == session and not o.persistent]:
            self._delete(op, o, DeleteReason.SESSION_END)

    def cancel_session(self, session: str, *, ts_ns: int) -> EngineOutput:
        """``private/cancel_session`` (§3): the session's non-persistent orders (``session_end``)
        and a refill of its MMP groups (reason ``client_cancel``). Response ``None``.

        Lenient choice: on a persistent session it is accepted and deletes nothing."""
        self._session(session)
        op = self._begin(ts_ns)
        self._end_session_orders(op, session)
        self._reset_groups(op, session, None, MmpReason.CLIENT_CANCEL)
        return self._finish(op, None)

    def disconnect_session(self, session: str, *, ts_ns: int) -> EngineOutput:
        """The connection is gone: delete its non-persistent orders (``session_end``), drop its
        MMP groups (reason ``session_end``) and forget the session. Persistent orders stay."""
        self._session(session)
        op = self._begin(ts_ns)
        self._end_session_orders(op, session)
        self._reset_groups(op, session, None, MmpReason.SESSION_END, drop=True)
        del self._sessions[session]
        return self._finish(op, None)

    def admin_cancel(self, account: str, *, ts_ns: int) -> EngineOutput:
        """The exchange deletes every live order of ``account`` (``admin_cancel``), persistent
        ones included. Response: the number deleted."""
        op = self._begin(ts_ns)
        victims = [o for o in self._orders.values() if o.account == account]
        for o in victims:
            self._delete(op, o, DeleteReason.ADMIN_CANCEL)
        return self._finish(op, len(victims))

    def failover(self, *, keep_persistent: bool = True, ts_ns: int) -> EngineOutput:
        """A venue restart: delete every non-persistent order (all orders when
        ``keep_persistent`` is False) with ``failover``. Response: the number deleted."""
        op = self._begin(ts_ns)
        victims = [o for o in self._orders.values() if not (keep_persistent and o.persistent)]
        for o in victims:
            self._delete(op, o, DeleteReason.FAILOVER)
        return self._finish(op, len(victims))

    # ------------------------------------------------------------ read side

    def open_orders(self, *, session: str | None = None, account: str | None = None,
                    ts_ns: int = 0) -> tuple[OrderReport, ...]:
        """Live orders of a session or an account (``change_reason=existing``)."""
        if (session is None) == (account is None):
            raise ValueError("open_orders: give exactly one of session and account")
        return tuple(
            self._report(o, ChangeReason.EXISTING)
            for o in self._orders.values()
            if (o.session == session if session is not None else o.account == account)
        )

    def portfolio(self, account: str) -> tuple[PortfolioEntry, ...]:
        """Non-zero positions of ``account`` (§5.4 PortfolioEntry)."""
        return self.ledger.portfolio(account)

    def account_summary(self, account: str, ts_ns: int = 0) -> AccountSummaryUpdated:
        """Cash, PnL and margin of ``account`` (see ``accounts`` for the formulas)."""
        return self.ledger.summary(account, ts_ns)

    def book_levels(self, instrument: str, depth: int | None = 10
                    ) -> tuple[tuple[tuple[float, float], ...], tuple[tuple[float, float], ...]]:
        """``(bids, asks)`` best first, each ``(price, total amount incl. ours)``; ``depth``
        levels a side (None: all)."""
        book = self._books[instrument]
        return (
            tuple((lv.price, lv.total()) for lv in book.bids.depth(depth)),
            tuple((lv.price, lv.total()) for lv in book.asks.depth(depth)),
        )

    def best_bid_ask(self, instrument: str) -> tuple[float | None, float | None]:
        """Best bid and best ask prices (None for an empty side)."""
        book = self._books[instrument]
        b, a = book.bids.best(), book.asks.best()
        return (b.price if b else None, a.price if a else None)

    def instrument(self, name: str) -> Instrument | None:
        return self._instruments.get(name)

    def order(self, order_id: str) -> OrderReport | None:
        """The live order ``order_id`` (``change_reason=existing``), or None."""
        o = self._orders.get(order_id)
        return self._report(o, ChangeReason.EXISTING) if o is not None else None

    def queue_ahead(self, order_id: str) -> float | None:
        """External contracts ahead of a live order (for tests and diagnostics)."""
        o = self._orders.get(order_id)
        return o.queue_ahead if o is not None else None
