"""L2 order book for one instrument: snapshot + deltas, best prices, mid, microprice, imbalance.

Units: prices in quote currency (USD for BTC-PERPETUAL), amounts in contracts, timestamps in
integer ns since the Unix epoch. Pure: no clock; time arrives inside the applied events.

Each side is a ``dict`` price -> amount plus an ascending list of prices kept sorted with
``bisect``, so best bid / best ask are O(1) and a level change is O(log n) search plus a short
memmove (books here are 20-1000 levels deep).

The book never raises on venue data: a crossed, empty or inconsistent state is reported by
:meth:`OrderBook.health` (a :class:`BookHealth` reason) so the caller can refuse to quote.
"""

from __future__ import annotations

import math
from bisect import bisect_left, insort
from collections.abc import Iterable
from enum import StrEnum

from thalex_mm.core.events import BookDeltaReceived, BookSnapshotReceived
from thalex_mm.core.types import Side

__all__ = ["BookHealth", "OrderBook"]

_INF = math.inf


class BookHealth(StrEnum):
    """Why the book may (OK) or may not be quoted on."""

    OK = "ok"
    NO_SNAPSHOT = "no_snapshot"  # deltas cannot be trusted before the first snapshot
    EMPTY_BIDS = "empty_bids"
    EMPTY_ASKS = "empty_asks"
    CROSSED = "crossed"  # best bid > best ask
    LOCKED = "locked"  # best bid == best ask
    INCONSISTENT = "inconsistent"  # an invalid level (NaN, <= 0 price, < 0 amount) was seen


class _Side:
    """One side of the book: price -> amount and the ascending price list."""

    __slots__ = ("levels", "prices")

    def __init__(self) -> None:
        self.levels: dict[float, float] = {}
        self.prices: list[float] = []

    def clear(self) -> None:
        self.levels.clear()
        self.prices.clear()

    def set(self, price: float, amount: float) -> None:
        levels = self.levels
        if amount > 0.0:
            if price not in levels:
                prices = self.prices
                prices.insert(bisect_left(prices, price), price)
            levels[price] = amount
        elif price in levels:
            del levels[price]
            prices = self.prices
            del prices[bisect_left(prices, price)]

    def set_many(self, changes: Iterable[tuple[float, float]]) -> int:
        """Apply ``(price, amount)`` changes in order; returns how many were invalid.

        Same rules as :meth:`OrderBook.apply_level` (an invalid level changes nothing), in one
        loop without per-level calls: the hot path of replay (a chained comparison is False
        for NaN, so ``0 < x < inf`` means finite and positive).
        """
        levels = self.levels
        prices = self.prices
        bad = 0
        for price, amount in changes:
            if 0.0 < price < _INF and 0.0 <= amount < _INF:
                if amount > 0.0:
                    if price not in levels:
                        insort(prices, price)
                    levels[price] = amount
                elif price in levels:
                    del levels[price]
                    del prices[bisect_left(prices, price)]
            else:
                bad += 1
        return bad


