"""The one market-event array format shared by converters, the simulator and the backtester.

Every recorded or generated market data stream becomes a flat numpy array of
``MARKET_EVENT_DTYPE`` (the hftbacktest habit, STYLE.md §14): one row per event, both
timestamps on every row, sorted by ``exch_ts`` (stable, so events of one message keep their
order).

Fields and units:

- ``kind`` (u1): an ``EventKind``.
- ``side`` (i1): ``+1`` bid / buy, ``-1`` ask / sell, ``0`` not applicable. For ``TRADE`` it is
  the aggressor (taker) side.
- ``exch_ts`` (i8): exchange timestamp, ns since the Unix epoch.
- ``local_ts`` (i8): local receive timestamp, ns since the Unix epoch, as recorded (no clock
  offset removed; see ``thalex_mm.data.binance.median_clock_offset_ns``).
- ``price`` (f8): quote currency (USD/USDT) per base unit; for ``FUNDING_RATE`` the rate as a
  fraction per funding interval (e.g. ``0.0001`` = 1 bp).
- ``qty`` (f8): base units / contracts of the source market (BTC for Binance, USD contracts for
  Deribit Tardis files). ``0`` for kinds without a size.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

__all__ = [
    "BOOK_KINDS",
    "MARKET_EVENT_DTYPE",
    "EventKind",
    "concat_sorted",
    "empty_events",
    "events_from_columns",
]


class EventKind(IntEnum):
    """What one row of a market-event array means.

    Attributes:
        BOOK_CLEAR: start of a full snapshot; clear both sides of the book. price = qty = 0,
            side = 0.
        BOOK_LEVEL: the absolute size ``qty`` now resting at ``price`` on ``side``; ``qty == 0``
            deletes the level.
        TRADE: a public trade of ``qty`` at ``price``; ``side`` is the aggressor side.
        MARK: mark price (``price``), side 0.
        INDEX: index price (``price``), side 0.
        FUNDING_RATE: funding rate fraction in ``price``, side 0.
        BEST_BID_ASK: top of book from a ticker stream: ``side`` +1 = best bid, -1 = best ask,
            ``price``/``qty`` = that level. Informational; book builders should ignore it.
    """

    BOOK_CLEAR = 1
    BOOK_LEVEL = 2
    TRADE = 3
    MARK = 4
    INDEX = 5
    FUNDING_RATE = 6
    BEST_BID_ASK = 7


#: Kinds that change the order book.
BOOK_KINDS = frozenset({EventKind.BOOK_CLEAR, EventKind.BOOK_LEVEL})

MARKET_EVENT_DTYPE = np.dtype(
    [
        ("kind", "u1"),
        ("side", "i1"),
        ("exch_ts", "i8"),
        ("local_ts", "i8"),
        ("price", "f8"),
        ("qty", "f8"),
    ],
    align=False,  # packed, 34 bytes: no padding, so equal arrays are equal byte for byte
)


def empty_events(n: int = 0) -> np.ndarray:
    """A zero-filled event array of length ``n``."""
    return np.zeros(n, dtype=MARKET_EVENT_DTYPE)


def events_from_columns(
    kind: object,
    side: object,
    exch_ts: object,
    local_ts: object,
    price: object,
    qty: object,
) -> np.ndarray:
    """Build an event array from equally long columns (array-likes or scalars).

    Args:
        kind: ``EventKind`` values.
        side: +1 / -1 / 0.
        exch_ts: exchange timestamps, ns.
        local_ts: local timestamps, ns.
        price: quote currency.
        qty: base units.

    Returns:
        An unsorted ``MARKET_EVENT_DTYPE`` array.
    """
    cols = [np.asarray(c) for c in (kind, side, exch_ts, local_ts, price, qty)]
    n = max((c.size for c in cols if c.ndim > 0), default=1)
    out = np.zeros(n, dtype=MARKET_EVENT_DTYPE)
    for name, col in zip(
        ("kind", "side", "exch_ts", "local_ts", "price", "qty"), cols, strict=True
    ):
        out[name] = col
    return out


def concat_sorted(parts: list[np.ndarray]) -> np.ndarray:
    """Concatenate event arrays and sort them by ``exch_ts`` (stable: ties keep part order).

    Args:
        parts: event arrays; earlier parts win ties.

    Returns:
        One sorted ``MARKET_EVENT_DTYPE`` array.
    """
    parts = [p for p in parts if p.size]
    if not parts:
        return empty_events()
    arr = np.concatenate(parts) if len(parts) > 1 else parts[0].copy()
    order = np.argsort(arr["exch_ts"], kind="stable")
    return arr[order]
