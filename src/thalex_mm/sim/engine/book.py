"""Price levels and queues of one instrument's order book (price-time priority).

A level holds two kinds of size at one price:

* ``external``: the aggregate size of the other participants (from the market source, e.g. a
  recorded L2 feed), contracts. We cannot see its individual orders.
* ``orders``: our resting orders, in time priority. Each carries ``queue_ahead``, the external
  size still ahead of it. On arrival that is all the external size at the level; external size
  added later joins behind us. Trades consume the queue front to back: external ahead of our
  first order, our first order, the external between it and our next order, ..., then the
  external behind our last order.

Prices are stored as integer ticks (``round(price / tick_size)``) so levels key exactly.
"""

from __future__ import annotations

from bisect import bisect_left, insort

from thalex_mm.core.types import OrderType, Side, TimeInForce

__all__ = ["Book", "BookSide", "Level", "RestingOrder"]

# enum members as module constants: a class attribute lookup per check is costly
_BUY = Side.BUY
_GTC = TimeInForce.GTC
_SELL = Side.SELL


class RestingOrder:
    """One of our live orders (mutable, engine-internal). Amounts in contracts."""

    __slots__ = (
        "account",
        "amount",
        "client_order_id",
        "create_ts_ns",
        "filled",
        "instrument",
        "is_quote",
        "label",
        "order_id",
        "order_type",
        "persistent",
        "post_only",
        "price",
        "queue_ahead",
        "reduce_only",
        "remaining",
        "session",
        "side",
        "ticks",
        "time_in_force",
    )

    def __init__(
        self,
        order_id: str,
        session: str,
        account: str,
        instrument: str,
        side: Side,
        price: float | None,
        ticks: int,
        amount: float,
        client_order_id: int | None = None,
        label: str | None = None,
        persistent: bool = False,
        reduce_only: bool = False,
        post_only: bool = False,
        is_quote: bool = False,
        order_type: OrderType = OrderType.LIMIT,
        time_in_force: TimeInForce = _GTC,
        create_ts_ns: int = 0,
    ) -> None:
        self.order_id = order_id
        self.session = session
        self.account = account
        self.instrument = instrument
        self.side = side
        self.price = price
        self.ticks = ticks
        self.amount = amount
        self.filled = 0.0
        self.remaining = amount
        self.client_order_id = client_order_id
        self.label = label
        self.persistent = persistent
        self.reduce_only = reduce_only
        self.post_only = post_only
        self.is_quote = is_quote
        self.order_type = order_type
        self.time_in_force = time_in_force
        self.create_ts_ns = create_ts_ns
        self.queue_ahead = 0.0

    def __repr__(self) -> str:
        return (
            f"RestingOrder({self.order_id} {self.side} {self.remaining}/{self.amount}"
            f"@{self.price} q={self.queue_ahead})"
        )


