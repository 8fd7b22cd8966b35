"""Market state of one instrument: book, ticker (mark, index, funding, collars), index, trades.

Units: prices in quote currency, amounts in contracts, timestamps in ns since the Unix epoch,
staleness in seconds. Pure: time comes from the events (``local_ts_ns``) and from the
``now_ns`` argument of the staleness queries.

``funding_rate`` is stored exactly as Thalex sends it (a fraction of notional per funding
period; see :mod:`thalex_mm.core.fair_value` for how it shifts fair value).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import StrEnum

from thalex_mm.core.book import BookHealth, OrderBook
from thalex_mm.core.events import (
    BookDeltaReceived,
    BookSnapshotReceived,
    Event,
    IndexUpdated,
    LightTickerUpdated,
    PublicTrade,
    PublicTradesReceived,
    TickerUpdated,
)
from thalex_mm.core.types import Side

__all__ = ["MarketState", "Stream", "TickerState", "TradeRecord"]

_NS_PER_S = 1_000_000_000


class Stream(StrEnum):
    """Market-data streams whose freshness is tracked separately."""

    BOOK = "book"
    TICKER = "ticker"
    INDEX = "index"
    TRADES = "trades"


_BOOK = Stream.BOOK
_BOOK_EVENTS = (BookDeltaReceived, BookSnapshotReceived)  # a tuple: no union built per call


@dataclass(frozen=True, slots=True, kw_only=True)
class TradeRecord:
    """A public trade with the mid just before it (for intensity estimation).

    Attributes:
        ts_ns: trade time, ns (exchange time when known, else local receive time).
        price: quote currency.
        amount: contracts.
        aggressor: the taker's side.
        mid_before: book mid just before the trade was applied, quote currency (None if the
            book had no two-sided mid then).
    """

    ts_ns: int
    price: float
    amount: float
    aggressor: Side
    mid_before: float | None


@dataclass(slots=True)
class TickerState:
    """Latest ticker fields; ``None`` until first seen. Prices in quote currency."""

    mark_price: float | None = None
    index_price: float | None = None
    funding_rate: float | None = None
    funding_mark: float | None = None
    collar_low: float | None = None
    collar_high: float | None = None
    best_bid_price: float | None = None
    best_ask_price: float | None = None
    last_price: float | None = None


class MarketState:
    """Everything public we know about one instrument.

    Args:
        instrument: instrument name, e.g. ``BTC-PERPETUAL``.
        index_name: index/underlying name for ``IndexUpdated``, e.g. ``BTCUSD``.
        max_trades: capacity of the public-trade buffer (oldest dropped first), >= 1.
    """

    __slots__ = ("_last_ts_ns", "book", "index_name", "index_price", "instrument", "ticker", "trades")

    def __init__(self, instrument: str, index_name: str, max_trades: int = 10_000) -> None:
        if max_trades < 1:
            raise ValueError(f"max_trades: got {max_trades!r}, expected >= 1")
        self.instrument = instrument
        self.index_name = index_name
        self.book = OrderBook(instrument)
        self.ticker = TickerState()
        self.index_price: float | None = None
        self.trades: deque[TradeRecord] = deque(maxlen=max_trades)
        self._last_ts_ns: dict[Stream, int] = {}

    def apply(self, event: Event) -> bool:
        """Update from a market-data event. Returns True if this state changed.

        Book events carry trades: they are recorded with the mid *before* the book change.
        """
        if type(event) is BookDeltaReceived:  # the hot path: no isinstance chain
            if event.instrument != self.instrument:
                return False
            if event.trades:
                self._add_trades(event.trades, event.local_ts_ns)
            self.book.apply_delta(event)
            if event.local_ts_ns:
                self._last_ts_ns[_BOOK] = event.local_ts_ns
            return True
        if isinstance(event, _BOOK_EVENTS):
            if event.instrument != self.instrument:
                return False
            if event.trades:
                self._add_trades(event.trades, event.local_ts_ns)
            if isinstance(event, BookSnapshotReceived):
                self.book.apply_snapshot(event)
            else:
                self.book.apply_delta(event)
            self._touch(Stream.BOOK, event.local_ts_ns)
            return True
        if isinstance(event, TickerUpdated):
            if event.instrument != self.instrument:
                return False
            t = self.ticker
            t.mark_price = event.mark_price
            t.index_price = event.index_price
            t.best_bid_price = event.best_bid_price
            t.best_ask_price = event.best_ask_price
            if event.last_price is not None:
                t.last_price = event.last_price
            if event.funding_rate is not None:
                t.funding_rate = event.funding_rate
            if event.funding_mark is not None:
                t.funding_mark = event.funding_mark
            if event.collar_low is not None:
                t.collar_low = event.collar_low
            if event.collar_high is not None:
                t.collar_high = event.collar_high
            self._touch(Stream.TICKER, event.local_ts_ns)
            return True
        if isinstance(event, LightTickerUpdated):
            if event.instrument != self.instrument:
                return False
            t = self.ticker
            t.mark_price = event.mark_price
            t.best_bid_price = event.best_bid_price
            t.best_ask_price = event.best_ask_price
            if event.last_price is not None:
                t.last_price = event.last_price
            self._touch(Stream.TICKER, event.local_ts_ns)
            return True
        if isinstance(event, IndexUpdated):
            if event.index_name != self.index_name:
                return False
            self.index_price = event.price
            self._touch(Stream.INDEX, event.local_ts_ns)
            return True
        if isinstance(event, PublicTradesReceived):
            mine = tuple(tr for tr in event.trades if tr.instrument == self.instrument)
            if not mine:
                return False
            self._add_trades(mine, event.local_ts_ns)
            return True
        return False

    def _add_trades(self, trades: tuple[PublicTrade, ...], local_ts_ns: int) -> None:
        mid = self.book.mid if self.book.health() is BookHealth.OK else None
        for tr in trades:
            if tr.instrument != self.instrument:
                continue
            self.trades.append(
                TradeRecord(
                    ts_ns=tr.ts_ns or local_ts_ns,
                    price=tr.price,
                    amount=tr.amount,
                    aggressor=tr.aggressor,
                    mid_before=mid,
                )
            )
        self._touch(Stream.TRADES, local_ts_ns)

    def _touch(self, stream: Stream, local_ts_ns: int) -> None:
        if local_ts_ns:
            self._last_ts_ns[stream] = local_ts_ns

    # ------------------------------------------------------------------ queries

    def last_update_ns(self, stream: Stream) -> int | None:
        """Local receive time of the last update on ``stream``, ns; None if never."""
        return self._last_ts_ns.get(stream)

    def staleness_s(self, stream: Stream, now_ns: int) -> float:
        """Seconds since the last update on ``stream`` (``inf`` if never updated)."""
        last = self._last_ts_ns.get(stream)
        if last is None:
            return float("inf")
        return (now_ns - last) / _NS_PER_S

    def stale_streams(self, now_ns: int, timeout_s: float, streams: tuple[Stream, ...] = (Stream.BOOK, Stream.TICKER)) -> tuple[Stream, ...]:
        """The streams among ``streams`` not updated within ``timeout_s`` seconds of ``now_ns``."""
        return tuple(s for s in streams if self.staleness_s(s, now_ns) > timeout_s)

    def recent_trades(self, since_ns: int) -> list[TradeRecord]:
        """Trades with ``ts_ns >= since_ns``, oldest first."""
        out: list[TradeRecord] = []
        for tr in reversed(self.trades):
            if tr.ts_ns < since_ns:
                break
            out.append(tr)
        out.reverse()
        return out
