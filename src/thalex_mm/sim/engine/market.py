"""The rest of the market: other participants' size, their market orders and recorded trades.

Semantics (they decide how honest a backtest is):

* :meth:`set_external_level` sets the *absolute* external size at a level (0 removes it), as
  a recorded L2 diff does. A decrease without a trade is a cancel: our orders there advance by
  the configured queue model. An increase joins behind our orders.
* Crossing: an external level that reaches or crosses our resting orders on the other side
  fills them *completely at their own price* (we are maker, the external participant taker):
  the opposite best moved through our price, as in hftbacktest. External size on the other side
  that the new level crosses is stale and removed (the newest update wins), so the book is
  never crossed at rest.
* :meth:`external_market_order` is a market (or marketable limit) order from the source: it
  walks the book best price first, ours included, respecting queue position.
* :meth:`external_trade` is a recorded print (replay mode): ``amount`` contracts traded at
  ``price`` by an aggressor of ``aggressor_side``. Our orders at *better* prices than ``price``
  were traded through: they fill at their own price, best first, but their fills use up the
  print's ``amount`` (the aggressor would have hit us first; conservative). At exactly
  ``price`` the rest of the print consumes the queue front to back: the external size ahead
  of us, then us, then the external size behind us; the external size it consumes is removed.
  External size at better prices is left to the next level update.
  Replay a recorded message's trades **before** its level changes: the trade then already
  removed the traded size, and the absolute level update that follows does not count it again
  as a cancel.
* :meth:`accrue_funding` books perpetual funding (see ``accounts``).
"""

from __future__ import annotations

from thalex_mm.core.events import PublicTrade
from thalex_mm.core.types import Side
from thalex_mm.sim.engine.book import Level
from thalex_mm.sim.engine.core import _EngineCore, _Op
from thalex_mm.sim.engine.outputs import BookLevelChange, EngineOutput

_EMPTY: tuple = ()
_NOTHING = EngineOutput()
_tnew = tuple.__new__  # NamedTuple from all its fields, skipping the Python-level __new__

__all__: list[str] = []

# enum members as module constants: a class attribute lookup per check is costly
_BUY = Side.BUY