class Level:
    """One price level: external size plus our orders in time priority."""

    __slots__ = ("external", "orders", "price", "ticks")

    def __init__(self, ticks: int, price: float) -> None:
        self.ticks = ticks
        self.price = price
        self.external = 0.0
        self.orders: list[RestingOrder] = []

    def total(self) -> float:
        """External plus our remaining size, contracts."""
        t = self.external
        for o in self.orders:
            t += o.remaining
        return round(t, 8)

    def ours(self) -> float:
        t = 0.0
        for o in self.orders:
            t += o.remaining
        return t

    def is_empty(self) -> bool:
        return self.external <= 0.0 and not self.orders

    def consume(
        self, qty: float, stp_account: str | None = None
    ) -> tuple[list[tuple[RestingOrder, float]], float, bool]:
        """Trade up to ``qty`` contracts against this level, front of the queue first.

        Fully filled orders are removed from ``orders``; ``external`` and every survivor's
        ``queue_ahead`` shrink by the external size consumed.

        Args:
            qty: contracts the aggressor still wants (> 0).
            stp_account: the aggressor's account when it is ours; reaching a resting order of
                the same account stops the match (self-trade prevention).

        Returns:
            ``(fills, external_taken, stp_hit)``: our orders filled with their amounts, the
            external contracts traded, and whether an own order stopped the match.
        """
        fills: list[tuple[RestingOrder, float]] = []
        left = qty
        ext_taken = 0.0
        stp_hit = False
        n_done = 0
        for o in self.orders:
            ahead = o.queue_ahead - ext_taken
            if ahead > 1e-12:
                take = ahead if ahead < left else left
                ext_taken += take
                left = round(left - take, 10)
                if left <= 0.0:
                    break
            if stp_account is not None and o.account == stp_account:
                stp_hit = True
                break
            take = o.remaining if o.remaining < left else left
            o.remaining = round(o.remaining - take, 10)
            o.filled = round(o.filled + take, 10)
            fills.append((o, take))
            left = round(left - take, 10)
            if o.remaining <= 0.0:
                n_done += 1
            if left <= 0.0:
                break
        else:
            # every order passed: the external size behind the last one
            behind = self.external - ext_taken
            if left > 0.0 and behind > 0.0:
                ext_taken += behind if behind < left else left
        if n_done:
            self.orders = [o for o in self.orders if o.remaining > 0.0]
        if ext_taken > 0.0:
            self.external = round(self.external - ext_taken, 10)
            if self.external < 1e-10:
                self.external = 0.0
            for o in self.orders:
                q = round(o.queue_ahead - ext_taken, 10)
                o.queue_ahead = q if q > 0.0 else 0.0
        return fills, round(ext_taken, 10), stp_hit


class BookSide:
    """The levels of one side, best first (bids descending, asks ascending)."""

    __slots__ = ("_keys", "levels", "side", "sign")

    def __init__(self, side: Side) -> None:
        self.side = side
        # sort key = ticks for asks, -ticks for bids: the best level is always _keys[0]
        self.sign = -1 if side is _BUY else 1
        self.levels: dict[int, Level] = {}
        self._keys: list[int] = []

    def best(self) -> Level | None:
        if self._keys:
            return self.levels[self._keys[0] * self.sign]
        return None

    def get_or_create(self, ticks: int, price: float) -> Level:
        level = self.levels.get(ticks)
        if level is None:
            level = Level(ticks, price)
            self.levels[ticks] = level
            insort(self._keys, ticks * self.sign)
        return level

    def discard_if_empty(self, level: Level) -> None:
        if level.external <= 0.0 and not level.orders and level.ticks in self.levels:
            del self.levels[level.ticks]
            key = level.ticks * self.sign
            i = bisect_left(self._keys, key)
            if i < len(self._keys) and self._keys[i] == key:
                del self._keys[i]

    def iter_best(self):
        """Levels best first, without copying the keys.

        The consumer may remove the level it was just given (and only that one).
        """
        keys = self._keys
        levels = self.levels
        sign = self.sign
        i = 0
        while i < len(keys):
            key = keys[i]
            yield levels[key * sign]
            if i < len(keys) and keys[i] == key:
                i += 1

    def better_or_equal(self, ticks_a: int, ticks_b: int) -> bool:
        """True when price ``ticks_a`` is at least as good as ``ticks_b`` for this side."""
        return ticks_a * self.sign <= ticks_b * self.sign

    def depth(self, n: int | None) -> list[Level]:
        """The best ``n`` levels (None: all), best first."""
        sign = self.sign
        return [self.levels[k * sign] for k in self._keys[:n]]


class Book:
    """Both sides of one instrument."""

    __slots__ = ("asks", "bids", "instrument", "tick_size")

    def __init__(self, instrument: str, tick_size: float) -> None:
        self.instrument = instrument
        self.tick_size = tick_size
        self.bids = BookSide(_BUY)
        self.asks = BookSide(_SELL)

    def side(self, side: Side) -> BookSide:
        """The resting side where orders of direction ``side`` rest."""
        return self.bids if side is _BUY else self.asks

    def opposite(self, side: Side) -> BookSide:
        """The side an aggressor of direction ``side`` trades against."""
        return self.asks if side is _BUY else self.bids

    def ticks(self, price: float) -> int:
        return round(price / self.tick_size)

    def price(self, ticks: int) -> float:
        return round(ticks * self.tick_size, 8)