class OrderBook:
    """L2 book of one instrument.

    Args:
        instrument: instrument name (events for other instruments are ignored).

    Attributes:
        instrument: instrument name.
        last_update_ts_ns: local receive time of the last applied book event, ns (0 = never).
        last_exchange_ts_ns: exchange time of the last applied book event, ns (0 = unknown).
        invalid_levels: count of rejected (invalid) levels since the last snapshot.
    """

    __slots__ = (
        "_asks",
        "_bids",
        "_has_snapshot",
        "instrument",
        "invalid_levels",
        "last_exchange_ts_ns",
        "last_update_ts_ns",
    )

    def __init__(self, instrument: str) -> None:
        self.instrument = instrument
        self._bids = _Side()
        self._asks = _Side()
        self._has_snapshot = False
        self.invalid_levels = 0
        self.last_update_ts_ns = 0
        self.last_exchange_ts_ns = 0

    # ------------------------------------------------------------------ updates

    def apply_snapshot(self, event: BookSnapshotReceived) -> bool:
        """Replace the whole book. Returns False (and does nothing) for another instrument."""
        if event.instrument != self.instrument:
            return False
        self._bids.clear()
        self._asks.clear()
        self.invalid_levels = self._bids.set_many(event.bids) + self._asks.set_many(event.asks)
        self._has_snapshot = True
        self._stamp(event.local_ts_ns, event.exchange_ts_ns)
        return True

    def apply_delta(self, event: BookDeltaReceived) -> bool:
        """Apply changed levels (absolute amounts; 0 removes). False for another instrument."""
        if event.instrument != self.instrument:
            return False
        bad = 0
        if event.bids:
            bad = self._bids.set_many(event.bids)
        if event.asks:
            bad += self._asks.set_many(event.asks)
        if bad:
            self.invalid_levels += bad
        self._stamp(event.local_ts_ns, event.exchange_ts_ns)
        return True

    def apply_levels(self, side: Side, changes: Iterable[tuple[float, float]]) -> int:
        """Set many levels of one side in order (bulk :meth:`apply_level`, for replay).

        Args:
            side: BUY for the bid side, SELL for the ask side.
            changes: ``(price, amount)`` pairs; price quote currency, amount contracts
                (absolute; 0 removes the level).

        Returns:
            The number of invalid levels (skipped and counted in ``invalid_levels``).
        """
        bad = (self._bids if side is Side.BUY else self._asks).set_many(changes)
        self.invalid_levels += bad
        return bad

    def apply_level(self, side: Side, price: float, amount: float) -> bool:
        """Set one level (for replay). ``amount`` 0 removes it.

        Args:
            side: BUY for the bid side, SELL for the ask side.
            price: level price, quote currency, finite and > 0.
            amount: new absolute resting amount, contracts, >= 0.

        Returns:
            True if applied; False if the level was invalid (counted in ``invalid_levels``,
            which makes :meth:`health` report INCONSISTENT until the next snapshot).
        """
        if not (price > 0.0 and math.isfinite(price) and amount >= 0.0 and math.isfinite(amount)):
            self.invalid_levels += 1
            return False
        (self._bids if side is Side.BUY else self._asks).set(price, amount)
        return True

    def mark_snapshot(self, local_ts_ns: int = 0) -> None:
        """Declare the levels applied so far a complete book (replay via :meth:`apply_level`)."""
        self._has_snapshot = True
        self._stamp(local_ts_ns, 0)

    def clear(self) -> None:
        """Forget everything (e.g. on disconnect): health becomes NO_SNAPSHOT."""
        self._bids.clear()
        self._asks.clear()
        self._has_snapshot = False
        self.invalid_levels = 0

    def _stamp(self, local_ts_ns: int, exchange_ts_ns: int) -> None:
        if local_ts_ns:
            self.last_update_ts_ns = local_ts_ns
        if exchange_ts_ns:
            self.last_exchange_ts_ns = exchange_ts_ns

    # ------------------------------------------------------------------ queries

    @property
    def best_bid(self) -> float | None:
        """Highest bid price, quote currency; None when the bid side is empty."""
        p = self._bids.prices
        return p[-1] if p else None

    @property
    def best_ask(self) -> float | None:
        """Lowest ask price, quote currency; None when the ask side is empty."""
        p = self._asks.prices
        return p[0] if p else None

    @property
    def best_bid_amount(self) -> float:
        """Amount at the best bid, contracts (0 when empty)."""
        p = self._bids.prices
        return self._bids.levels[p[-1]] if p else 0.0

    @property
    def best_ask_amount(self) -> float:
        """Amount at the best ask, contracts (0 when empty)."""
        p = self._asks.prices
        return self._asks.levels[p[0]] if p else 0.0

    @property
    def is_crossed(self) -> bool:
        """True when best bid > best ask (both present)."""
        b, a = self._bids.prices, self._asks.prices
        return bool(b and a and b[-1] > a[0])

    @property
    def mid(self) -> float | None:
        """(best bid + best ask) / 2, quote currency; None unless both sides exist."""
        b, a = self._bids.prices, self._asks.prices
        if not b or not a:
            return None
        return 0.5 * (b[-1] + a[0])

    @property
    def spread(self) -> float | None:
        """best ask − best bid, quote currency (negative when crossed); None if a side is empty."""
        b, a = self._bids.prices, self._asks.prices
        if not b or not a:
            return None
        return a[0] - b[-1]

    @property
    def microprice(self) -> float | None:
        """Size-weighted mid: (bid·ask_amount + ask·bid_amount) / (bid_amount + ask_amount).

        Leans towards the side with less resting size (the side more likely to be taken out).
        Quote currency; None unless both sides exist.
        """
        b, a = self._bids.prices, self._asks.prices
        if not b or not a:
            return None
        bp, ap = b[-1], a[0]
        bq, aq = self._bids.levels[bp], self._asks.levels[ap]
        return (bp * aq + ap * bq) / (bq + aq)

    def imbalance(self, depth: int = 1) -> float | None:
        """Top-``depth`` imbalance (Σbid − Σask) / (Σbid + Σask), dimensionless in [−1, 1].

        Args:
            depth: number of levels per side to sum, >= 1.

        Returns:
            None unless both sides exist.
        """
        if depth < 1:
            raise ValueError(f"depth: got {depth!r}, expected >= 1")
        b, a = self._bids.prices, self._asks.prices
        if not b or not a:
            return None
        bl, al = self._bids.levels, self._asks.levels
        sb = sum(bl[p] for p in b[-1 : -depth - 1 : -1])
        sa = sum(al[p] for p in a[:depth])
        return (sb - sa) / (sb + sa)

    def levels(self, side: Side, depth: int | None = None) -> list[tuple[float, float]]:
        """Best-first ``(price, amount)`` list of one side, at most ``depth`` levels."""
        if side is Side.BUY:
            p = self._bids.prices
            lv = self._bids.levels
            # slice only the wanted levels (reversed), not the whole side
            prices = p[-1 : -depth - 1 : -1] if depth is not None and depth > 0 else p[::-1][:depth]
        else:
            lv = self._asks.levels
            prices = self._asks.prices if depth is None else self._asks.prices[:depth]
        return [(p, lv[p]) for p in prices]

    def depth(self, side: Side) -> int:
        """Number of price levels on ``side``."""
        return len(self._bids.prices if side is Side.BUY else self._asks.prices)

    def health(self) -> BookHealth:
        """The first problem that forbids quoting on this book, or OK."""
        if not self._has_snapshot:
            return BookHealth.NO_SNAPSHOT
        if self.invalid_levels:
            return BookHealth.INCONSISTENT
        b, a = self._bids.prices, self._asks.prices
        if not b:
            return BookHealth.EMPTY_BIDS
        if not a:
            return BookHealth.EMPTY_ASKS
        if b[-1] > a[0]:
            return BookHealth.CROSSED
        if b[-1] == a[0]:
            return BookHealth.LOCKED
        return BookHealth.OK