class _MarketMixin(_EngineCore):
    def set_external_level(
        self, instrument: str, side: Side, price: float, amount: float, *, ts_ns: int
    ) -> EngineOutput:
        """Set other participants' total size at one level.

        Args:
            side: BUY for a bid level, SELL for an ask level.
            price: the level price, quote currency (rounded to the nearest tick).
            amount: the new absolute external size, contracts (0 removes it).
        """
        if amount < 0.0:
            raise ValueError(f"set_external_level amount: got {amount!r}, expected >= 0")
        book = self._books[instrument]
        ticks = round(price / book.tick_size)
        if side is _BUY:
            bs, opp = book.bids, book.asks
            crossing = amount > 0.0 and opp._keys and opp._keys[0] <= ticks
        else:
            bs, opp = book.asks, book.bids
            crossing = amount > 0.0 and opp._keys and -opp._keys[0] >= ticks
        if crossing:
            op = self._begin(ts_ns)
            self._uncross(op, instrument, side, ticks)
            self._set_level(op, bs, instrument, side, ticks, amount)
            return self._finish(op)
        # fast path: no trade can happen, the only output is the level's new total
        level = bs.levels.get(ticks)
        if level is None:
            if amount <= 0.0:
                return _NOTHING
            level = bs.get_or_create(ticks, round(ticks * book.tick_size, 8))
            level.external = amount
            return _tnew(EngineOutput, (None, None, _EMPTY, _EMPTY, _EMPTY, (_tnew(
                BookLevelChange, (instrument, side, level.price, amount)),), _EMPTY, _EMPTY))
        old = level.external
        if amount == old:
            return _NOTHING
        if level.orders:
            if amount < old:
                model = self._queue_model
                for o in level.orders:
                    o.queue_ahead = model.on_decrease(o.queue_ahead, old, amount)
            level.external = amount
            total = level.total()
        else:
            level.external = total = amount
            if amount <= 0.0:
                bs.discard_if_empty(level)
        return _tnew(EngineOutput, (None, None, _EMPTY, _EMPTY, _EMPTY, (_tnew(
            BookLevelChange, (instrument, side, level.price, total)),), _EMPTY, _EMPTY))

    def set_external_level_fast(
        self, instrument: str, is_bid: bool, price: float, amount: float
    ) -> float | None:
        """Replay fast path of :meth:`set_external_level`, without an output envelope.

        Applies the update only when it cannot have any effect beyond the level's size: it does
        not cross the opposite side and none of our orders rests at that price (so no queue
        position moves). Returns the level's new total size, contracts; ``None`` when it did
        nothing and the caller must use :meth:`set_external_level`. ``amount`` must be >= 0.
        """
        book = self._books[instrument]
        ticks = round(price / book.tick_size)
        if is_bid:
            bs, opp = book.bids, book.asks
            if amount > 0.0 and opp._keys and opp._keys[0] <= ticks:
                return None
        else:
            bs, opp = book.asks, book.bids
            if amount > 0.0 and opp._keys and -opp._keys[0] >= ticks:
                return None
        level = bs.levels.get(ticks)
        if level is None:
            if amount > 0.0:
                bs.get_or_create(ticks, round(ticks * book.tick_size, 8)).external = amount
            return amount
        if level.orders:
            return None
        level.external = amount
        if amount <= 0.0:
            bs.discard_if_empty(level)
        return amount

    def _set_level(self, op: _Op, bs, instrument: str, side: Side, ticks: int, amount: float
                   ) -> None:
        level = bs.get_or_create(ticks, self._books[instrument].price(ticks))
        old = level.external
        if amount < old and level.orders:
            model = self._queue_model
            for o in level.orders:
                o.queue_ahead = model.on_decrease(o.queue_ahead, old, amount)
        level.external = amount
        op.touched[(instrument, side, ticks)] = level.price
        bs.discard_if_empty(level)

    def _uncross(self, op: _Op, instrument: str, side: Side, ticks: int) -> None:
        """Resolve the opposite levels an external ``side`` level at ``ticks`` reaches."""
        opp = self._books[instrument].opposite(side)
        best = opp.best()
        if best is None or ((best.ticks > ticks) if side is _BUY else (best.ticks < ticks)):
            return
        for level in opp.iter_best():
            if (level.ticks > ticks) if side is _BUY else (level.ticks < ticks):
                break
            got = 0.0
            for o in level.orders:
                got += self._fill_through(op, o, side, level.price)
            level.orders = []
            if got > 0.0:
                op.public_trades.append(self._print(instrument, level.price, round(got, 10),
                                                    side, op.ts_ns))
            if level.external > 0.0:
                level.external = 0.0
            op.touched[(instrument, side.opposite, level.ticks)] = level.price
            opp.discard_if_empty(level)

    def _fill_through(self, op: _Op, o, aggressor: Side, price: float, qty: float = -1.0
                      ) -> float:
        """Fill ``qty`` (default all) of our order ``o`` against the external participant."""
        take = o.remaining if qty < 0.0 or qty > o.remaining else qty
        if take <= 0.0:
            return 0.0
        o.remaining = round(o.remaining - take, 10)
        o.filled = round(o.filled + take, 10)
        self._trade(op, o.instrument, aggressor, price, take, None, o)
        if o.remaining <= 0.0:
            self._unlink(o)
        return take

    def external_market_order(
        self, instrument: str, aggressor_side: Side, amount: float,
        limit_price: float | None = None, *, ts_ns: int,
    ) -> EngineOutput:
        """Another participant's market order (``limit_price`` None) or marketable limit.

        Unfilled size is dropped (IOC). Response: the traded amount, contracts.
        """
        if not amount > 0.0:
            raise ValueError(f"external_market_order amount: got {amount!r}, expected > 0")
        book = self._books[instrument]
        limit = None if limit_price is None else round(limit_price / book.tick_size)
        op = self._begin(ts_ns)
        traded, _ = self._match(op, instrument, aggressor_side, amount, limit, None)
        return self._finish(op, traded)

    def external_trade(
        self, instrument: str, aggressor_side: Side, price: float, amount: float, *, ts_ns: int
    ) -> EngineOutput:
        """A recorded public trade (replay mode); see the module docstring.

        Response: the contracts of ours filled by this print.
        """
        if not amount > 0.0:
            raise ValueError(f"external_trade amount: got {amount!r}, expected > 0")
        book = self._books[instrument]
        ticks = round(price / book.tick_size)
        opp = book.opposite(aggressor_side)
        op = self._begin(ts_ns)
        budget = amount
        ours = 0.0
        buy = aggressor_side is _BUY
        for level in opp.iter_best():
            if budget <= 0.0:
                break
            if (level.ticks >= ticks) if buy else (level.ticks <= ticks):
                break
            if not level.orders:
                continue
            got = self._through_level(op, instrument, level, aggressor_side, budget)
            budget = round(budget - got, 10)
            ours += got
            opp.discard_if_empty(level)
        if budget > 0.0:
            level = opp.levels.get(ticks)
            if level is not None:
                fills, _ext, _ = level.consume(budget)
                for o, q in fills:
                    self._trade(op, instrument, aggressor_side, level.price, q, None, o)
                    ours += q
                    if o.remaining <= 0.0:
                        self._unlink(o)
                op.touched[(instrument, aggressor_side.opposite, ticks)] = level.price
                opp.discard_if_empty(level)
            op.public_trades.append(self._print(instrument, book.price(ticks), budget,
                                                aggressor_side, ts_ns))
        return self._finish(op, round(ours, 10))

    def _through_level(
        self, op: _Op, instrument: str, level: Level, aggressor: Side, budget: float
    ) -> float:
        """Fill our orders at a level a print went through, time order, up to ``budget``."""
        got = 0.0
        for o in list(level.orders):
            if budget - got <= 0.0:
                break
            got += self._fill_through(op, o, aggressor, level.price, budget - got)
        level.orders = [o for o in level.orders if o.remaining > 0.0]
        if got > 0.0:
            got = round(got, 10)
            op.touched[(instrument, aggressor.opposite, level.ticks)] = level.price
            op.public_trades.append(self._print(instrument, level.price, got, aggressor, op.ts_ns))
        return got

    @staticmethod
    def _print(instrument: str, price: float, amount: float, aggressor: Side, ts_ns: int
               ) -> PublicTrade:
        return PublicTrade(instrument=instrument, price=price, amount=amount,
                           aggressor=aggressor, ts_ns=ts_ns)

    def accrue_funding(
        self, instrument: str, rate_24h: float, mark_price: float, dt_s: float, *, ts_ns: int
    ) -> EngineOutput:
        """Accrue perpetual funding on every open position of ``instrument``.

        Args:
            rate_24h: funding rate, fraction of notional per 24 h (> 0: longs pay shorts).
            mark_price: funding mark, USD.
            dt_s: accrual interval, seconds (Thalex accrues about every second).

        Returns:
            An output with the changed portfolio lines.
        """
        op = self._begin(ts_ns)
        for account in self.ledger.accrue_funding(instrument, rate_24h, mark_price, dt_s):
            op.portfolio[(account, instrument)] = None
        return self._finish(op)
