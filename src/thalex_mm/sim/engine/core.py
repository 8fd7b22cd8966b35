"""Engine state, the per-operation collector, order reports and the matching loop.

Internal to the engine package: :class:`~thalex_mm.sim.engine.engine.MatchingEngine` is the
public face. Everything here is pure and deterministic: ids come from counters, time is the
``ts_ns`` argument of each operation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from thalex_mm.core.events import AccountTrade, MmpStatus, OrderFill, OrderReport, PublicTrade
from thalex_mm.core.types import (
    ChangeReason,
    DeleteReason,
    Instrument,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)
from thalex_mm.errors import InvalidState
from thalex_mm.fees import DEFAULT_MAKER_FEE_RATE, DEFAULT_TAKER_FEE_RATE
from thalex_mm.frozen_pickle import reduce_frozen
from thalex_mm.protocol.error_codes import ErrorCode
from thalex_mm.sim.engine.accounts import Ledger
from thalex_mm.sim.engine.book import Book, Level, RestingOrder
from thalex_mm.sim.engine.fast import fast_positional_constructor
from thalex_mm.sim.engine.mmp import MmpGroup, MmpReason
from thalex_mm.sim.engine.outputs import (
    AccountTradeUpdate,
    BookLevelChange,
    EngineError,
    EngineOutput,
    MassQuoteResult,
    MmpUpdate,
    OrderUpdate,
    PortfolioUpdate,
)
from thalex_mm.sim.engine.queue_models import QueueModel, RiskAverseQueue

__all__ = ["EXTERNAL_ACCOUNT", "Collar", "EngineConfig"]

# enum members as module constants: a class attribute lookup per check is costly
_BUY = Side.BUY
_IOC = TimeInForce.IOC
_LIMIT = OrderType.LIMIT
_OPEN = OrderStatus.OPEN
_PARTIAL = OrderStatus.PARTIALLY_FILLED
_SELL = Side.SELL

EXTERNAL_ACCOUNT = "<external>"
"""The account that stands for every other participant (the market source)."""

_EMPTY: tuple = ()
_tnew = tuple.__new__  # builds a NamedTuple from a tuple of all its fields, skipping __new__
# positional, in OrderReport's field order (checked when this module is imported)
_report_pos = fast_positional_constructor(OrderReport, (
    "order_id", "client_order_id", "instrument", "side", "order_type", "time_in_force",
    "price", "amount", "filled_amount", "remaining_amount", "status", "change_reason",
    "delete_reason", "label", "persistent", "reduce_only", "fills", "create_ts_ns",
    "close_ts_ns",
))
_fill_pos = fast_positional_constructor(
    OrderFill, ("trade_id", "price", "amount", "maker_taker", "ts_ns"))
_trade_pos = fast_positional_constructor(AccountTrade, (
    "trade_id", "order_id", "instrument", "side", "price", "amount", "fee", "ts_ns",
    "client_order_id", "label", "maker_taker", "fee_rate", "position_after", "trade_type",
    "perpetual_funding_pnl",
))
_public_trade_pos = fast_positional_constructor(
    PublicTrade, ("instrument", "price", "amount", "aggressor", "ts_ns"))
_TRADE_TYPE = AccountTrade.__dataclass_fields__["trade_type"].default
_FUNDING_PNL = AccountTrade.__dataclass_fields__["perpetual_funding_pnl"].default


class Collar(StrEnum):
    """``collar`` of insert/amend (§5.2)."""

    IGNORE = "ignore"
    REJECT = "reject"
    CLAMP = "clamp"


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineConfig:
    """Matching-engine settings.

    Attributes:
        maker_fee_rate: fraction of notional the maker pays (negative = rebate); default
            shared with the bot's config (``thalex_mm.fees``), so paper charges what the model assumes.
        taker_fee_rate: fraction of notional the taker pays; default shared likewise.
        collar_band_fraction: collar_low = mark * (1 - band), collar_high = mark * (1 + band).
        initial_cash_usd: starting cash of each account, USD.
        margin_rate: required margin as a fraction of |position| * mark.
        queue_model: how cancels at our level advance ``queue_ahead``.
        self_trade_prevention: cancel our aggressor when it meets our own resting order
            (delete_reason ``self_trade_prevention``); False lets the account trade with itself.
    """

    maker_fee_rate: float = DEFAULT_MAKER_FEE_RATE  # the bot's config default (thalex_mm.fees)
    taker_fee_rate: float = DEFAULT_TAKER_FEE_RATE
    collar_band_fraction: float = 0.05
    initial_cash_usd: float = 100_000.0
    margin_rate: float = 0.01
    queue_model: QueueModel = field(default_factory=RiskAverseQueue)
    self_trade_prevention: bool = True

    def __reduce__(self) -> tuple[Any, ...]:
        # Crosses to spawn / Ray workers; compiled, it cannot unpickle field by field.
        return reduce_frozen(self)


class _Session:
    __slots__ = ("account", "by_cid", "persistent")

    def __init__(self, account: str, persistent: bool) -> None:
        self.account = account
        self.persistent = persistent
        self.by_cid: dict[int, RestingOrder] = {}


class _Op:
    """Collects what one operation caused; turned into an EngineOutput by ``_finish``."""

    __slots__ = (
        "fills",
        "mmp_exec",
        "mmp_updates",
        "order_updates",
        "portfolio",
        "public_trades",
        "touched",
        "trades",
        "ts_ns",
    )

    def __init__(self, ts_ns: int = 0) -> None:
        self.ts_ns = ts_ns
        self.order_updates: list[OrderUpdate] = []
        self.trades: list[AccountTradeUpdate] = []
        self.public_trades: list[PublicTrade] = []
        self.touched: dict[tuple[str, Side, int], float] = {}
        self.portfolio: dict[tuple[str, str], None] = {}
        self.fills: dict[str, tuple[RestingOrder, list[OrderFill]]] = {}
        self.mmp_exec: dict[tuple[str, str], float] = {}
        self.mmp_updates: list[MmpUpdate] = []


def _resting_price(o: RestingOrder) -> float:
    """The limit price of an order on a level, quote currency (only limit orders rest)."""
    price = o.price
    if price is None:
        raise InvalidState(f"order {o.order_id} rests on a level without a price")
    return price


def _status(o: RestingOrder, delete_reason: DeleteReason | None) -> OrderStatus:
    if delete_reason is None:
        return _PARTIAL if o.filled > 0.0 else _OPEN
    if delete_reason is DeleteReason.FILLED:
        return OrderStatus.FILLED
    return OrderStatus.CANCELLED_PARTIALLY_FILLED if o.filled > 0.0 else OrderStatus.CANCELLED


class _EngineCore:
    """State and shared machinery of the matching engine."""

    def __init__(self, config: EngineConfig | None = None) -> None:
        self.config = config or EngineConfig()
        cfg = self.config
        self._instruments: dict[str, Instrument] = {}
        self._books: dict[str, Book] = {}
        self._sessions: dict[str, _Session] = {}
        self._orders: dict[str, RestingOrder] = {}
        # live mass quotes per (session, instrument, side), by order_id
        self._quotes: dict[tuple[str, str, Side], dict[str, RestingOrder]] = {}
        self._mmp: dict[tuple[str, str], MmpGroup] = {}
        self._order_seq = 0
        self._trade_seq = 0
        self._op = _Op()
        self._collar: dict[str, tuple[int, int]] = {}
        self._stp = cfg.self_trade_prevention
        self._queue_model = cfg.queue_model
        self.ledger = Ledger(
            maker_fee_rate=cfg.maker_fee_rate,
            taker_fee_rate=cfg.taker_fee_rate,
            initial_cash_usd=cfg.initial_cash_usd,
            margin_rate=cfg.margin_rate,
            fee_free_accounts=frozenset({EXTERNAL_ACCOUNT}),
        )

    # ------------------------------------------------------------ lookups

    def _begin(self, ts_ns: int) -> _Op:
        """The collector of a new operation (one object reused: operations never nest)."""
        op = self._op
        op.ts_ns = ts_ns
        if op.order_updates:
            op.order_updates = []
        if op.trades:
            op.trades = []
        if op.public_trades:
            op.public_trades = []
        if op.touched:
            op.touched = {}
        if op.portfolio:
            op.portfolio = {}
        if op.fills:
            op.fills = {}
        if op.mmp_exec:
            op.mmp_exec = {}
        if op.mmp_updates:
            op.mmp_updates = []
        return op

    def _session(self, session: str) -> _Session:
        s = self._sessions.get(session)
        if s is None:
            raise InvalidState(f"unknown session {session!r}: call open_session first")
        return s

    def _next_order_id(self) -> str:
        self._order_seq += 1
        return f"{self._order_seq:016X}"

    def _next_trade_id(self) -> str:
        self._trade_seq += 1
        return f"{self._trade_seq:020X}"

    @staticmethod
    def _error(code: ErrorCode, message: str) -> EngineOutput:
        return EngineOutput(error=EngineError(code, message))

    # ------------------------------------------------------------ reports

    def _report(
        self,
        o: RestingOrder,
        change_reason: ChangeReason,
        delete_reason: DeleteReason | None = None,
        fills: tuple[OrderFill, ...] = _EMPTY,
        ts_ns: int = 0,
    ) -> OrderReport:
        if delete_reason is None:
            remaining = o.remaining
            status = _PARTIAL if o.filled > 0.0 else _OPEN
            close_ts_ns = None
        else:
            remaining = 0.0
            status = _status(o, delete_reason)
            close_ts_ns = ts_ns
        return _report_pos(  # every OrderReport field, in its declared order
            o.order_id, o.client_order_id, o.instrument, o.side, o.order_type,
            o.time_in_force, o.price, o.amount, o.filled, remaining, status, change_reason,
            delete_reason, o.label, o.persistent, o.reduce_only, fills, o.create_ts_ns,
            close_ts_ns,
        )

    def _emit(self, op: _Op, o: RestingOrder, report: OrderReport) -> OrderReport:
        op.order_updates.append(_tnew(OrderUpdate, (o.session, o.account, report)))
        return report

    def _take_fills(self, op: _Op, o: RestingOrder) -> tuple[OrderFill, ...]:
        entry = op.fills.pop(o.order_id, None)
        return tuple(entry[1]) if entry else _EMPTY

    # ------------------------------------------------------------ order index

    def _index(self, o: RestingOrder) -> None:
        self._orders[o.order_id] = o
        if o.client_order_id is not None:
            s = self._sessions.get(o.session)
            if s is not None:
                s.by_cid[o.client_order_id] = o
        if o.is_quote:
            self._quotes.setdefault((o.session, o.instrument, o.side), {})[o.order_id] = o

    def _unlink(self, o: RestingOrder) -> None:
        self._orders.pop(o.order_id, None)
        if o.client_order_id is not None:
            s = self._sessions.get(o.session)
            if s is not None and s.by_cid.get(o.client_order_id) is o:
                del s.by_cid[o.client_order_id]
        if o.is_quote:
            q = self._quotes.get((o.session, o.instrument, o.side))
            if q is not None:
                q.pop(o.order_id, None)

    def _rest(self, op: _Op, o: RestingOrder) -> None:
        """Put ``o`` at the back of its level's queue, behind all external size there."""
        book = self._books[o.instrument]
        side = book.bids if o.side is _BUY else book.asks
        price = _resting_price(o)
        level = side.get_or_create(o.ticks, price)
        o.queue_ahead = level.external
        level.orders.append(o)
        self._index(o)
        op.touched[(o.instrument, o.side, o.ticks)] = price

    def _detach(self, op: _Op, o: RestingOrder) -> None:
        """Take a resting ``o`` off its level (not off the indexes)."""
        book = self._books[o.instrument]
        side = book.bids if o.side is _BUY else book.asks
        level = side.levels.get(o.ticks)
        if level is not None and o in level.orders:
            level.orders.remove(o)
            side.discard_if_empty(level)
            op.touched[(o.instrument, o.side, o.ticks)] = _resting_price(o)

    def _delete(
        self,
        op: _Op,
        o: RestingOrder,
        reason: DeleteReason,
        change_reason: ChangeReason = ChangeReason.CANCEL,
    ) -> OrderReport:
        """Remove a live order and emit its final report."""
        self._detach(op, o)
        self._unlink(o)
        report = self._report(o, change_reason, reason, self._take_fills(op, o), op.ts_ns)
        return self._emit(op, o, report)

    # ------------------------------------------------------------ trades

    def _book_party(
        self,
        op: _Op,
        o: RestingOrder | None,
        sign: int,
        instrument: str,
        price: float,
        qty: float,
        maker: bool,
        trade_id: str,
    ) -> None:
        account = o.account if o is not None else EXTERNAL_ACCOUNT
        fee, rate, pos_after = self.ledger.apply_fill(account, instrument, sign, price, qty, maker)
        if o is None:
            return
        mt = "maker" if maker else "taker"
        entry = op.fills.get(o.order_id)
        if entry is None:
            entry = op.fills[o.order_id] = (o, [])
        ts = op.ts_ns
        entry[1].append(_fill_pos(trade_id, price, qty, mt, ts))
        op.trades.append(
            AccountTradeUpdate(
                account,
                _trade_pos(  # every AccountTrade field, in its declared order
                    trade_id, o.order_id, instrument, o.side, price, qty, fee, ts,
                    o.client_order_id, o.label, mt, rate, pos_after, _TRADE_TYPE, _FUNDING_PNL,
                ),
            )
        )
        op.portfolio[(account, instrument)] = None
        if o.is_quote:
            key = (o.session, self._instruments[instrument].product)
            op.mmp_exec[key] = op.mmp_exec.get(key, 0.0) + qty

    def _trade(
        self,
        op: _Op,
        instrument: str,
        taker_side: Side,
        price: float,
        qty: float,
        taker: RestingOrder | None,
        maker: RestingOrder | None,
    ) -> None:
        """Book one match between ``taker`` and ``maker`` (``None`` = external participant)."""
        if taker is None and maker is None:
            return  # external with external: nobody we track changes
        trade_id = self._next_trade_id()
        sign = 1 if taker_side is _BUY else -1
        if taker is not None:
            taker.remaining = round(taker.remaining - qty, 10)
            taker.filled = round(taker.filled + qty, 10)
        self._book_party(op, taker, sign, instrument, price, qty, False, trade_id)
        self._book_party(op, maker, -sign, instrument, price, qty, True, trade_id)

    def _sweep_level(
        self,
        op: _Op,
        level: Level,
        instrument: str,
        taker_side: Side,
        qty: float,
        taker: RestingOrder | None,
    ) -> tuple[float, bool]:
        """Trade up to ``qty`` at ``level``; returns ``(traded, stp_hit)``."""
        stp_account = taker.account if (taker is not None and self._stp) else None
        fills, ext, stp_hit = level.consume(qty, stp_account)
        traded = ext
        price = level.price
        if ext > 0.0:
            self._trade(op, instrument, taker_side, price, ext, taker, None)
        for mo, q in fills:
            self._trade(op, instrument, taker_side, price, q, taker, mo)
            traded += q
            if mo.remaining <= 0.0:
                self._unlink(mo)
        if traded > 0.0:
            traded = round(traded, 10)
            op.public_trades.append(
                _public_trade_pos(instrument, price, traded, taker_side, op.ts_ns)
            )
            op.touched[(instrument, taker_side.opposite, level.ticks)] = price
        return traded, stp_hit

    def _match(
        self, op: _Op, instrument: str, side: Side, qty: float, limit_ticks: int | None,
        taker: RestingOrder | None,
    ) -> tuple[float, bool]:
        """Walk the opposite side best first while it crosses ``limit_ticks`` (None = any).

        Returns:
            ``(traded_contracts, stp_hit)``.
        """
        opp = self._books[instrument].opposite(side)
        total = 0.0
        left = qty
        for level in opp.iter_best():
            if limit_ticks is not None and (
                level.ticks > limit_ticks if side is _BUY else level.ticks < limit_ticks
            ):
                break
            traded, stp_hit = self._sweep_level(op, level, instrument, side, left, taker)
            opp.discard_if_empty(level)
            total += traded
            left = round(left - traded, 10)
            if stp_hit:
                return round(total, 10), True
            if left <= 0.0:
                break
        return round(total, 10), False

    # ------------------------------------------------------------ placing

    def _post_only_ticks(self, o: RestingOrder) -> int | None:
        """Move a crossing post-only price one tick from the opposite best; None = cancel."""
        best = self._books[o.instrument].opposite(o.side).best()
        if best is None:
            return o.ticks
        if o.side is _BUY and o.ticks >= best.ticks:
            return best.ticks - 1 if best.ticks - 1 > 0 else None
        if o.side is _SELL and o.ticks <= best.ticks:
            return best.ticks + 1
        return o.ticks

    def _place(
        self, op: _Op, o: RestingOrder, limit_ticks: int, reason: ChangeReason,
        reject_post_only: bool = False,
    ) -> OrderReport:
        """Match ``o`` (not on the book) as an aggressor, then rest or delete it."""
        if o.post_only and o.order_type is _LIMIT:
            new_ticks = self._post_only_ticks(o)
            if new_ticks is None or (new_ticks != o.ticks and reject_post_only):
                self._unlink(o)
                return self._emit(op, o, self._report(
                    o, reason, DeleteReason.IMMEDIATE_CANCEL, (), op.ts_ns))
            if new_ticks != o.ticks:
                o.ticks = limit_ticks = new_ticks
                o.price = round(new_ticks * self._instruments[o.instrument].tick_size, 8)
        stp_hit = False
        book = self._books[o.instrument]
        buy = o.side is _BUY
        opp = book.asks if buy else book.bids
        keys = opp._keys
        if keys:  # the opposite best is keys[0] * sign (see BookSide)
            best_ticks = keys[0] * opp.sign
            if best_ticks <= limit_ticks if buy else best_ticks >= limit_ticks:
                _, stp_hit = self._match(op, o.instrument, o.side, o.remaining, limit_ticks, o)
        fills = self._take_fills(op, o) if op.fills else _EMPTY
        if stp_hit:
            delete: DeleteReason | None = DeleteReason.SELF_TRADE_PREVENTION
        elif o.remaining <= 0.0:
            delete = DeleteReason.FILLED
        elif o.time_in_force is _IOC:
            delete = DeleteReason.IMMEDIATE_CANCEL
        else:
            delete = None
            self._rest(op, o)
        if delete is not None:
            self._unlink(o)
        return self._emit(op, o, self._report(o, reason, delete, fills, op.ts_ns))

    # ------------------------------------------------------------ finishing

    def _settle_mmp(self, op: _Op) -> None:
        """Count quote executions against their groups; pull the quotes of exhausted ones."""
        if not op.mmp_exec:
            return
        execs = op.mmp_exec
        op.mmp_exec = {}
        for (session, product), qty in execs.items():
            group = self._mmp.get((session, product))
            if group is None:
                continue
            exhausted = group.execute(qty)
            op.mmp_updates.append(
                MmpUpdate(session, MmpStatus(product=product, remaining_amount=group.remaining,
                                             reason=MmpReason.EXECUTIONS.value))
            )
            if exhausted and not group.tripped:
                group.tripped = True
                self._pull_quotes(op, session, product, DeleteReason.MM_PROTECTION)
        if op.mmp_exec:  # pulling cannot trade, but stay safe
            self._settle_mmp(op)

    def _pull_quotes(self, op: _Op, session: str | None, product: str | None,
                     reason: DeleteReason) -> int:
        n = 0
        for (s, inst, _side), levels in list(self._quotes.items()):
            if session is not None and s != session:
                continue
            if product is not None and self._instruments[inst].product != product:
                continue
            for o in list(levels.values()):
                self._delete(op, o, reason)
                n += 1
        return n

    def _finish(self, op: _Op, response: OrderReport | int | float | MassQuoteResult | None = None
                ) -> EngineOutput:
        """Settle MMP, add the makers' fill reports and build the output envelope."""
        if op.mmp_exec:
            self._settle_mmp(op)
        if op.fills:
            ts = op.ts_ns
            for o, fills in op.fills.values():
                reason = DeleteReason.FILLED if o.remaining <= 0.0 else None
                op.order_updates.append(_tnew(OrderUpdate, (o.session, o.account, self._report(
                    o, ChangeReason.FILL, reason, tuple(fills), ts))))
        portfolio = _EMPTY
        if op.portfolio:
            entry = self.ledger.entry
            portfolio = tuple(
                _tnew(PortfolioUpdate, (acc, entry(acc, inst)))
                for acc, inst in op.portfolio
                if acc != EXTERNAL_ACCOUNT
            )
        changes = _EMPTY
        touched = op.touched
        if touched:
            books = self._books
            out = []
            for (inst, side, ticks), price in touched.items():
                book = books[inst]
                level = (book.bids if side is _BUY else book.asks).levels.get(ticks)
                if level is None:
                    total = 0.0
                elif level.orders:
                    total = level.total()
                else:
                    total = round(level.external, 8)  # = Level.total() without our orders
                out.append(_tnew(BookLevelChange, (inst, side, price, total)))
            changes = tuple(out)
        ou = op.order_updates
        tr = op.trades
        pt = op.public_trades
        mu = op.mmp_updates
        return _tnew(EngineOutput, (
            response,
            None,
            tuple(ou) if ou else _EMPTY,
            tuple(tr) if tr else _EMPTY,
            tuple(pt) if pt else _EMPTY,
            changes,
            portfolio,
            tuple(mu) if mu else _EMPTY,
        ))
