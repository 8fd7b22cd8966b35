"""Checks for market-event arrays, separate from the converters (STYLE.md §14).

Each ``validate_*`` function returns ``None`` when the array is good and raises
``ValueError`` with a message naming the first bad row otherwise.
"""

from __future__ import annotations

import numpy as np

from thalex_mm.data.events import MARKET_EVENT_DTYPE, EventKind

__all__ = ["validate_book_uncrossed", "validate_events"]

_KNOWN_KINDS = np.array(sorted(int(k) for k in EventKind), dtype=np.uint8)


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def validate_events(arr: np.ndarray) -> None:
    """Check the structural rules every event array must follow.

    Rules: dtype is ``MARKET_EVENT_DTYPE``; every ``kind`` is an ``EventKind``; ``exch_ts`` is
    non-decreasing; ``price`` and ``qty`` are finite; ``qty >= 0``; ``side`` is in
    ``{-1, 0, +1}`` and is non-zero for ``BOOK_LEVEL``, ``TRADE`` and ``BEST_BID_ASK``; prices of
    ``BOOK_LEVEL`` and ``TRADE`` rows are ``> 0``.

    Args:
        arr: the event array.

    Raises:
        ValueError: the first broken rule, with the row index and the bad value.
    """
    if not isinstance(arr, np.ndarray) or arr.dtype != MARKET_EVENT_DTYPE:
        got = getattr(arr, "dtype", type(arr).__name__)
        raise ValueError(f"events: expected dtype MARKET_EVENT_DTYPE, got {got}")
    if arr.size == 0:
        return
    kind = arr["kind"]
    bad = ~np.isin(kind, _KNOWN_KINDS)
    if bad.any():
        i = _first(bad)
        raise ValueError(f"events[{i}].kind: got {int(kind[i])}, expected one of {list(EventKind)}")
    ts = arr["exch_ts"]
    back = np.diff(ts) < 0
    if back.any():
        i = _first(back) + 1
        raise ValueError(
            f"events[{i}].exch_ts: got {int(ts[i])} < previous {int(ts[i - 1])}, expected "
            "non-decreasing exchange timestamps"
        )
    for field in ("price", "qty"):
        col = arr[field]
        nonfinite = ~np.isfinite(col)
        if nonfinite.any():
            i = _first(nonfinite)
            raise ValueError(f"events[{i}].{field}: got {col[i]}, expected a finite number")
    neg = arr["qty"] < 0
    if neg.any():
        i = _first(neg)
        raise ValueError(f"events[{i}].qty: got {arr['qty'][i]}, expected >= 0")
    side = arr["side"]
    bad = (side < -1) | (side > 1)
    if bad.any():
        i = _first(bad)
        raise ValueError(f"events[{i}].side: got {int(side[i])}, expected -1, 0 or +1")
    sided = np.isin(kind, [EventKind.BOOK_LEVEL, EventKind.TRADE, EventKind.BEST_BID_ASK])
    bad = sided & (side == 0)
    if bad.any():
        i = _first(bad)
        raise ValueError(
            f"events[{i}].side: got 0 for {EventKind(int(kind[i])).name}, expected +1 or -1"
        )
    priced = np.isin(kind, [EventKind.BOOK_LEVEL, EventKind.TRADE])
    bad = priced & (arr["price"] <= 0)
    if bad.any():
        i = _first(bad)
        raise ValueError(f"events[{i}].price: got {arr['price'][i]}, expected > 0")


def validate_book_uncrossed(arr: np.ndarray) -> None:
    """Replay the book events and check best bid < best ask after every exchange timestamp.

    The check runs when the exchange timestamp changes (a message may cross the book
    transiently while its levels are applied) and at the end. Books with an empty side are not
    crossed.

    Args:
        arr: a sorted event array.

    Raises:
        ValueError: the book is crossed; names the row and both prices.
    """
    bids: dict[float, float] = {}
    asks: dict[float, float] = {}
    best_bid = -np.inf
    best_ask = np.inf
    kinds = arr["kind"].tolist()
    sides = arr["side"].tolist()
    prices = arr["price"].tolist()
    qtys = arr["qty"].tolist()
    ts = arr["exch_ts"].tolist()
    clear = int(EventKind.BOOK_CLEAR)
    level = int(EventKind.BOOK_LEVEL)
    n = len(kinds)
    for i in range(n):
        k = kinds[i]
        if k == level:
            p = prices[i]
            q = qtys[i]
            if sides[i] > 0:
                if q > 0:
                    bids[p] = q
                    if p > best_bid:
                        best_bid = p
                elif bids.pop(p, None) is not None and p == best_bid:
                    best_bid = max(bids) if bids else -np.inf
            else:
                if q > 0:
                    asks[p] = q
                    if p < best_ask:
                        best_ask = p
                elif asks.pop(p, None) is not None and p == best_ask:
                    best_ask = min(asks) if asks else np.inf
        elif k == clear:
            bids.clear()
            asks.clear()
            best_bid, best_ask = -np.inf, np.inf
        if (i + 1 == n or ts[i + 1] != ts[i]) and best_bid >= best_ask:
            raise ValueError(
                f"events[{i}] (exch_ts={ts[i]}): book crossed, best bid {best_bid} >= best ask "
                f"{best_ask}"
            )
